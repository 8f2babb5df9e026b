"""The review chain in the reports: each meeting's state in the branch report, the per-上级党组织 table of the summary,
the return reason and submission explanation kept out of the public audience, and stores without review rows
(all drafts) — on SQLite and PostgreSQL; then one real notebook run (HTML and PDF text)."""
from __future__ import annotations

import datetime as dt
import html as htmllib
import re
import subprocess

import pandas as pd
import pytest

from orglife_nb.auth import add_account
from orglife_nb.auth.review import review
from orglife_nb.frames import load
from orglife_nb.models import Branch, Meeting, Member
from orglife_nb.reports.branch import BranchReport
from orglife_nb.reports.summary import SummaryReport
from orglife_nb.store import Store

PASSWORD = "review-report-pass-1"
DAY0 = dt.datetime(2026, 7, 1, 9, 30)
AS_OF = dt.date(2026, 8, 1)
CHECKED = dt.date(2026, 9, 1)  # the checks at submission: past every deadline, so each meeting has errors
SUPERIORS = {"B1": "机关党委", "B2": "机关党委", "B3": "街道党工委", "B4": None, "B5": "教育局党委"}
MEETINGS = {"M11": "B1", "M12": "B1", "M13": "B1", "M21": "B2", "M22": "B2", "M31": "B3", "M32": "B3",
            "M51": "B5"}
# (meeting, action, day after DAY0, who): what the test does; everything expected below is replayed from this
STEPS = [
    ("M21", "submit", 0, "sec"), ("M11", "submit", 1, "sec"), ("M21", "return", 1, "sup_a"),
    ("M12", "submit", 2, "sec"), ("M13", "submit", 2, "sec"), ("M32", "submit", 2, "sec"),
    ("M12", "return", 3, "sup_a"), ("M31", "submit", 3, "sec"), ("M32", "approve", 3, "sup_b"),
    ("M13", "approve", 4, "sup_a"), ("M21", "submit", 5, "sec"), ("M32", "reopen", 6, "sup_b"),
]
LABEL_AFTER = {"submit": "已提交", "approve": "已审核", "return": "退回", "reopen": "退回"}


def secret(meeting: str, action: str, day: int) -> str:
    """The reason or explanation text of a step: unique, so its absence from the public output means something."""
    return f"机密{meeting}{action}{day}<b>理由</b>"


def expected() -> dict[str, dict]:
    """Each meeting's state, submission day, last actor and words, replayed from STEPS (drafts when untouched)."""
    out = {m: {"state": "草稿", "submitted": None, "by": None, "at": None, "reason": None, "explanation": None}
           for m in MEETINGS}
    for meeting, action, day, who in STEPS:
        row = out[meeting]
        row.update(state=LABEL_AFTER[action], by=who, at=day)
        if action == "submit":
            row.update(submitted=day, explanation=secret(meeting, action, day), reason=None)
        elif action != "approve":  # an approval keeps the words it found
            row["reason"] = secret(meeting, action, day)
    return out


def build(store: Store, monkeypatch) -> Store:
    store.save({
        Branch: pd.DataFrame([{"branch_id": b, "name": f"{b}支部", "superior": s} for b, s in SUPERIORS.items()]),
        Member: pd.DataFrame([{"member_id": f"P{b}", "branch_id": b, "name": f"{b}书记", "role": "secretary"}
                              for b in SUPERIORS]),
        Meeting: pd.DataFrame([{"meeting_id": m, "branch_id": b, "kind": "regular", "topic": f"{m}主题",
                                "date": dt.date(2026, 6, 1)} for m, b in MEETINGS.items()]),
    })
    add_account(store, "sec", "secretary", PASSWORD, branches=sorted(set(MEETINGS.values())))
    add_account(store, "sup_a", "superior", PASSWORD, superior="机关党委")
    add_account(store, "sup_b", "superior", PASSWORD, superior="街道党工委")
    for meeting, action, day, who in STEPS:
        monkeypatch.setattr("orglife_nb.auth.review.now", lambda day=day: DAY0 + dt.timedelta(days=day))
        words = None if action == "approve" else secret(meeting, action, day)
        review(store.as_actor(who), action, meeting, reason=words, as_of=CHECKED)
    return store


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def reviewed_url(request, tmp_path_factory):
    """One store per backend for the module (the tests only read it): building it takes a dozen review steps."""
    from conftest import pg_database

    with pytest.MonkeyPatch.context() as monkeypatch:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('reviewed') / 'store.db'}"
            with Store(url) as store:
                build(store, monkeypatch)
            yield url
            return
        with pg_database(request.getfixturevalue("pg_admin_url")) as url:
            with Store(url) as store:
                build(store, monkeypatch)
            yield url


@pytest.fixture
def reviewed(reviewed_url):
    with Store(reviewed_url) as store:
        yield store


def rows_of(html: str, heading: str) -> list[list[str]]:
    """The body rows (cell texts, unescaped) of the first table in the section titled ``heading``."""
    part = html.split(f"<h2>{heading}</h2>", 1)[1].split("</section>", 1)[0]
    body = part.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[htmllib.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body)]


def header_of(html: str, heading: str) -> list[str]:
    part = html.split(f"<h2>{heading}</h2>", 1)[1]
    return re.findall(r"<th>(.*?)</th>", part.split("</thead>", 1)[0])


def reading_of(html: str, heading: str) -> str:
    part = html.split(f"<h2>{heading}</h2>", 1)[1]
    return htmllib.unescape(re.search(r'<p class="reading">(.*?)</p>', part).group(1))


def day(offset: int | None) -> str:
    return "" if offset is None else f"{DAY0 + dt.timedelta(days=offset):%Y-%m-%d}"


# ---- the branch report --------------------------------------------------------------------------------------


@pytest.mark.parametrize("audience", ["internal", "public"])
def test_branch_report_shows_each_meetings_state(reviewed, audience):
    want = expected()
    heading = "十一、审核情况" if audience == "internal" else "三、审核情况"
    for branch in ("B1", "B2", "B3"):
        html = str(BranchReport(reviewed, branch, as_of=AS_OF, audience=audience).review_status())
        header = header_of(html, heading)
        assert header == ["会议", "日期", "类型", "状态", "提交日期", "审核人", "审核日期"]
        rows = {row[0]: dict(zip(header, row)) for row in rows_of(html, heading)}
        assert set(rows) == {m for m, b in MEETINGS.items() if b == branch}
        for meeting, row in rows.items():
            w = want[meeting]
            assert row["状态"] == w["state"], meeting
            assert row["提交日期"] == day(w["submitted"]), meeting
            decided = w["state"] in ("已审核", "退回")
            assert row["审核人"] == (w["by"] if decided else ""), meeting
            assert row["审核日期"] == (day(w["at"]) if decided else ""), meeting
        worded = {m: (w["reason"] or "", w["explanation"] or "") for m, w in want.items()
                  if MEETINGS[m] == branch and (w["reason"] or w["explanation"])}
        if audience == "internal":
            # the words: a table of their own with a row for each meeting that has any, escaped, never markup
            words = html.split("<h3>退回理由与提交说明</h3>", 1)[1]
            assert re.findall(r"<th>(.*?)</th>", words) == ["会议", "状态", "退回理由", "提交说明"]
            assert {row[0]: (row[2], row[3]) for row in rows_of(f"<h2>x</h2>{words}", "x")} == worded
            assert "<b>理由</b>" not in html and "&lt;b&gt;理由&lt;/b&gt;" in html
        else:
            assert worded and "机密" not in html and "退回理由" not in html and "提交说明" not in html


def test_branch_verdict_names_the_state_and_the_reading_counts_it(reviewed):
    report = BranchReport(reviewed, "B1", as_of=AS_OF)
    verdict = str(report.verdict())
    header = header_of(verdict, "一、总体结论")
    states = {row[0]: row[header.index("审核")] for row in rows_of(verdict, "一、总体结论") if row[0] != "—"}
    assert states == {"M11": "已提交", "M12": "退回", "M13": "已审核"}
    assert reading_of(str(report.review_status()), "十一、审核情况") == \
        "共 3 次会议：已提交 1 次，已审核 1 次，退回 1 次，草稿 0 次。"


# ---- the summary report -------------------------------------------------------------------------------------


def per_superior() -> dict[str, dict]:
    """Counts and oldest waiting submission per 上级党组织, replayed from STEPS (not from the report's code)."""
    want = expected()
    out: dict[str, dict] = {}
    for branch, superior in SUPERIORS.items():
        entry = out.setdefault(superior or "（未填上级党组织）",
                               {"已提交": 0, "已审核": 0, "退回": 0, "草稿": 0, "oldest": None})
        for meeting in (m for m, b in MEETINGS.items() if b == branch):
            entry[want[meeting]["state"]] += 1
            if want[meeting]["state"] == "已提交":
                day = want[meeting]["submitted"]
                if entry["oldest"] is None or day < want[entry["oldest"]]["submitted"]:
                    entry["oldest"] = meeting
    return out


def waiting_cells(meeting: str | None) -> list[str]:
    if meeting is None:
        return ["", "", "", ""]
    submitted = DAY0 + dt.timedelta(days=expected()[meeting]["submitted"])
    return [meeting, f"{MEETINGS[meeting]}支部", f"{submitted:%Y-%m-%d}", str((AS_OF - submitted.date()).days)]


@pytest.mark.parametrize("audience", ["internal", "public"])
def test_summary_counts_per_superior_and_the_oldest_waiting(reviewed, audience):
    html = str(SummaryReport(reviewed, as_of=AS_OF, audience=audience).review_by_superior())
    heading = "六、审核情况" if audience == "internal" else "三、审核情况"
    assert header_of(html, heading) == ["上级党组织", "已提交", "已审核", "退回", "草稿", "最久待审核会议",
                                             "所在支部", "提交日期", "已等待（天）"]
    rows = rows_of(html, heading)
    want = per_superior()
    shown = {row[0]: row for row in rows[:-1]}
    assert set(shown) == set(want)
    for superior, entry in want.items():
        counts = [str(entry[k]) for k in ("已提交", "已审核", "退回", "草稿")]
        assert shown[superior][1:] == counts + waiting_cells(entry["oldest"]), superior
    # attention first: 机关党委's M11 has waited 30 days, 街道党工委's M31 28 days; the rest wait for nothing
    assert [row[0] for row in rows[:2]] == ["机关党委", "街道党工委"]
    assert all(row[8] == "" for row in rows[2:-1])
    # the total row: every meeting, and the oldest waiting submission of all
    total = rows[-1]
    assert total[0] == "合计"
    assert [int(n) for n in total[1:5]] == [sum(e[k] for e in want.values()) for k in ("已提交", "已审核", "退回", "草稿")]
    assert total[5:] == waiting_cells("M11") == ["M11", "B1支部", "2026-07-02", "30"]
    assert reading_of(html, heading) == (
        f"{len(want)} 个上级党组织，会议 {len(MEETINGS)} 次：已提交 3 次，已审核 1 次，退回 2 次，草稿 2 次。"
        "等待审核最久的是 M11（B1支部，2026-07-02 提交，已等待 30 天）。")
    assert "机密" not in html


def test_summary_under_one_superior_and_a_submission_after_the_as_of_date(reviewed):
    html = str(SummaryReport(reviewed, superior="街道党工委", as_of=dt.date(2026, 7, 2)).review_by_superior())
    rows = rows_of(html, "六、审核情况")
    assert [row[:5] for row in rows] == [["街道党工委", "1", "0", "1", "0"], ["合计", "1", "0", "1", "0"]]
    assert rows[0][5:] == ["M31", "B3支部", "2026-07-04", "0"]  # submitted after the as-of date: waits 0 days


def test_the_review_rows_come_with_the_frames_in_the_actors_scope(reviewed):
    frames = load(reviewed.as_actor("sup_b"))
    assert set(frames.reviews.meeting_id) == {"M31", "M32"}
    assert set(load(reviewed, ["B1"]).reviews.meeting_id) == {"M11", "M12", "M13"}


def test_a_prepared_chunk_gives_the_same_review_section(reviewed_url):
    from orglife_nb.reports import batch

    db_url = reviewed_url
    branches = list(SUPERIORS)
    alone = {b: str(BranchReport(db_url, b, as_of=AS_OF).review_status()) for b in branches}
    batch.prepare(db_url, branches, AS_OF.isoformat(), None)
    try:
        for branch in branches:
            report = BranchReport(db_url, branch, as_of=AS_OF)
            assert report.chunk is not None and str(report.review_status()) == alone[branch], branch
    finally:
        batch.release()


# ---- stores without review rows -----------------------------------------------------------------------------


def test_a_store_without_review_rows_shows_drafts(demo_store):
    frames = load(demo_store)
    assert frames.reviews.empty
    meetings = len(frames.meetings)
    summary = str(SummaryReport(demo_store, as_of=AS_OF).review_by_superior())
    assert f"会议 {meetings} 次：已提交 0 次，已审核 0 次，退回 0 次，草稿 {meetings} 次。" in reading_of(summary, "六、审核情况")
    branch = frames.branches.branch_id.iloc[0]
    for audience in ("internal", "public"):
        report = BranchReport(branch_id=branch, as_of=AS_OF, audience=audience, frames=frames)
        heading = "十一、审核情况" if audience == "internal" else "三、审核情况"
        rows = rows_of(str(report.review_status()), heading)
        assert rows and {row[3] for row in rows} == {"草稿"}


# ---- a real notebook run ------------------------------------------------------------------------------------


def test_notebook_runs_show_the_review_sections_and_keep_the_words_internal(tmp_path, monkeypatch):
    from orglife_nb.reports.runner import run_reports

    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store(url) as store:
        build(store, monkeypatch)
    runs = {audience: run_reports(url, branches=["B1", "B3"], as_of=AS_OF, out=tmp_path / audience,
                                  audience=audience, pdf=audience == "public", progress=False, echo=lambda _: None)
            for audience in ("internal", "public")}
    internal = (runs["internal"].out / "branches" / "B1.html").read_text(encoding="utf-8")
    assert "十一、审核情况" in internal and htmllib.escape(secret("M12", "return", 3)) in internal
    words = [secret(m, a, d) for m, a, d, _ in STEPS]
    for outcome in runs["public"].outcomes:
        assert outcome.status != "failed", outcome.error
        page = open(outcome.html, encoding="utf-8").read()
        assert "审核情况" in page
        assert not [w for w in words if w in page or htmllib.escape(w) in page], outcome.key
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", outcome.pdf, "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "审核情况" in text and "机密" not in text, outcome.key
