"""Kernel-free tests of the forms: build the widgets, set values as a user would, press save, read the store."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from orglife_nb.forms import BallotForm, RecordForm, Scope, Session, WorkbookPanel, app
from orglife_nb.models import (RECORDS, Attendance, Ballot, Branch, CellError, Meeting, Member, Talk, field_of,
                               fields_of, parse_date)
from orglife_nb.store import Store
from orglife_nb.store.writer import CountClosed, Edit, VersionConflict
from orglife_nb.present.html import esc

XSS = "<img src=x onerror=alert(1)>"
TODAY = dt.date.today()
SOON = TODAY + dt.timedelta(days=40)


def seed(db: str) -> None:
    """A branch with a committee (书记, 委员, 党员) and four meetings to come, one per test topic."""
    branch = pd.DataFrame([{"branch_id": "B1", "name": "测试支部", "unit_type": "organ", "has_committee": True}])
    members = pd.DataFrame([
        {"member_id": "M1", "branch_id": "B1", "name": "张书记", "role": "secretary", "status": "full"},
        {"member_id": "M2", "branch_id": "B1", "name": "李委员", "role": "committee", "status": "full"},
        {"member_id": "M3", "branch_id": "B1", "name": "王党员", "role": "member", "status": "full"},
    ])
    meetings = pd.DataFrame([
        {"meeting_id": f"MT{i}", "branch_id": "B1", "kind": "regular", "topic": f"第{i}次会议",
         "date": SOON + dt.timedelta(days=i), "host_id": "M1", "with_evaluation": True, "rating_scheme": "four"}
        for i in range(1, 5)] + [
        # last year's year-end meeting, held without the evaluation (one finding; keeps EVAL-COMBINED busy)
        {"meeting_id": "MT0", "branch_id": "B1", "kind": "regular", "topic": "去年年底会议",
         "date": dt.date(TODAY.year - 1, 12, 10), "host_id": "M1"}])
    with Store(db) as store:
        store.save({Branch: branch, Member: members, Meeting: meetings})


def _seeded(db: str):
    seed(db)
    opened = Session(db)
    yield opened
    opened.close()


@pytest.fixture
def session(sqlite_url):
    yield from _seeded(sqlite_url)


@pytest.fixture
def any_session(db_url):
    """The same, on SQLite and PostgreSQL."""
    yield from _seeded(db_url)


def scope(meeting: str = "MT1") -> Scope:
    return Scope(branch_id="B1", meeting_id=meeting)


# ---- the generator -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("record", [r for r in RECORDS if r is not Ballot], ids=lambda r: r.table)
def test_every_record_kind_gets_a_generated_form(session, record):
    form = RecordForm(session, record, scope())
    expected = [f for f in fields_of(record) if f.name not in form.fixed]
    assert list(form.inputs) == [f.name for f in expected]
    for spec in expected:
        field = form.inputs[spec.name]
        # the header is the input's own label (its description), so the input has an accessible name
        assert field.input.description.startswith(esc(spec.header)) and field.input.description_allow_html
        assert ("f-required" in field.input.description) == spec.required
        if spec.kind == "enum":
            assert [label for label, _ in field.input.options[1:]] == spec.enum.labels()
        if spec.ref == "members":
            assert ("张书记（M1）", "M1") in field.input.options
    # required fields empty: the form refuses to save until they are filled
    assert form.save_button.disabled == any(f.required for f in expected)


def test_each_invalid_field_shows_the_parsers_chinese_reason_and_blocks_save(session):
    form = RecordForm(session, Talk, scope())
    form.inputs["talker"].text, form.inputs["talkee"].text = "M1", "M3"
    assert form.errors() == {} and not form.save_button.disabled
    form.inputs["date"].text = "2026-02-30"
    assert form.errors() == {"date": "不是有效的日期（该月没有这一天）"}
    assert "该月没有这一天" in form.inputs["date"].message.value
    assert form.save_button.disabled
    form.inputs["date"].text = "明天"
    with pytest.raises(CellError) as reason:
        parse_date("明天")
    assert form.errors()["date"] == str(reason.value)
    assert form.save() is False
    assert "未保存" in form.status.value
    assert session.rows(Talk, meeting_id="MT1").empty  # nothing stored
    form.inputs["date"].text = ""
    assert not form.save_button.disabled  # an empty optional date is fine again


def test_saving_a_talk_stores_the_row_and_closes_the_gap_in_the_matrix(session):
    forms = app(session, first_tab=4)
    forms.choose_meeting("MT1")
    assert "谈心谈话覆盖（会议计划召开，待谈 3 对）" in forms.guidance.value
    talk = forms.form(Talk)
    talk.set_values(date=TODAY, talker="M1", talkee="M3", summary="谈思想")
    assert talk.save() is True
    assert "已保存" in talk.status.value and "谈心谈话 新增 1 行" in talk.status.value
    stored = session.rows(Talk, meeting_id="MT1")
    assert stored[["talker", "talkee", "summary", "version"]].values.tolist() == [["M1", "M3", "谈思想", 1]]
    assert stored.date.tolist() == [TODAY]
    assert "谈心谈话覆盖（会议计划召开，待谈 2 对）" in forms.guidance.value
    # the form is ready for the next talk; the saved one is chosen from the list to correct it
    assert talk.version is None
    assert talk.inputs["talker"].text == "" and talk.inputs["date"].text == ""
    talk.chooser.value = str(stored.row_id[0])
    assert talk.version == 1 and talk.inputs["summary"].text == "谈思想"
    talk.inputs["summary"].text = "谈工作"
    assert talk.save() and session.rows(Talk, meeting_id="MT1").summary.tolist() == ["谈工作"]
    assert session.rows(Talk, meeting_id="MT1").version.tolist() == [2]


def test_the_findings_and_countdowns_refresh_after_a_save(session):
    forms = app(session)
    forms.choose_meeting("MT2")
    assert "通知" in forms.guidance.value and "g-steps" in forms.guidance.value
    before = forms.guidance.value.count("<tr>")
    meeting = forms.form(Meeting)
    assert meeting.chooser.value == "MT2"  # the meeting form follows the page's choice
    meeting.set_values(notice_date=TODAY, superior_notice_date=TODAY, plan_sent=TODAY, plan_approved=True)
    assert meeting.save()
    assert forms.guidance.value.count("<tr>") < before


def test_a_stale_save_is_refused_with_the_current_values_and_overwrites_nothing(session):
    first, second = RecordForm(session, Meeting, scope()), RecordForm(session, Meeting, scope())
    for form in (first, second):
        form.chooser.value = "MT1"
        assert form.version == 1
    first.inputs["topic"].text = "甲改的主题"
    second.inputs["topic"].text = "乙改的主题"
    assert first.save() is True
    assert second.save() is False
    assert "已被他人修改" in second.status.value and "第 1 版" in second.status.value
    assert "甲改的主题" in second.status.value  # the current values are shown
    assert session.rows(Meeting, branch_id="B1").set_index("meeting_id").topic["MT1"] == "甲改的主题"
    assert second.inputs["topic"].text == "乙改的主题"  # the user's text is kept until they reload
    second.reload_current()
    assert second.inputs["topic"].text == "甲改的主题" and second.version == 2


def test_a_unit_of_edits_with_one_conflict_writes_nothing(session):
    meeting = session.rows(Meeting, meeting_id="MT1").iloc[0].drop(["version"]).to_dict()
    talk = {"meeting_id": "MT1", "talker": "M1", "talkee": "M2", "date": TODAY}
    with pytest.raises(VersionConflict) as conflict:
        session.save([Edit(Talk, talk), Edit(Meeting, {**meeting, "topic": "新"}, version=7)])
    assert conflict.value.current["topic"] == "第1次会议" and conflict.value.version == 1
    assert session.rows(Talk, meeting_id="MT1").empty
    # a new record whose id somebody else has just taken is a conflict too, not an overwrite
    with pytest.raises(VersionConflict, match="已被他人先录入"):
        session.save([Edit(Meeting, {**meeting, "topic": "重复"})])


def test_versions_on_both_backends(any_session):
    session = any_session
    form = RecordForm(session, Attendance, scope())
    form.set_values(member_id="M3", presence="leave", reason="出差", written_statement=True)
    assert form.save()
    row = session.rows(Attendance, meeting_id="MT1").iloc[0]
    form.chooser.value = str(row.row_id)  # the clerk opens the row…
    assert form.version == 1 and form.inputs["reason"].text == "出差"
    stale = Edit(Attendance, {**row.drop(["version", "row_id"]).to_dict(), "reason": "病假"},
                 version=int(row.version), row_id=int(row.row_id))
    session.save([stale])
    with pytest.raises(VersionConflict):
        session.save([stale])
    assert session.rows(Attendance, meeting_id="MT1").reason.tolist() == ["病假"]
    assert form.save(delete=True) is False and "已被他人修改" in form.status.value  # a stale delete too
    assert len(session.rows(Attendance, meeting_id="MT1")) == 1
    form.refresh()
    assert form.delete_button.disabled is False
    assert form.save(delete=True) and session.rows(Attendance, meeting_id="MT1").empty


# ---- ballots ---------------------------------------------------------------------------------------------------


def test_ballots_are_anonymous_and_the_tally_stays_hidden_until_the_count_is_closed(any_session):
    session = any_session
    form = BallotForm(session, scope("MT3"))
    assert form.save_button.disabled  # nothing chosen yet
    form.set_levels(M1="优秀", M2="合格", M3="合格")
    assert form.save()
    form.voter_type.text = "public"
    form.set_levels(M1="excellent", M3="基本合格")
    assert form.save()
    stored = session.rows(Ballot, meeting_id="MT3")
    assert sorted(stored.ballot_no.unique()) == ["1", "2"] and len(stored) == 5
    assert set(stored.columns) == {f.name for f in fields_of(Ballot)} | {"version", "row_id"}  # no voter column
    assert "已录入 2 张" in form.count.value and form.tally.value == ""
    assert form.close_button.disabled  # needs the confirmation tick
    form.confirm.value = True
    assert form.close_count()
    assert "计票已结束" in form.count.value
    tally = pd.read_html(io.StringIO(form.tally.value), index_col=0)[0]
    assert tally.loc["张书记", "优秀"] == 2 and tally.loc["王党员", "基本合格"] == 1
    assert tally.loc["合计", "合计"] == 5 and tally.loc["李委员", "合计"] == 1
    assert form.save_button.disabled and all(d.disabled for d in form.levels.values())
    with pytest.raises(CountClosed):  # the store refuses too, whatever the page does
        session.save([Edit(Ballot, {"meeting_id": "MT3", "ballot_no": "9", "rated_id": "M1", "level": "excellent"})])
    assert len(session.rows(Ballot, meeting_id="MT3")) == 5
    # nor can a workbook import replace the counted ballots
    batch = {Ballot: pd.DataFrame([{"meeting_id": "MT3", "ballot_no": "1", "rated_id": "M2", "level": "unqualified"}])}
    with pytest.raises(CountClosed, match="结束计票"):
        session.store.save(batch)
    assert len(session.rows(Ballot, meeting_id="MT3")) == 5


def test_ballot_levels_follow_the_meetings_scheme(session):
    meeting = session.rows(Meeting, meeting_id="MT4").iloc[0]
    session.save([Edit(Meeting, {**meeting.drop(["version"]).to_dict(), "rating_scheme": "three"}, version=1)])
    form = BallotForm(session, scope("MT4"))
    assert [label for label, _ in form.levels["M1"].options] == ["（不评）", "好", "一般", "差"]


def test_ballot_form_of_a_meeting_without_a_scheme_offers_the_four_levels(session):
    # MT0 was held without 民主评议: its 测评方案 is blank (NaN from the store), which used to raise ValueError
    form = BallotForm(session, scope("MT0"))
    assert [label for label, _ in form.levels["M1"].options] == ["（不评）", "优秀", "合格", "基本合格", "不合格"]


# ---- escaping ----------------------------------------------------------------------------------------------------


def test_user_text_is_escaped_everywhere_it_is_shown(session):
    forms = app(session)
    meeting = forms.form(Meeting)
    meeting.chooser.value = "MT1"
    meeting.inputs["topic"].text = XSS
    assert meeting.save()
    stale = RecordForm(session, Meeting, scope())
    stale.chooser.value = "MT1"
    stale.version = 1
    stale.inputs["topic"].text = "x"
    stale.save()
    markup = stale.status.value + forms.guidance.value + meeting.status.value
    assert "&lt;img src=x onerror=alert(1)&gt;" in stale.status.value
    assert "<img" not in markup
    assert any(XSS in label for label, _ in forms.meeting.options)  # a drop-down shows text, never markup


# ---- workbook ------------------------------------------------------------------------------------------------------


def test_workbook_export_then_import_and_a_bad_file_is_refused_with_every_problem(session, tmp_path):
    panel = WorkbookPanel(session, scope())
    content = panel.export()
    assert "download=" in panel.link.value and "base64," in panel.link.value
    assert panel.import_bytes("原样.xlsx", content)
    assert "内容与数据库一致" in panel.result.value
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book["会议"]
    headers = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=headers.index("召开日期") + 1, value="下周")
    sheet.cell(row=2, column=headers.index("主题") + 1, value="不应写入")
    sheet.cell(row=3, column=headers.index("主持人") + 1, value="M404")
    bad = io.BytesIO()
    book.save(bad)
    assert panel.import_bytes("坏.xlsx", bad.getvalue()) is False
    problems = pd.read_html(io.StringIO(panel.result.value.split("f-problems'>")[1]))[0]
    assert len(problems) == 2 and set(problems["工作表"]) == {"会议"}
    assert "未写入任何内容" in panel.result.value
    assert "不应写入" not in session.rows(Meeting, branch_id="B1").topic.tolist()


def test_serve_refuses_a_bad_database_in_chinese(tmp_path):
    from orglife_nb.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "无此目录" / "x.db")], standalone_mode=False)
    assert "目录不存在" in str(result.exception)


def test_field_kinds_map_to_inputs(session):
    form = RecordForm(session, Meeting, scope())
    assert form.inputs["date"].input.placeholder == "YYYY-MM-DD"
    assert [label for label, _ in form.inputs["plan_approved"].input.options] == ["（未填）", "是", "否"]
    form.inputs["hours"].text = "-1"
    assert form.errors()["hours"] == "不能为负数"
    form.inputs["year"].text = "2026.5"
    assert form.errors()["year"] == "应为整数"
    assert field_of(Meeting, "summary").confidential and form.inputs["summary"].input.__class__.__name__ == "Textarea"


def test_an_empty_store_starts_with_the_branch_form(sqlite_url):
    forms = app(sqlite_url, first_tab=0)
    members = forms.form(Member)
    assert forms.branch.options == () and "请先" in members.notice.value and members.save_button.disabled
    branch = forms.form(Branch)
    branch.set_values(branch_id="001", name="新支部", unit_type="community", has_committee=False)
    assert branch.save()
    assert forms.scope.branch_id == "001" and forms.branch.value == "001"
    assert members.notice.value == ""
    members.set_values(member_id="0001", name="刘书记", role="secretary")
    assert members.save() and "党员 新增 1 行" in members.status.value
    assert members.inputs["member_id"].input.disabled  # the id names the stored record now
    forms.session.close()


def test_named_questions_checklist_ticks_as_answers_are_saved(session):
    """rev 2: an organ branch's special meeting lists its five named questions; saving an answer ticks it; the
    criticism form offers 通报 to the 班子, the rating form a helper, attendance 灵活参加."""
    from orglife_nb.forms.questions import QuestionsPanel
    from orglife_nb.models import Criticism, Rating, Response

    forms = app(session)
    forms.choose_meeting("MT1")
    panel = forms.form(QuestionsPanel)
    assert "没有本单位类型的规定问题" in panel.list.value  # a 组织生活会: the profile asks it of special meetings
    meeting = forms.form(Meeting)
    meeting.set_values(kind="special", start_time="9:00")
    assert meeting.save() is True and session.rows(Meeting, meeting_id="MT1").start_time.tolist() == ["09:00"]
    assert panel.list.value.count("未回应") == 5 and "担当意识强不强" in panel.list.value
    answer = panel.form
    answer.set_values(source="required", question="担当意识", responder="M1", summary="担当意识较强，个别同志仍需提高")
    assert answer.save() is True
    assert panel.list.value.count("未回应") == 4 and "✓ 已回应" in panel.list.value
    assert session.rows(Response, meeting_id="MT1").question.tolist() == ["担当意识"]
    # the other stages offer the rev 2 entries
    criticism = forms.form(Criticism)
    assert ("班子", "班子") in criticism.inputs["target"].input.options
    assert "通报" in [label for label, _ in criticism.inputs["act"].input.options]
    assert "helper" in forms.form(Rating).inputs
    assert "灵活参加" in [label for label, _ in forms.form(Attendance).inputs["presence"].input.options]
