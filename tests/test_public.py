"""The public outputs' allow-lists, written out literally: which sections and which table columns the public
branch report and the public summary show (on the demo store), and which fields the public view of the data keeps.

A section or column added to a public output (the branch ranking in the public summary, ``summary`` among the
public meeting fields) must fail here; nothing below is read from the code under test.
"""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from orglife_nb import demo
from orglife_nb.frames import load

AS_OF = demo.DEMO_AS_OF

PUBLIC_BRANCH = [
    ("h2", "一、会议召开情况"), ("table", ["召开日期", "状态", "会议类型", "主题", "地点"]),
    ("h2", "二、整改清单"), ("table", ["编号", "问题", "责任类别", "责任人", "目标", "措施", "时限", "状态"]),
    ("h2", "三、审核情况"), ("table", ["会议", "日期", "类型", "状态", "提交日期", "审核人", "审核日期"]),
]
PUBLIC_SUMMARY = [
    ("h2", "一、整改超期情况"), ("table", ["支部编号", "支部名称", "已销号", "超期", "10 天内到期", "20 天内到期",
                                      "20 天后或未定时限"]),
    ("h2", "二、召开频次一览"), ("table", ["支部名称", "2025年上半年", "2025年下半年", "2026年上半年"]),
    ("h2", "三、审核情况"), ("table", ["上级党组织", "已提交", "已审核", "退回", "草稿", "最久待审核会议", "所在支部",
                                   "提交日期", "已等待（天）"]),
]
# the public view of the data: table → the columns that may hold anything; every other table is empty
PUBLIC_COLUMNS = {
    "branches": ["branch_id", "name", "superior", "unit_type", "has_committee", "has_leadership_group"],
    "members": ["member_id", "branch_id", "name", "role"],
    "meetings": ["meeting_id", "branch_id", "kind", "year", "half", "topic", "date", "place"],
    "rectifications": ["item_id", "meeting_id", "problem", "category", "owner", "goal", "measures", "deadline",
                       "status", "done_date"],
    "reviews": ["meeting_id", "state", "updated_by", "updated_at", "submitted_at", "version"],
}
BRANCH_SECTIONS = ("header", "verdict", "meetings_list", "timelines", "talk_coverage", "criticism_coverage",
                   "attendance", "evaluation", "rectification", "cadence", "findings_list", "review_status")
SUMMARY_SECTIONS = ("header", "compliance_by_rule", "branch_ranking", "overdue_rectification", "cadence_grid",
                    "report_lateness", "review_by_superior")


def outline(html: str) -> list[tuple[str, object]]:
    """Section headings and each table's column headers, in document order."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for element in soup.find_all(["h1", "h2", "h3", "table"]):
        if element.name == "table":
            found.append(("table", [th.get_text() for th in element.find("tr").find_all("th")]))
        else:
            found.append((element.name, element.get_text()))
    return found


def _rendered(report, sections) -> str:
    return "".join(str(part) for part in (getattr(report, name)() for name in sections) if part is not None)


@pytest.fixture(scope="module")
def demo_frames(demo_store):
    return load(demo_store)


def test_public_branch_report_of_every_demo_branch_shows_exactly_the_allowed_sections(demo_frames):
    from orglife_nb.reports.branch import BranchReport

    for branch_id in demo_frames.branches.branch_id:
        report = BranchReport(branch_id=branch_id, as_of=AS_OF, frames=demo_frames, audience="public")
        assert outline(_rendered(report, BRANCH_SECTIONS)) == PUBLIC_BRANCH, branch_id


def test_public_summary_shows_exactly_the_allowed_sections(demo_frames):
    from orglife_nb.reports.summary import SummaryReport

    summary = SummaryReport(as_of=AS_OF, frames=demo_frames, audience="public")
    assert outline(_rendered(summary, SUMMARY_SECTIONS)) == PUBLIC_SUMMARY


def test_public_notebook_runs_show_exactly_the_allowed_sections(demo_store, tmp_path):
    """The same through papermill and nbconvert, as `orglife report --audience public` publishes them."""
    from orglife_nb.reports.runner import run_reports

    run = run_reports(demo_store, branches=["B001"], as_of=AS_OF, out=tmp_path, audience="public", progress=False,
                      echo=lambda _: None)
    assert run.failed == 0, [o.error for o in run.outcomes]
    branch = (tmp_path / "branches" / "B001.html").read_text(encoding="utf-8")
    summary = (tmp_path / "summary.html").read_text(encoding="utf-8")
    # the notebook's own title (h1, from its first markdown cell) is removed from the export
    assert [item for item in outline(branch) if item[0] != "h1"] == PUBLIC_BRANCH
    assert [item for item in outline(summary) if item[0] != "h1"] == PUBLIC_SUMMARY


def test_public_meeting_and_rectification_fields_are_the_allow_list():
    from orglife_nb.reports.branch import PUBLIC_MEETING_FIELDS, PUBLIC_RECTIFICATION_FIELDS

    assert PUBLIC_MEETING_FIELDS == PUBLIC_COLUMNS["meetings"]
    assert PUBLIC_RECTIFICATION_FIELDS == PUBLIC_COLUMNS["rectifications"]


def test_the_public_view_of_the_data_holds_only_the_allowed_columns(demo_frames):
    import dataclasses
    import datetime as dt

    from orglife_nb.reports.branch import publishable
    from orglife_nb.store.review import rows

    # the demo has no review rows: one with every column filled (a returned meeting's reason and explanation)
    stamp = dt.datetime(2026, 11, 1, 9, 0)
    reviews = rows([{"meeting_id": demo_frames.meetings.meeting_id.iloc[0], "state": "returned", "reason": "理由",
                     "explanation": "说明", "updated_by": "sup", "updated_at": stamp, "submitted_at": stamp,
                     "version": 2}])
    public = publishable(dataclasses.replace(demo_frames, reviews=reviews))
    for table, frame in ((name, getattr(public, name)) for name in demo_frames.__dataclass_fields__):
        filled = [column for column in frame.columns if frame[column].notna().any()]
        allowed = PUBLIC_COLUMNS.get(table, [])
        assert set(filled) <= set(allowed), (table, sorted(set(filled) - set(allowed)))
        # and the demo does fill every allowed column, so the comparison above means something
        assert set(filled) == set(allowed) or table == "branches", (table, sorted(set(allowed) - set(filled)))
