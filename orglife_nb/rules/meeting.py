"""Meeting rules (召开会议): host, prior rectification, order and coverage of criticism, attendance, superior's
comment, summary, minutes, duration, held on its own. They look only at meetings held on or before as_of."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..models import CriticismAct, CriticismStage, Presence, UnitType
from .common import concat, emit, fmt
from .coverage import held_criticism_needs
from .context import LEADERSHIP
from .registry import ALL, BRANCH_MEETINGS, LEADERSHIP_ONLY, register

SELF, CRIT, RESPONSE = (a.value for a in CriticismAct)
STAGE_LABELS = {s.value: s.label for s in CriticismStage}


def blank(series: pd.Series) -> pd.Series:
    return (series.isna() | series.astype("string").str.strip().eq("")).fillna(True).astype(bool)


def _criticisms(ctx) -> pd.DataFrame:
    """Criticism rows of the rule's held meetings with the meeting's secretary."""
    m = ctx.held
    c = ctx.only(ctx.frames.criticisms, m)
    return c.merge(m[["meeting_id", "branch_id", "secretary_id", "kind", "has_committee"]], on="meeting_id")


@register("MEET-HOST", "MEET", "书记主持", "error", ALL, "000 第一篇 2.1；第三篇 第二步")
def host(ctx) -> pd.DataFrame:
    """The meeting is chaired by the secretary (民主生活会: 主要负责同志, the branch secretary)."""
    m = ctx.held
    m = m.assign(host_name=ctx.name_of(m.host_id.astype(object)))
    no_secretary = m[m.secretary_id.isna()]
    no_host = m[m.secretary_id.notna() & m.host_id.isna()]
    other = m[m.secretary_id.notna() & m.host_id.notna() & m.host_id.ne(m.secretary_id).fillna(False)]
    return concat(emit(no_secretary, "支部未登记书记，无法确认会议由书记主持"),
                  emit(no_host, fmt("未登记主持人，应由书记 {secretary_name} 主持", no_host)),
                  emit(other, fmt("会议由 {host_name} 主持，应由书记 {secretary_name} 主持", other)))


@register("MEET-PRIOR-RECTIFICATION", "MEET", "通报上次整改情况", "error", ALL,
          "000 第一篇 2.2；第五篇 (二)1；003 民主 三.2②")
def prior_rectification(ctx) -> pd.DataFrame:
    """Where the branch held an earlier meeting of the same kind, the state of its rectification is reported."""
    m = ctx.meetings.sort_values(["branch_id", "kind", "date", "meeting_id"])
    previous = m.groupby(["branch_id", "kind"], observed=True).date.shift()
    m = m.assign(previous=previous)
    m = m[m.held & m.previous.notna() & ~m.prior_rectification_reported.fillna(False)]
    return emit(m, fmt("未通报上次同类会议（{previous}）查摆问题的整改落实情况", m))


@register("MEET-ORDER", "MEET", "会议程序顺序", "error", ALL, "003 三.1；000 第二篇 (二)；003 民主 三.3")
def order(ctx) -> pd.DataFrame:
    """Order of the criticism records: 支委会 before 党员大会 (branches with a committee); in every stage the
    secretary's (主要负责同志's) self-criticism first; for each person examined in the 支委会 / 民主生活会 stage,
    self-criticism, then the others' criticism, then the response (表态)."""
    c = _criticisms(ctx)
    committee, assembly = CriticismStage.committee.value, CriticismStage.assembly.value
    span = c.groupby(["meeting_id", "stage"], observed=True).seq.agg(["min", "max"]).unstack("stage")
    flipped_ids = []
    if ("max", committee) in span and ("min", assembly) in span:
        flipped_ids = span.index[span[("max", committee)].gt(span[("min", assembly)])]
    flipped = ctx.held[ctx.held.meeting_id.isin(flipped_ids) & ctx.held.has_committee]
    stage_findings = emit(flipped, "党员大会的发言排在支委会之前：应先召开支委会，再召开党员大会")

    # secretary first: the stage's first record is not the secretary's own self-criticism, though one exists
    own = c.speaker.eq(c.target) & c.act.eq(SELF)
    c = c.assign(own=own, lead_self=own & c.speaker.eq(c.secretary_id))
    first = c.loc[c.groupby(["meeting_id", "stage"], observed=True).seq.idxmin()]
    has_lead = c[c.lead_self].groupby(["meeting_id", "stage"], observed=True).size().rename("has_lead")
    first = first.join(has_lead, on=["meeting_id", "stage"], how="inner")
    first = first[~first.lead_self]
    first = first.assign(secretary_name=ctx.name_of(first.secretary_id), speaker_name=ctx.name_of(first.speaker),
                         stage_label=first.stage.astype(object).map(STAGE_LABELS))
    lead_findings = emit(first, fmt("{stage_label}：书记 {secretary_name} 的自我批评应最先进行，实际首先发言的是 "
                                    "{speaker_name}", first))  # about the meeting's order: no subject

    # per person examined (支委会 / 民主生活会): self-criticism < every criticism < response
    mutual = c[c.stage.isin([committee, CriticismStage.leadership.value])]
    span = mutual.groupby(["meeting_id", "stage", "target", "act"], observed=True).seq.agg(["min", "max"])
    span = span.unstack("act").reindex(columns=pd.MultiIndex.from_product([["min", "max"], [SELF, CRIT, RESPONSE]]))
    wrong = (span[("max", SELF)].gt(span[("min", CRIT)]) | span[("max", CRIT)].gt(span[("min", RESPONSE)])
             | span[("max", SELF)].gt(span[("min", RESPONSE)]))
    wrong = wrong[wrong.fillna(False).astype(bool)].index.to_frame(index=False)
    wrong = wrong.merge(ctx.held[["meeting_id", "branch_id"]], on="meeting_id")
    wrong = wrong.assign(name=ctx.name_of(wrong.target), stage_label=wrong.stage.astype(object).map(STAGE_LABELS))
    person_findings = emit(wrong, fmt("{stage_label}：{name} 的发言顺序应为先自我批评、再由他人批评、最后表态", wrong),
                           subject="target")
    return concat(stage_findings, lead_findings, person_findings)


@register("MEET-CRITICISM", "MEET", "相互批评全覆盖", "error", ALL, "000 第二篇 (二)2；003 民主 三.3")
def criticism(ctx) -> pd.DataFrame:
    """In the 支委会 stage (every 民主生活会) each present 班子 member makes a self-criticism, is criticised by
    every other present member and then responds (表态). One finding per missing item."""
    need = held_criticism_needs(ctx)
    gap = need[~need.done & need.stage.ne(CriticismStage.assembly.value)]
    gap = gap.assign(name=ctx.name_of(gap.member_id), speaker_name=ctx.name_of(gap.speaker),
                     stage_label=gap.stage.map(STAGE_LABELS))
    templates = {SELF: "{stage_label}：{name} 未作自我批评",
                 CRIT: "{stage_label}：{speaker_name} 未对 {name} 提出批评意见",
                 RESPONSE: "{stage_label}：{name} 未对批评意见作表态发言"}
    return concat(*(emit(part, fmt(templates[act], part), subject="member_id")
                    for act, part in ((a, gap[gap.act.eq(a)]) for a in templates)))


@register("MEET-SELF-CRITICISM", "MEET", "党员大会个人自评", "error", BRANCH_MEETINGS, "000 第三篇 第三步 2；003 三.1")
def self_criticism(ctx) -> pd.DataFrame:
    """In the 党员大会 stage each present member makes a self-criticism (个人自评)."""
    need = held_criticism_needs(ctx)
    gap = need[~need.done & need.stage.eq(CriticismStage.assembly.value)]
    gap = gap.assign(name=ctx.name_of(gap.member_id))
    return emit(gap, fmt("党员大会：{name} 未作自我批评（个人自评）", gap), subject="member_id")


@register("MEET-ATTENDANCE", "MEET", "党员参会", "error", ALL, "003 一.3；000 第一篇 3.5")
def attendance(ctx) -> pd.DataFrame:
    """Every expected member attends. 缺席 (no reason) is an error; 请假 needs a reason (warning without one); a
    领导干部 not attending a branch meeting is an error (attends as an ordinary member); unrecorded is a warning."""
    r = ctx.only(ctx.roster, ctx.held)
    branch_meeting = ~r.kind.eq(LEADERSHIP).fillna(False)
    leave = r.presence.eq(Presence.leave.value).fillna(False)
    cadre_away = r[branch_meeting & r.leading_cadre & leave]
    no_reason = r[leave & blank(r.reason) & ~(branch_meeting & r.leading_cadre)]
    absent = r[r.presence.eq(Presence.absent.value).fillna(False)]
    unknown = r[r.presence.isna()]
    return concat(
        emit(absent, fmt("{name} 无故缺席会议", absent), subject="member_id"),
        emit(cadre_away, fmt("领导干部 {name} 请假未参加（原因：{reason}），应以普通党员身份参加所在支部组织生活会",
                             cadre_away), subject="member_id"),
        emit(no_reason, fmt("{name} 请假未说明原因", no_reason), subject="member_id", severity="warning"),
        emit(unknown, fmt("{name} 的出席情况未登记", unknown), subject="member_id", severity="warning"),
    )


@register("MEET-WRITTEN-STATEMENT", "MEET", "书面发言宣读", "error", ALL, "000 第一篇 2.6；003 民主 三.3")
def written_statement(ctx) -> pd.DataFrame:
    """An absentee's written statement, where submitted, is read out at the meeting and recorded."""
    r = ctx.only(ctx.roster, ctx.held)
    r = r[r.written_statement.fillna(False) & ~r.read_out.fillna(False)
          & ~r.presence.eq(Presence.present.value).fillna(False)]
    return emit(r, fmt("{name} 提交的书面发言未在会上宣读并列入会议记录", r), subject="member_id")


@register("MEET-SUPERIOR-COMMENT", "MEET", "上级参会点评", "error", ALL, "003 三.2；000 第三篇 第六步；003 民主 三.4")
def superior_comment(ctx) -> pd.DataFrame:
    """The superior's representative attended and commented (组织点评): required (error) for 专题组织生活会 and
    民主生活会; for an ordinary 组织生活会 '如有必要' (000 第一篇 2.8), so a warning."""
    m = ctx.held
    severity = pd.Series(np.where(m.kind.eq("regular").fillna(False), "warning", "error"), index=m.index)
    away = m[blank(m.superior_attendee)]
    silent = m[~blank(m.superior_attendee) & blank(m.superior_comment)]
    return concat(emit(away, "上级党组织未派人参会指导", severity=severity),
                  emit(silent, fmt("上级参会同志 {superior_attendee} 未对会议作点评", silent), severity=severity))


@register("MEET-SUMMARY", "MEET", "书记会议小结", "error", ALL, "003 三.3")
def summary(ctx) -> pd.DataFrame:
    """The secretary summed up the meeting (会议小结 / 表态发言)."""
    m = ctx.held
    m = m[blank(m.summary)]
    return emit(m, fmt("书记 {secretary_name} 未作会议小结（表态发言）", m))


@register("MEET-MINUTES", "MEET", "会议记录", "error", ALL, "000 第一篇 2.9；第五篇 (二)3")
def minutes(ctx) -> pd.DataFrame:
    """Minutes (会议记录) were kept."""
    m = ctx.held
    return emit(m[~m.minutes_kept.fillna(False)], "未作会议记录")


@register("MEET-DURATION", "MEET", "机关专题会不少于半天", "warning", ("special",), "000 第三篇")
def duration(ctx) -> pd.DataFrame:
    """A 专题组织生活会 of an organ (机关) branch lasts ≥ ``organ_special_min_hours`` (原则上: warning)."""
    m = ctx.held
    m = m[m.unit_type.eq(UnitType.organ.value).fillna(False)].assign(need=float(ctx.profile.organ_special_min_hours))
    unknown = m[m.hours.isna()]
    short = m[m.hours.lt(m.need)]
    return concat(emit(unknown, fmt("机关专题组织生活会未登记时长，原则上应不少于 {need} 小时（半天）", unknown)),
                  emit(short, fmt("机关专题组织生活会只开了 {hours} 小时，原则上应不少于 {need} 小时（半天）", short)))


@register("MEET-SEPARATE", "MEET", "民主生活会专门召开", "error", LEADERSHIP_ONLY, "003 民主 一.3")
def separate(ctx) -> pd.DataFrame:
    """A 民主生活会 is held on its own, not merged with another meeting."""
    m = ctx.held
    return emit(m[m.merged.fillna(False)], "民主生活会与其他会议合并召开，应专门召开")
