"""The review bar and the record history in the forms, driven without a browser on SQLite and PostgreSQL: each account
sees only its own steps, refusals show as Chinese messages, an approved meeting's forms are locked (and the store
refuses them anyway), the history lists the audit trail newest first, escaped."""
from __future__ import annotations

import datetime as dt

from orglife_nb import rules
from orglife_nb.auth import review as review_module
from orglife_nb.auth import add_account
from orglife_nb.forms import FormsApp
from orglife_nb.forms.ballots import BallotForm
from orglife_nb.forms.review import HISTORY_LIMIT, history_html
from orglife_nb.models import Meeting, Member, Talk
from orglife_nb.present.values import missing
from orglife_nb.store import Store
from orglife_nb.store.review import review_frame
from test_review import AFTER, DAY, PASSWORD
from test_review import seed as seed_chain

SCRIPT = "<script>alert(1)</script>"


def seed(store: Store) -> Store:
    """test_review's branch, meeting and accounts (sec1, sup1 for B1), and an admin."""
    seed_chain(store)
    add_account(store, "adm1", "admin", PASSWORD)
    return store


def page(store: Store, account: str) -> FormsApp:
    """The page as the account sees it after logging in (a fresh load; the guidance's checks are not waited for)."""
    return FormsApp(store, as_of=AFTER, actor=account, defer_guidance=True)


def shown(app: FormsApp) -> list[str]:
    """The review steps the page offers."""
    return [action for action, button in app.review.buttons.items() if button.layout.display != "none"]


def state(store: Store) -> str:
    with store.engine.connect() as connection:
        return review_frame(connection, ["MT"]).state.iloc[0]


def talk(app: FormsApp):
    form = app.form(Talk)
    form.set_values(talker="M1", talkee="M2", date=DAY, summary="谈话")
    return form


def test_the_review_chain_in_the_forms(store):
    seed(store)
    sec = page(store, "sec1")
    assert sec.scope.meeting_id == "MT" and "草稿" in sec.review.state_html.value
    assert shown(sec) == ["submit"] and sec.review.text.layout.display == "none"

    # errors left: refused, the errors listed, an explanation asked for; nothing changed
    assert not sec.review.act("submit")
    assert state(store) == "draft"
    assert "处违规，未提交" in sec.review.message.value and sec.review.errors.value.count("<li>") >= 1
    assert sec.review.text.layout.display == "" and "说明" in sec.review.text.placeholder
    assert sec.review.act("submit") is False and state(store) == "draft"  # still no explanation
    sec.review.text.value = "会议记录正在整理"
    assert sec.review.act("submit")
    assert state(store) == "submitted"
    assert "已提交" in sec.review.state_html.value and "提交说明：会议记录正在整理" in sec.review.state_html.value
    assert shown(sec) == [] and sec.review.errors.value == "" and sec.review.text.layout.display == "none"
    assert "等待上级党组织审核" in page(store, "sec1").review.message.value

    # the superior: approve or return; a return needs its reason
    sup = page(store, "sup1")
    assert shown(sup) == ["approve", "return"] and sup.review.text.layout.display == ""
    assert not sup.review.act("return")
    assert "退回须说明理由" in sup.review.message.value and state(store) == "submitted"
    sup.review.text.value = f"缺少会议记录{SCRIPT}"
    assert sup.review.act("return") and state(store) == "returned"
    assert shown(sup) == [] and "等待支部书记提交审核" in page(store, "sup1").review.message.value

    # the secretary sees the return and its reason (escaped), and resubmits
    sec = page(store, "sec1")
    bar = sec.review.state_html.value
    assert "退回" in bar and "sup1" in bar and "退回理由：缺少会议记录&lt;script&gt;" in bar and SCRIPT not in bar
    assert shown(sec) == ["submit"] and sec.review.text.layout.display == "none"
    assert not sec.review.act("submit")
    sec.review.text.value = "已补充"
    assert sec.review.act("submit") and state(store) == "submitted"

    # approved: every form of the meeting is locked, the store refuses what a stale page still sends
    stale = talk(page(store, "sec1"))
    assert not stale.save_button.disabled
    sup.review.show()
    assert sup.review.act("approve") and state(store) == "approved"
    assert "已审核" in sup.review.state_html.value and shown(sup) == ["reopen"]
    assert sup.scope.locked and sup.form(Meeting).save_button.disabled  # the superior's own page refreshed
    sec = page(store, "sec1")
    assert shown(sec) == []
    for kind in (Talk, Meeting):
        form = sec.form(kind)
        assert form.save_button.disabled and "记录已锁定" in form.lock_note.value
    ballots = sec.form(BallotForm)
    assert ballots.save_button.disabled and "记录已锁定" in ballots.lock_note.value
    assert sec.form(Member).lock_note.value == ""  # members are not the meeting's records
    assert not stale.save()
    assert "已审核，记录已锁定" in stale.status.value
    assert store.read(Talk).empty

    # reopened with a reason: unlocked again
    assert not sup.review.act("reopen") and "重新打开须说明理由" in sup.review.message.value
    sup.review.text.value = "主题有误"
    assert sup.review.act("reopen") and state(store) == "returned"
    sec = page(store, "sec1")
    form = talk(sec)
    assert not form.save_button.disabled and form.lock_note.value == ""
    assert form.save() and len(store.read(Talk)) == 1


def test_a_secretary_never_sees_the_reviewers_steps_and_an_admin_sees_both_sides(store):
    seed(store)
    seen = set()
    for account, action, reason in [("sec1", "submit", "说明"), ("adm1", "return", "补充"), ("sec1", "submit", "说明"),
                                    ("adm1", "approve", None), ("adm1", "reopen", "再改")]:
        sec = page(store, "sec1")
        seen.update(shown(sec))
        assert not {"approve", "return", "reopen"} & set(shown(sec))
        actor = page(store, account)
        assert action in shown(actor)
        actor.review.text.value = reason or ""
        assert actor.review.act(action), actor.review.message.value
    assert seen == {"submit"}
    assert shown(page(store, "adm1")) == ["submit"]  # the admin may submit a returned meeting too


def test_refusals_show_in_the_page_never_raise(store, monkeypatch):
    seed(store)
    sup = page(store, "sup1")
    sec = page(store, "sec1")
    sec.review.text.value = "说明"
    assert sec.review.act("submit")
    # the superior's page is stale (it still shows 草稿): a step the state no longer allows is refused in words
    sup.review.text.value = "理由"
    assert not sup.review.act("reopen")
    assert "现在是“已提交”，不能重新打开" in sup.review.message.value
    assert shown(sup) == ["approve", "return"]  # the refusal re-read the state

    def broken(*args, **kwargs):
        raise RuntimeError("connection lost")

    monkeypatch.setattr("orglife_nb.forms.review.review", broken)
    sup.review.text.value = "理由"
    assert not sup.review.act("return")
    assert "操作未能完成（RuntimeError）" in sup.review.message.value


def test_a_clean_submission_shows_its_new_state_at_once(store):
    """Submitted with nothing for the checks to object (no explanation stored): the bar read its state back and
    crashed on the missing explanation, so the page kept showing 草稿 although the store said 已提交."""
    seed(store)
    sec = FormsApp(store, as_of=DAY - dt.timedelta(days=30), actor="sec1", defer_guidance=True)  # nothing due yet
    assert "草稿" in sec.review.state_html.value
    assert sec.review.act("submit")
    with store.engine.connect() as connection:
        row = review_frame(connection, ["MT"]).iloc[0]
    assert row.state == "submitted" and missing(row.explanation)
    assert "已提交" in sec.review.state_html.value and "草稿" not in sec.review.state_html.value
    assert "会议现在是“已提交”" in sec.review.message.value and shown(sec) == []


def test_a_step_says_at_once_that_it_runs_and_a_refused_submission_checks_once(store, monkeypatch):
    seed(store)
    sec = page(store, "sec1")
    seen, runs = [], []
    real_review, real_checks = review_module.review, rules.run_checks

    def watched(*args, **kwargs):  # what the page shows while the step (and its checks) runs
        seen.append((sec.review.message.value, [b.disabled for b in sec.review.buttons.values()]))
        return real_review(*args, **kwargs)

    def counted(*args, **kwargs):
        runs.append(1)
        return real_checks(*args, **kwargs)

    monkeypatch.setattr("orglife_nb.forms.review.review", watched)
    monkeypatch.setattr(rules, "run_checks", counted)
    assert not sec.review.act("submit")  # errors left: refused and listed
    assert "处违规，未提交" in sec.review.message.value and sec.review.errors.value.count("<li>") >= 1
    assert len(runs) == 1  # the listed errors are the refusal's own, not a second run of the checks
    assert "正在提交审核" in seen[0][0] and all(seen[0][1])
    assert not any(b.disabled for b in sec.review.buttons.values())  # held only while the step runs
    sec.review.text.value = "会议记录正在整理"
    assert sec.review.act("submit") and "已提交" in sec.review.state_html.value
    assert not any(b.disabled for b in sec.review.buttons.values())


def test_the_history_panel_lists_the_meetings_entries_newest_first_escaped(store):
    seed(store)
    sec = page(store, "sec1")
    panel = sec.review.history
    assert panel.body.value == ""  # closed: nothing read
    meeting = sec.form(Meeting)
    meeting.set_values(topic=f"新主题{SCRIPT}")
    assert meeting.save()
    assert panel.body.value == ""
    panel.widget.selected_index = 0
    body = panel.body.value
    assert "修改" in body and "会议 MT" in body and "sec1" in body
    assert "主题：主题 → 新主题&lt;script&gt;alert(1)&lt;/script&gt;" in body and SCRIPT not in body
    assert "共 2 条" in body  # the seed's insert and the form's change
    # open: a save and a review step show at once, newest first
    assert talk(sec).save()
    sec.review.text.value = "说明"
    assert sec.review.act("submit")
    rows = panel.body.value.split("<tbody>")[1].split("</tr>")
    assert "提交" in rows[0] and "谈心谈话" in rows[1] and "修改" in rows[2]
    assert "共 4 条" in panel.body.value


def test_the_history_is_bounded_to_the_latest_entries(store):
    seed(store)
    sec = page(store, "sec1")
    form = sec.form(Meeting)
    for n in range(4):
        form.set_values(topic=f"主题{n}")
        assert form.save()
    latest = store.history(meeting="MT", limit=3)
    assert list(latest.id) == sorted(latest.id) and len(latest) == 3  # the latest three, still oldest first
    assert list(latest.detail) == [f'{{"topic": ["主题{n}", "主题{n + 1}"]}}' for n in range(3)]
    html = history_html(latest, "MT", limit=2)
    assert "只显示最近 2 条" in html and "orglife history --meeting MT" in html
    assert html.index("主题2 → 主题3") < html.index("主题1 → 主题2") and "主题0 → 主题1" not in html
    assert HISTORY_LIMIT == 200
