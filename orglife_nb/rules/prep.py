"""Preparation rules (会前准备): topic, plan, notices, study, opinions, talks, materials, community problem list."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..models import BRANCH_LEADERSHIP, MaterialType, OpinionMethod, OpinionSource, StudyForm, UnitType
from .coverage import all_talk_needs, matched
from .common import concat, dated_step, emit, fmt, missing, text
from .context import LEADERSHIP
from .steps import STEPS
from .registry import ALL, BRANCH_MEETINGS, LEADERSHIP_ONLY, register

# 003 二.5: these units' 负责同志 write 对照检查材料; other units may write a 发言提纲 instead
EXAMINATION_UNITS = (UnitType.organ.value, UnitType.institution.value, UnitType.school.value,
                     UnitType.community.value)


def _roster(ctx, meetings: pd.DataFrame, flag: str, columns: list[str]) -> pd.DataFrame:
    """The roster rows of ``meetings`` marked ``flag`` (a bool column), ``columns`` only: chosen before the rows
    (the roster is wide and long: 670,000 rows on 10,000 branches)."""
    r = ctx.roster
    return ctx.only(r.loc[r[flag], columns], meetings)


def _before_meeting(frame: pd.DataFrame, column: str, dates: pd.Series) -> pd.Series:
    """Rows whose ``column`` date is unknown or on/before the meeting date (what counts as 'before the meeting')."""
    return frame[column].isna() | frame[column].le(dates)


@register("PREP-TOPIC", "PREP", "确定会议主题", "error", ALL, "000 第一篇 1.1；003 民主 二.1",
          branch="000 第一篇 1.1", no_committee="000 第一篇 1.1", leadership="003 民主 二.1")
def topic_set(ctx) -> pd.DataFrame:
    """A topic (主题/议题) is set for the meeting."""
    m = ctx.meetings
    blank = m.topic.isna() | m.topic.str.strip().eq("")
    return missing(ctx, m[blank.fillna(True)], "未确定会议主题（议题）")


@register("PREP-PLAN", "PREP", "会议方案报上级审核", "error", ALL, "003 二.1；000 第五篇 (一)3；003 民主 二.2",
          branch="003 二.1；000 第五篇 (一)3", no_committee="003 二.1；000 第五篇 (一)3", leadership="003 民主 二.2")
def plan_approved(ctx) -> pd.DataFrame:
    """A written plan exists (its date sent to the superior is recorded); for 组织生活会 / 专题组织生活会 the
    superior approved it (报上级党组织审核把关).

    A 民主生活会 plan is 审定 by the 主要负责同志 or decided at a meeting, then sent to 上级纪委和组织部门 (rules.md
    rev 3): no superior approval is asked of it, and its 15-day deadline is PREP-PLAN-DEADLINE's.
    """
    m = ctx.meetings
    leadership = m.kind.eq(LEADERSHIP).fillna(False)
    unsent = m[m.plan_sent.isna()]
    unsent = unsent.assign(to=np.where(leadership[unsent.index], "上级纪委和组织部门", "上级党组织"))
    unapproved = m[m.plan_sent.notna() & ~m.plan_approved.fillna(False) & ~leadership]
    return concat(missing(ctx, unsent, "未制定会议方案并报{to}"),
                  missing(ctx, unapproved, "会议方案（{plan_sent} 报送）未经上级党组织审核通过"))


@register("PREP-PLAN-DEADLINE", "PREP", "方案提前15日报上级", "error", LEADERSHIP_ONLY, "003 民主 二.2")
def plan_deadline(ctx) -> pd.DataFrame:
    """民主生活会: the plan reaches 上级纪委和组织部门 ≥ ``leadership_plan_days`` before the meeting.

    A plan never sent is PREP-PLAN's finding once the meeting is held; before that this rule counts down.
    """
    m = ctx.meetings
    m = m[m.plan_sent.notna() | ~m.held]
    return dated_step(ctx, m, STEPS["PREP-PLAN-DEADLINE"])


@register("PREP-NOTICE", "PREP", "提前通知应到会人员", "error", ALL, "000 第一篇 1.2")
def notice(ctx) -> pd.DataFrame:
    """Attendees are told the date and topic ≥ ``notice_days`` before the meeting."""
    return dated_step(ctx, ctx.meetings, STEPS["PREP-NOTICE"])


@register("PREP-SUPERIOR-NOTICE", "PREP", "提前报告上级党组织", "error", BRANCH_MEETINGS, "000 第一篇 1.3")
def superior_notice(ctx) -> pd.DataFrame:
    """The superior is told ≥ ``superior_notice_days`` before, so that it can send someone."""
    return dated_step(ctx, ctx.meetings, STEPS["PREP-SUPERIOR-NOTICE"])


@register("PREP-PUBLIC-NOTICE", "PREP", "会前15日公告", "error", LEADERSHIP_ONLY, "003 民主 二.3")
def public_notice(ctx) -> pd.DataFrame:
    """民主生活会: time, topic and how to give opinions are announced ≥ ``leadership_public_notice_days`` before."""
    return dated_step(ctx, ctx.meetings, STEPS["PREP-PUBLIC-NOTICE"])


@register("PREP-STUDY", "PREP", "会前学习时间", "error", ALL, "003 二.2；003 民主 二.4",
          branch="003 二.2", no_committee="003 二.2", leadership="003 民主 二.4")
def study(ctx) -> pd.DataFrame:
    """Pre-meeting study totals ≥ the profile's days, of which concentrated (集中) ≥ the profile's days.

    The concentrated minimum is firm ('不少于': error); the total is 原则上 (warning); a 民主生活会's '一般安排3天左右'
    is a warning only below ``leadership_study_min_days`` (rules.md rev 3), the message still advising the 3 days.
    """
    m = ctx.meetings
    s = ctx.only(ctx.frames.studies, m).merge(m[["meeting_id", "date"]].rename(columns={"date": "meeting_date"}),
                                              on="meeting_id")
    s = s[s.date.le(s.meeting_date)]
    hours = s.hours.fillna(0.0)
    totals = pd.DataFrame({"meeting_id": s.meeting_id, "total": hours,
                           "concentrated": hours.where(s.form.eq(StudyForm.concentrated.value), 0.0)})
    totals = totals.groupby("meeting_id", observed=True)[["total", "concentrated"]].sum()
    m = m.join(totals, on="meeting_id")
    p = ctx.profile
    leadership = m.kind.eq(LEADERSHIP).fillna(False)
    m = m.assign(total=m.total.fillna(0.0), concentrated=m.concentrated.fillna(0.0),
                 need_total=np.where(leadership, p.leadership_study_total_days, p.study_total_days),
                 need_concentrated=np.where(leadership, p.leadership_study_concentrated_days,
                                            p.study_concentrated_days))
    m = m.assign(need_total_h=m.need_total * p.hours_per_day, need_concentrated_h=m.need_concentrated * p.hours_per_day,
                 least_h=np.where(leadership, p.leadership_study_min_days, p.study_total_days) * p.hours_per_day)
    short_total = m[m.total.lt(m.least_h)]
    short_conc = m[m.concentrated.lt(m.need_concentrated_h)]
    about = short_total.kind.eq(LEADERSHIP).fillna(False)
    short_total = short_total.assign(least=short_total.least_h / p.hours_per_day)
    total = concat(
        missing(ctx, short_total[~about], "会前学习共 {total} 小时，应不少于 {need_total} 天（{need_total_h} 小时）"),
        missing(ctx, short_total[about], "会前学习共 {total} 小时，一般应安排 {need_total} 天左右（{need_total_h} 小时），"
                                         "不足 {least} 天（{least_h} 小时）"))
    total["severity"] = total.severity.fillna("warning")  # 原则上 / 左右
    conc = missing(ctx, short_conc,
                   "会前集中学习 {concentrated} 小时，应不少于 {need_concentrated} 天（{need_concentrated_h} 小时）")
    return concat(total, conc)


@register("PREP-OPINIONS", "PREP", "会前征求意见", "error", ALL, "003 二.3；000 第二篇 3；003 民主 二.5",
          branch="003 二.3；000 第二篇 3", no_committee="003 二.3；000 第二篇 3", leadership="003 民主 二.5")
def opinions(ctx) -> pd.DataFrame:
    """Opinions are solicited from both 党员 and 群众 before the meeting and compiled in writing (意见汇总)."""
    m = ctx.meetings
    o = ctx.only(ctx.frames.opinions, m).merge(m[["meeting_id", "date"]].rename(columns={"date": "meeting_date"}),
                                               on="meeting_id")
    o = o[_before_meeting(o, "date", o.meeting_date)]
    no_member = m[~m.meeting_id.isin(o.meeting_id[o.source.eq(OpinionSource.member.value)])]
    no_public = m[~m.meeting_id.isin(o.meeting_id[o.source.eq(OpinionSource.public.value)])]
    uncompiled = m[~m.opinions_compiled.fillna(False)]
    return concat(missing(ctx, no_member, "会前未征求党员意见"),
                  missing(ctx, no_public, "会前未征求群众意见"),
                  missing(ctx, uncompiled, "征求到的意见未形成书面汇总（征求意见报告）"))


METHOD_LABELS = {m.value: m.label for m in OpinionMethod}
SOURCE_LABELS = {s.value: s.label for s in OpinionSource}


@register("PREP-OPINIONS-FEEDBACK", "PREP", "意见会前反馈本人", "error", ALL, "003 二.3")
def opinions_feedback(ctx) -> pd.DataFrame:
    """Every opinion about a 班子 member (committee member; 民主生活会: group member) is fed back to them before."""
    m = ctx.meetings
    group = _roster(ctx, m, "in_group", ["meeting_id", "member_id", "branch_id", "date", "held", "name"])
    late, unfed = _unfed_opinions(ctx.only(ctx.frames.opinions, m), group, ["method", "source"])
    # told apart by what a message can name, only the opinions with a finding (a few thousand of 10,000 branches')
    late = _one_per_record(late.assign(how=_opinion_how(late)), ["feedback_date"])
    unfed = _one_per_record(unfed.assign(how=_opinion_how(unfed)), [])
    return concat(emit(late, fmt("关于 {name} 的{n}意见（{how}）于 {feedback_date} 才反馈本人，晚于会议（{date}）", late),
                       subject="member_id"),
                  missing(ctx, unfed, "关于 {name} 的{n}意见（{how}）会前未反馈本人", subject="member_id"))


def _unfed_opinions(opinions: pd.DataFrame, people: pd.DataFrame,
                    columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Of ``opinions``, those about ``people`` (roster rows) fed back to them only after the meeting, and never:
    (late, unfed), each opinion joined with its person's row (opinion columns: ``columns``, feedback_date and the
    opinion's date as opinion_date)."""
    o = opinions[["meeting_id", "target", "date", "feedback_date", *columns]].rename(
        columns={"date": "opinion_date", "target": "member_id"})
    o = o.merge(people, on=["meeting_id", "member_id"])
    return o[o.feedback_date.gt(o.date)], o[o.feedback_date.isna()]


def _opinion_how(o: pd.DataFrame) -> pd.Series:
    """What tells one opinion record about a person from another: '2026-11-20 征求，集体座谈，来自群众'."""
    method = ("，" + o.method.astype(object).map(METHOD_LABELS)).fillna("")
    source = ("，来自" + o.source.astype(object).map(SOURCE_LABELS)).fillna("")
    return text(o.opinion_date).replace("—", "日期未填") + " 征求" + method + source


def _one_per_record(o: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Opinions about one person told apart by nothing a message can name are one finding ('2 条')."""
    same = ["meeting_id", "member_id", "how", *keys]
    counts = o.groupby(same, observed=True, dropna=False).how.transform("size")
    o = o.assign(n=np.where(counts.gt(1), " " + counts.astype(str) + " 条", ""))
    return o.drop_duplicates(same)


@register("PREP-TALKS", "PREP", "会前谈心谈话", "error", ALL, "003 二.4；000 第二篇 3")
def talks(ctx) -> pd.DataFrame:
    """Talks before the meeting: secretary ↔ every other member, 班子 members pairwise, superior ↔ secretary.

    A talk covers the pair both ways. One finding per missing pair; the subject is the member (for a pair of
    班子 members the second by id; for the superior pair the secretary).
    """
    need = all_talk_needs(ctx)
    gap = need[~need.done & need.meeting_id.isin(ctx.meetings.meeting_id)]
    templates = {"secretary": "书记 {a_name} 与 {b_name} 会前未谈心谈话",
                 "group": "班子成员 {a_name} 与 {b_name} 会前未相互谈心谈话",
                 "superior": "上级党组织负责同志会前未与书记 {b_name} 谈心谈话"}

    def named(kind: str) -> pd.DataFrame:
        pairs = gap[gap.pair.eq(kind)]
        # a is a member (as b) but for the superior, whom no template names: looked up as b's categories (by code)
        a = pairs.a if kind == "superior" else pairs.a.astype(pairs.b.dtype)
        return pairs.assign(a_name=ctx.name_of(a), b_name=ctx.name_of(pairs.b))

    return concat(*(missing(ctx, named(kind), template, subject="subject") for kind, template in templates.items()))


@register("PREP-MATERIALS", "PREP", "对照检查材料及审核", "error", ALL, "000 第三篇 第一步 3；003 二.5")
def materials(ctx) -> pd.DataFrame:
    """Every 班子 member (no committee: the secretary; 民主生活会: every group member) submits 对照检查材料 (or a
    发言提纲 where 003 二.5 allows it) before the meeting, and the superior reviews (审核) it before the meeting.
    """
    m = ctx.meetings
    r = _roster(ctx, m, "in_group", ["meeting_id", "branch_id", "date", "held", "kind", "member_id", "name"])
    mat = ctx.only(ctx.frames.materials, m).sort_values("submitted", na_position="first")
    mat = mat.drop_duplicates(["meeting_id", "member_id"], keep="last")  # the latest submission counts
    r = r.merge(mat, on=["meeting_id", "member_id"], how="left", indicator=True)
    r = r.merge(m[["meeting_id", "unit_type"]], on="meeting_id")
    has = r._merge.eq("both")
    none = r[~has]
    undated = r[has & r.submitted.isna()]
    late = r[has & r.submitted.gt(r.date)]
    unreviewed = r[has & (r.reviewed.isna() | r.reviewer.isna())]
    late_review = r[has & r.reviewed.gt(r.date)]
    needs_exam = r.unit_type.isin(EXAMINATION_UNITS) | r.kind.eq(LEADERSHIP)
    outline = r[has & needs_exam & r.material_type.eq(MaterialType.outline.value).fillna(False)]
    found = concat(
        missing(ctx, none, "{name} 会前未提交对照检查材料（发言提纲）", subject="member_id"),
        missing(ctx, undated, "{name} 的对照检查材料未登记提交日期", subject="member_id"),
        emit(late, fmt("{name} 的对照检查材料于 {submitted} 提交，晚于会议（{date}）", late), subject="member_id"),
        missing(ctx, unreviewed, "{name} 的对照检查材料未经上级审核把关", subject="member_id"),
        emit(late_review, fmt("{name} 的对照检查材料于 {reviewed} 才审核，晚于会议（{date}）", late_review),
             subject="member_id"),
        emit(outline, fmt("{name} 只交了发言提纲，本单位（本类会议）应撰写对照检查材料", outline),
             subject="member_id", severity="warning"),
    )
    return found


@register("PREP-COMMUNITY-LIST", "PREP", "社区问题清单公示", "error", BRANCH_MEETINGS, "003 二.5")
def community_list(ctx) -> pd.DataFrame:
    """A 社区 branch publishes (公示) its problem list before the meeting."""
    m = ctx.meetings
    m = m[m.unit_type.eq(UnitType.community.value).fillna(False)]
    late = m[m.problem_list_published.gt(m.date)]
    return concat(missing(ctx, m[m.problem_list_published.isna()], "社区党组织会前未公示问题清单"),
                  emit(late, fmt("问题清单于 {problem_list_published} 公示，晚于会议（{date}）", late)))



@register("PREP-LEADER-OPINIONS", "PREP", "领导干部党员征求意见", "warning", BRANCH_MEETINGS, "000 第四篇 一")
def leader_opinions(ctx) -> pd.DataFrame:
    """Where the branch has 领导干部 members: opinions about each of them were solicited (征求意见 rows with that
    member as 对象) and fed back to them before the meeting. (Feedback to 班子 members is PREP-OPINIONS-FEEDBACK's.)"""
    m = ctx.meetings
    r = _roster(ctx, m, "leading_cadre", ["meeting_id", "branch_id", "date", "held", "member_id", "name", "in_group"])
    o = ctx.only(ctx.frames.opinions, m)
    asked = pd.DataFrame({"meeting_id": o.meeting_id, "member_id": o.target})
    unasked = r[~matched(r, asked, ["meeting_id", "member_id"])]
    late, unfed = _unfed_opinions(o, r[~r.in_group], [])
    return concat(
        missing(ctx, unasked, "会前未征求对领导干部 {name} 的意见", subject="member_id"),
        emit(late, fmt("关于领导干部 {name} 的意见于 {feedback_date} 才反馈本人，晚于会议（{date}）", late),
             subject="member_id"),
        missing(ctx, unfed, "关于领导干部 {name} 的意见（{opinion_date} 征求）会前未反馈本人", subject="member_id"),
    )


@register("PREP-GROUP-OPINIONS-REPORTED", "PREP", "班子意见会前通报支委", "warning", BRANCH_MEETINGS, "003 二.3")
def group_opinions_reported(ctx) -> pd.DataFrame:
    """A branch with a committee that gathered opinions on the 支部班子 reported them to the committee members
    (开会或书面送达) on or before the meeting day (会议.班子意见通报日期, rules.md rev 3). A preparation record: a
    missing date is pending up to and including the meeting day, a warning after it; a date after the meeting is an
    error."""
    m = ctx.meetings
    o = ctx.only(ctx.frames.opinions, m)
    m = m[m.has_committee & m.meeting_id.isin(o.meeting_id[o.target.isin([BRANCH_LEADERSHIP])])]
    unreported = m[m.group_opinions_reported_on.isna()]
    late = m[m.group_opinions_reported_on.gt(m.date)]
    return concat(
        missing(ctx, unreported, "会前征求到的涉及支部班子的意见未登记向支部委员通报（班子意见通报日期）",
                due=unreported.date),
        emit(late, fmt("涉及支部班子的意见于 {group_opinions_reported_on} 才向支部委员通报，晚于会议（{date}）", late),
             severity="error"),
    )
