"""After-the-meeting rules: rectification (RECT-*: 整改) and the meeting's follow-up (POST-*: 报告、转告、通报).

Follow-up work without a number of its own in the seeds (publishing the list, telling absentees, feeding back
ratings) is due with the report to the superior (``report_days``): pending until then, a violation after.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..models import Presence, RectStatus, Responsibility
from .common import concat, dated_step, emit, fmt, missing, recorded_after, unset_or_refused
from .context import LEADERSHIP, day_count
from .meeting import held_roster, blank
from .steps import STEPS
from .registry import ALL, BRANCH_MEETINGS, register

FOUR_CLEAR = (("goal", "目标"), ("measures", "措施"), ("owner", "责任人"), ("deadline", "时限"),
              ("category", "责任类别"))
FINISHED = (RectStatus.done.value, RectStatus.closed.value)


def items(ctx, meetings: pd.DataFrame) -> pd.DataFrame:
    """Rectification items of ``meetings`` with branch and a ``finished`` flag (已完成 or 已销号)."""
    r = ctx.only(ctx.frames.rectifications, meetings)
    r = r.merge(meetings[["meeting_id", "branch_id", "date", "held", "report_due"]], on="meeting_id")
    finished = r.status.isin(FINISHED) | (r.status.isna() & r.done_date.notna())
    return r.assign(finished=finished.astype(bool))


@register("RECT-PRESENT", "RECT", "查摆出整改事项", "warning", ALL, "003 民主 三.3；003 四.1",
          branch="003 四.1", no_committee="003 四.1", leadership="003 民主 三.3")
def present(ctx) -> pd.DataFrame:
    """The meeting produced at least one rectification item (not '只讲成绩不讲问题')."""
    m = ctx.held
    m = m[~m.meeting_id.isin(ctx.frames.rectifications.meeting_id)]
    return missing(ctx, m, "会议没有形成任何整改事项（只讲成绩不讲问题）", due=m.report_due)


@register("RECT-FOUR-CLEAR", "RECT", "整改四个明确", "error", ALL, "003 四.1；000 第三篇 第五步；003 民主 四.1",
          branch="003 四.1；000 第三篇 第五步", no_committee="003 四.1；000 第三篇 第五步", leadership="003 民主 四.1")
def four_clear(ctx) -> pd.DataFrame:
    """Every item states 目标, 措施, 责任人 and 时限 (四个明确) and a responsibility category (单位/党组织/个人)."""
    r = items(ctx, ctx.held)
    gaps = {label: blank(r[column]).to_numpy() for column, label in FOUR_CLEAR}
    r = r[np.logical_or.reduce(list(gaps.values()))] if len(r) else r  # words only for the items lacking one
    keep = r.index
    lacking = pd.Series("", index=keep, dtype=object)
    for column, label in FOUR_CLEAR:
        lacking = lacking + np.where(blank(r[column]), label + "、", "")
    r = r.assign(lacking=lacking.str.rstrip("、"))
    return emit(r, fmt("整改事项 {item_id}（{problem}）缺少：{lacking}", r), subject="owner")


@register("RECT-PUBLIC", "RECT", "整改清单公示", "error", BRANCH_MEETINGS, "003 四.1；000 第三篇 第五步")
def public(ctx) -> pd.DataFrame:
    """组织生活会 / 专题组织生活会: the rectification list was publicised (公示), by the report's due date. (A 民主生活会
    tells cadres and masses its measures within a month instead: POST-PUBLIC-REPORT.)"""
    m = ctx.held
    m = m[m.meeting_id.isin(ctx.frames.rectifications.meeting_id) & m.rectification_published.isna()]
    return missing(ctx, m, "整改清单未公示，未接受群众监督", due=m.report_due)


@register("RECT-PERSONAL", "RECT", "个人整改措施与承诺", "warning", ALL,
          "000 第二篇 二.5；000 第五篇 (三)1；003 民主 四.1", branch="000 第二篇 二.5；000 第五篇 (三)1",
          no_committee="000 第二篇 二.5；000 第五篇 (三)1", leadership="003 民主 四.1")
def personal(ctx) -> pd.DataFrame:
    """组织生活会 / 专题组织生活会: every member present has a personal item (责任类别 个人, 责任人 = that member)
    publicly committed to (承诺 是); 民主生活会: every 班子成员 present has personal measures. Pending until the
    report deadline. A meeting with no item at all is RECT-PRESENT's finding."""
    m = ctx.held
    m = m[m.meeting_id.isin(ctx.frames.rectifications.meeting_id)]
    p = ctx.attach(ctx.present[["meeting_id", "branch_id", "member_id", "name", "kind"]], m, ["report_due"])
    r = ctx.only(ctx.frames.rectifications[["meeting_id", "category", "owner", "commitment"]], m)  # not the texts
    r = r[r.category.eq(Responsibility.individual.value) & r.owner.notna()]
    # a member's items: committed if any is 是, refused if none is 是 and one says 否, else not recorded; keyed by
    # (meeting, person) codes (a join on two categoricals of 600,000 items cost most of this rule)
    people = len(r.owner.cat.categories)
    key = r.meeting_id.cat.codes.to_numpy().astype(np.int64) * people + r.owner.cat.codes.to_numpy()
    per = pd.DataFrame({"committed": r.commitment.fillna(False).astype(bool).to_numpy(),
                        "said_no": r.commitment.eq(False).fillna(False).astype(bool).to_numpy()}).groupby(key).any()
    wanted = p.meeting_id.cat.codes.to_numpy().astype(np.int64) * people + p.member_id.cat.codes.to_numpy()
    at = per.index.get_indexer(wanted)  # -1: no personal item
    has = at >= 0
    committed, said_no = (np.append(per[column].to_numpy(dtype=bool), False)[at] for column in per)
    leadership = p.kind.eq(LEADERSHIP).fillna(False).to_numpy()
    none = p[~has]
    chosen = has & ~leadership & ~committed
    uncommitted = p[chosen]
    flag = pd.Series(np.where(said_no[chosen], False, None), index=uncommitted.index, dtype=object)
    return concat(
        recorded_after(ctx, none, fmt("{name} 没有个人整改措施（责任类别“个人”、责任人为本人）", none),
                       subject="member_id"),
        unset_or_refused(ctx, uncommitted, flag, "{name} 的个人整改事项未公开作出整改承诺", subject="member_id"),
    )


@register("RECT-OVERDUE", "RECT", "整改按时销号", "error", ALL, "003 四.3；003 民主 四.4",
          branch="003 四.3", no_committee="003 四.3", leadership="003 民主 四.4")
def overdue(ctx) -> pd.DataFrame:
    """An item not done (销号) by its 时限: still open after it, or finished later than it.

    Open items whose 时限 is still ahead are the ledger's business (``status``), not findings.
    """
    r = items(ctx, ctx.meetings)
    r = r[r.deadline.lt(ctx.as_of)]
    still_open = r[~r.finished]
    late = r[r.finished & r.done_date.gt(r.deadline)]
    still_open = still_open.assign(late=day_count(ctx.as_of - still_open.deadline))
    late = late.assign(late=day_count(late.done_date - late.deadline))
    return concat(
        emit(still_open, fmt("整改事项 {item_id}（{problem}）时限 {deadline} 已过，仍未完成销号（逾期 {late} 天）",
                             still_open), subject="owner", due=still_open.deadline, days=still_open.late),
        emit(late, fmt("整改事项 {item_id}（{problem}）于 {done_date} 才完成，超过时限 {deadline} {late} 天", late),
             subject="owner", due=late.deadline, days=late.late),
    )


@register("POST-REPORT", "POST", "会后报送情况报告", "error", ALL, "000 第一篇 3.1；003 四.2；003 民主 四.2",
          branch="000 第一篇 3.1；003 四.2", no_committee="000 第一篇 3.1；003 四.2", leadership="003 民主 四.2")
def report(ctx) -> pd.DataFrame:
    """The report (会议情况报告 + minutes copy + opinion summary) reaches the superior ≤ ``report_days`` after
    (民主生活会: ``leadership_report_days``)."""
    return dated_step(ctx, ctx.held, STEPS["POST-REPORT"])


@register("POST-ABSENTEE-INFORMED", "POST", "会后转告缺席人", "error", ALL, "000 第一篇 3.2；003 民主 三.3",
          branch="000 第一篇 3.2", no_committee="000 第一篇 3.2", leadership="003 民主 三.3")
def absentee_informed(ctx) -> pd.DataFrame:
    """Every absentee is told of the meeting and of the criticism addressed to them (会后告知日期)."""
    r = held_roster(ctx)
    away = r.presence.isin([Presence.leave.value, Presence.absent.value])
    r = r[away & r.informed_date.isna()].merge(ctx.held[["meeting_id", "report_due"]], on="meeting_id")
    return missing(ctx, r, "未向未到会的 {name} 转告会议情况和对其的批评意见", due=r.report_due, subject="member_id")


@register("POST-PUBLIC-REPORT", "POST", "会后一个月内通报", "error", ALL, "003 民主 四.3；000 第五篇 (三)2",
          branch="000 第五篇 (三)2", no_committee="000 第五篇 (三)2", leadership="003 民主 四.3")
def public_report(ctx) -> pd.DataFrame:
    """Cadres and masses are told of the meeting and the measures within ``public_report_months`` calendar months
    after ("一个月内": 10-23 → 11-23, 01-31 → the last day of February): a must for a 民主生活会 (error); for
    组织生活会 / 专题组织生活会 000 第五篇 gives no number (warning, the same month)."""
    m = ctx.held
    leadership = m.kind.eq(LEADERSHIP).fillna(False)
    others = dated_step(ctx, m[~leadership], STEPS["POST-PUBLIC-REPORT"])
    others["severity"] = others.severity.fillna("warning")
    return concat(dated_step(ctx, m[leadership], STEPS["POST-PUBLIC-REPORT"]), others)
