"""Meeting rules (召开会议): host, prior rectification, order and coverage of criticism, the 党员大会 (通报, 互评),
the 班子's 对照检查, opinions reported, named questions answered, attendance, superior's comment, summary, minutes,
duration, held on its own. They look only at meetings held on or before as_of.

Records of a held meeting are entered after it: a finding that rests on a record being absent is pending until
the report deadline (``common.recorded_after``); a record that is there and wrong is a violation at once.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..models import GROUP, NAMED_QUESTIONS, CriticismAct, CriticismStage, Presence, QuestionSource, Situation, UnitType
from .common import concat, emit, fmt, recorded_after, unset_or_refused
from .coverage import held_criticism_needs, matched
from .keys import packed
from .context import LEADERSHIP
from .registry import ALL, BRANCH_MEETINGS, LEADERSHIP_ONLY, register

SELF, CRIT, RESPONSE, REPORT = (CriticismAct.self_criticism.value, CriticismAct.criticism.value,
                                CriticismAct.response.value, CriticismAct.report.value)
STAGE_LABELS = {s.value: s.label for s in CriticismStage}
ASSEMBLY, COMMITTEE, LEADERSHIP_STAGE = (CriticismStage.assembly.value, CriticismStage.committee.value,
                                         CriticismStage.leadership.value)


def blank(series: pd.Series) -> pd.Series:
    """Missing or only spaces. Dates, numbers and yes/no are blank only when missing (formatting half a million
    dates to text to find none blank cost RECT-FOUR-CLEAR a quarter of a second); an enum's categories are
    looked at once; Arrow-backed text (a bulk store read) is trimmed in Arrow."""
    from ..frames import arrow_text  # frames imports the store (SQLAlchemy): not at the rules' import

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        empty = np.append(blank(pd.Series(dtype.categories, dtype=object)).to_numpy(), True)  # code -1: missing
        return pd.Series(empty[series.cat.codes.to_numpy()], index=series.index, dtype=bool)
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype) \
            or pd.api.types.is_bool_dtype(dtype):
        return series.isna().astype(bool)
    arrow = arrow_text(series)
    if arrow is not None:
        import pyarrow.compute as pc

        trimmed = pc.utf8_trim_whitespace(arrow)
        empty = pc.fill_null(pc.or_kleene(pc.is_null(trimmed), pc.equal(pc.utf8_length(trimmed), 0)), True)
        return pd.Series(empty.to_numpy(zero_copy_only=False), index=series.index, dtype=bool)
    return (series.isna() | series.astype("string").str.strip().eq("")).fillna(True).astype(bool)


def _criticisms(ctx) -> pd.DataFrame:
    """Criticism rows of the rule's held meetings with the meeting's branch, secretary, kind and committee flag
    (once per set of meeting kinds: four rules read them, and the table has millions of rows)."""
    return ctx.shared("criticisms", lambda scope: scope.attach(
        scope.frames.criticisms[["meeting_id", "seq", "stage", "target", "speaker", "act"]], scope.held,
        ["branch_id", "secretary_id", "kind", "has_committee"]))


def held_roster(ctx) -> pd.DataFrame:
    """The roster of the rule's held meetings (three rules read it)."""
    return ctx.shared("held roster", lambda scope: scope.only(scope.roster, scope.held))


def _codes(series: pd.Series) -> np.ndarray:
    """Category codes as int64 (-1: missing)."""
    return series.cat.codes.to_numpy().astype(np.int64)


def _dense(*columns: tuple[np.ndarray, int]) -> tuple[np.ndarray, int]:
    """Dense group numbers 0…n-1 for rows keyed by (codes ≥ 0, radix) columns, numbered in the columns' code
    order (the order a groupby over categoricals gives), and n."""
    key = packed([c for c, _ in columns], [r for _, r in columns])
    if key is None:
        key = np.unique(np.stack([c for c, _ in columns], axis=1), axis=0, return_inverse=True)[1].ravel()
    numbers, distinct = pd.factorize(key, sort=True)
    return numbers, len(distinct)


def _reduce(groups: np.ndarray, size: int, values: np.ndarray, how: str) -> np.ndarray:
    """Min or max of ``values`` per group number (0…size-1), NaN for a group without a value (NaN values are
    skipped, as in a groupby): one pass, no hashing, where a groupby factorises its keys again each time."""
    out = np.full(size, np.nan)
    (np.fmin if how == "min" else np.fmax).at(out, groups, values)
    return out


@register("MEET-HOST", "MEET", "书记主持", "error", ALL, "000 第一篇 2.1；第三篇 第二步")
def host(ctx) -> pd.DataFrame:
    """The meeting is chaired by the secretary (民主生活会: 主要负责同志, the branch secretary)."""
    m = ctx.held
    m = m.assign(host_name=ctx.name_of(m.host_id.astype(object)))
    no_secretary = m[m.secretary_id.isna()]
    no_host = m[m.secretary_id.notna() & m.host_id.isna()]
    other = m[m.secretary_id.notna() & m.host_id.notna() & m.host_id.ne(m.secretary_id).fillna(False)]
    return concat(emit(no_secretary, "支部未登记书记，无法确认会议由书记主持"),
                  recorded_after(ctx, no_host, fmt("未登记主持人，应由书记 {secretary_name} 主持", no_host)),
                  emit(other, fmt("会议由 {host_name} 主持，应由书记 {secretary_name} 主持", other)))


@register("MEET-PRIOR-RECTIFICATION", "MEET", "通报上次整改情况", "error", ALL,
          "000 第一篇 2.2；第五篇 (二)1；003 民主 三.2②", branch="000 第一篇 2.2；第五篇 (二)1",
          no_committee="000 第一篇 2.2；第五篇 (二)1", leadership="003 民主 三.2②")
def prior_rectification(ctx) -> pd.DataFrame:
    """Where the branch held an earlier meeting of the same kind, the state of its rectification is reported."""
    m = ctx.meetings.sort_values(["branch_id", "kind", "date", "meeting_id"])
    previous = m.groupby(["branch_id", "kind"], observed=True).date.shift()
    m = m.assign(previous=previous)
    m = m[m.held & m.previous.notna()]
    return unset_or_refused(ctx, m, m.prior_rectification_reported, "未通报上次同类会议（{previous}）查摆问题的整改落实情况")


@register("MEET-ORDER", "MEET", "会议程序顺序", "error", ALL,
          "003 三.1；000 第二篇 (二)；000 第三篇 第三步 1；003 民主 三.3",
          branch="003 三.1；000 第二篇 (二)", no_committee="000 第三篇 第三步 1；003 三.1", leadership="003 民主 三.3")
def order(ctx) -> pd.DataFrame:
    """Order of the criticism records: 支委会 before 党员大会 (branches with a committee); records addressed to the
    班子 (对象 班子: its 通报 and the criticism it hears) open their stage; then the secretary's (主要负责同志's)
    self-criticism comes first; for each person examined in the 支委会 / 民主生活会 stage, self-criticism, then the
    others' criticism, then the response (表态)."""
    c = _criticisms(ctx)
    # on integer codes, not categoricals: grouping millions of rows by (meeting, stage[, target]) categoricals
    # cost most of this rule; keys sort as the categoricals did, so findings keep their order
    meeting, stage, target, speaker = (_codes(c[n]) for n in ("meeting_id", "stage", "target", "speaker"))
    act, secretary = _codes(c.act), _codes(c.secretary_id)
    seq = c.seq.to_numpy(dtype="float64", na_value=np.nan)
    stages, acts = c.stage.cat.categories, c.act.cat.categories
    meetings = len(c.meeting_id.cat.categories)
    staged = stage >= 0
    stage_key = np.where(staged, meeting * len(stages) + stage, 0)  # (meeting, stage) → 0…meetings×stages-1
    stage_keys = meetings * len(stages)

    committee, assembly = stage == stages.get_loc(COMMITTEE), stage == stages.get_loc(ASSEMBLY)
    last_committee = _reduce(meeting[committee], meetings, seq[committee], "max")
    first_assembly = _reduce(meeting[assembly], meetings, seq[assembly], "min")
    flipped_ids = np.flatnonzero(last_committee > first_assembly)  # NaN (a stage not held) compares False
    flipped = ctx.held[np.isin(_codes(ctx.held.meeting_id), flipped_ids) & ctx.held.has_committee]
    stage_findings = emit(flipped, "党员大会的发言排在支委会之前：应先召开支委会，再召开党员大会")

    # the first personal record of each stage (lowest seq, the earlier row on a tie): where the secretary's
    # self-criticism belongs
    group = c.target.isin([GROUP]).to_numpy()
    mine = np.flatnonzero(~group & staged)
    first_seq = _reduce(stage_key[mine], stage_keys, seq[mine], "min")
    lowest = mine[seq[mine] == first_seq[stage_key[mine]]]
    first_keys, at = np.unique(stage_key[lowest], return_index=True)
    first_rows = lowest[at]

    # the 班子's records open the stage: one finding per stage where one comes after a member's record
    ours = np.flatnonzero(group & staged)
    late_rows = ours[seq[ours] > first_seq[stage_key[ours]]]
    late_rows = late_rows[~pd.Series(stage_key[late_rows]).duplicated().to_numpy()]
    late = c.iloc[late_rows]
    late = late.assign(stage_label=late.stage.astype(object).map(STAGE_LABELS))
    group_findings = emit(late, fmt("{stage_label}：针对班子的通报和批评应在个人对照检查之前进行（先班子后个人）", late))

    # secretary first among the personal records: the first is not the secretary's self-criticism, though one exists
    lead_self = (speaker >= 0) & (speaker == target) & (act == acts.get_loc(SELF)) & (speaker == secretary) & ~group
    with_lead = np.zeros(stage_keys, dtype=bool)
    with_lead[stage_key[lead_self & staged]] = True
    first = c.iloc[first_rows[with_lead[first_keys] & ~lead_self[first_rows]]]
    first = first.assign(secretary_name=ctx.name_of(first.secretary_id), speaker_name=ctx.name_of(first.speaker),
                         stage_label=first.stage.astype(object).map(STAGE_LABELS))
    lead_findings = emit(first, fmt("{stage_label}：书记 {secretary_name} 的自我批评应最先进行，实际首先发言的是 "
                                    "{speaker_name}", first))  # about the meeting's order: no subject

    # per person examined (支委会 / 民主生活会): self-criticism < every criticism < response
    mutual = np.flatnonzero(~group & (target >= 0) & np.isin(stage, [stages.get_loc(COMMITTEE),
                                                                     stages.get_loc(LEADERSHIP_STAGE)]))
    person, persons = _dense((meeting[mutual], meetings), (stage[mutual], len(stages)),
                             (target[mutual], len(c.target.cat.categories)))

    def per_act(name: str, how: str) -> np.ndarray:
        chosen = act[mutual] == acts.get_loc(name)
        return _reduce(person[chosen], persons, seq[mutual][chosen], how)

    self_last, crit_first, crit_last, response_first = (per_act(SELF, "max"), per_act(CRIT, "min"),
                                                        per_act(CRIT, "max"), per_act(RESPONSE, "min"))
    wrong = np.flatnonzero((self_last > crit_first) | (crit_last > response_first) | (self_last > response_first))
    # one row of each wrong (meeting, stage, person), in key order: its ids
    row_of = np.full(persons, len(c), dtype=np.int64)
    np.minimum.at(row_of, person, mutual)
    wrong = c.iloc[row_of[wrong]][["meeting_id", "stage", "target"]].reset_index(drop=True)
    wrong = wrong.merge(ctx.held[["meeting_id", "branch_id"]], on="meeting_id")
    wrong = wrong.assign(name=ctx.name_of(wrong.target), stage_label=wrong.stage.astype(object).map(STAGE_LABELS))
    person_findings = emit(wrong, fmt("{stage_label}：{name} 的发言顺序应为先自我批评、再由他人批评、最后表态", wrong),
                           subject="target")
    return concat(stage_findings, group_findings, lead_findings, person_findings)


def _undone(ctx) -> pd.DataFrame:
    """The criticism records the held meetings still lack (a few of over a million needs: filtered first)."""
    need = held_criticism_needs(ctx)
    return need[~need.done.to_numpy()]


@register("MEET-CRITICISM", "MEET", "相互批评全覆盖", "error", ALL, "000 第二篇 (二)2；003 民主 三.3",
          branch="000 第二篇 (二)2", no_committee="000 第二篇 (二)2", leadership="003 民主 三.3")
def criticism(ctx) -> pd.DataFrame:
    """In the 支委会 stage (every 民主生活会) each present 班子 member makes a self-criticism, is criticised by
    every other present member and then responds (表态). One finding per missing item."""
    gap = _undone(ctx)
    gap = gap[gap.stage.ne(ASSEMBLY) & gap.meeting_id.isin(ctx.held.meeting_id)]
    gap = gap.merge(ctx.held[["meeting_id", "report_due"]], on="meeting_id")
    gap = gap.assign(name=ctx.name_of(gap.member_id), speaker_name=ctx.name_of(gap.speaker),
                     stage_label=gap.stage.map(STAGE_LABELS))
    templates = {SELF: "{stage_label}：{name} 未作自我批评",
                 CRIT: "{stage_label}：{speaker_name} 未对 {name} 提出批评意见",
                 RESPONSE: "{stage_label}：{name} 未对批评意见作表态发言"}
    return concat(*(recorded_after(ctx, part, fmt(templates[act], part), subject="member_id")
                    for act, part in ((a, gap[gap.act.eq(a)]) for a in templates)))


@register("MEET-SELF-CRITICISM", "MEET", "党员大会个人自评", "error", BRANCH_MEETINGS, "000 第三篇 第三步 2；003 三.1")
def self_criticism(ctx) -> pd.DataFrame:
    """In the 党员大会 stage each present member makes a self-criticism (个人自评)."""
    gap = _undone(ctx)
    gap = gap[gap.stage.eq(ASSEMBLY) & gap.meeting_id.isin(ctx.held.meeting_id)]
    gap = gap.merge(ctx.held[["meeting_id", "report_due"]], on="meeting_id")
    gap = gap.assign(name=ctx.name_of(gap.member_id))
    return recorded_after(ctx, gap, fmt("党员大会：{name} 未作自我批评（个人自评）", gap), subject="member_id")


def _assembly(ctx) -> pd.DataFrame:
    """The 党员大会 records of the rule's held meetings (with the secretary)."""
    return ctx.shared("assembly", lambda scope: (lambda c: c[c.stage.eq(ASSEMBLY)])(_criticisms(scope)))


@register("MEET-ASSEMBLY-REPORT", "MEET", "党员大会通报与批评", "error", BRANCH_MEETINGS,
          "003 三.1；000 第三篇 第三步 1；000 第二篇 二.1",
          branch="000 第三篇 第三步 1；000 第二篇 二.1", no_committee="000 第三篇 第三步 1；003 三.1")
def assembly_report(ctx) -> pd.DataFrame:
    """The 党员大会 opens with the secretary: with a committee, the secretary reports the 班子's 对照检查 (a 通报
    addressed to the 班子) and at least one member criticises the 班子 or the secretary; without a committee, the
    secretary's own 对照检查 (self-criticism) and at least one member's criticism of the secretary."""
    m = ctx.held[ctx.held.secretary_id.notna()]
    a = _assembly(ctx)
    group = a.target.isin([GROUP])
    secretary_speaks = a.speaker.eq(a.secretary_id).fillna(False)
    reported = a.meeting_id[a.act.eq(REPORT) & group & secretary_speaks]
    own = a.meeting_id[a.act.eq(SELF) & ~group & a.target.eq(a.secretary_id).fillna(False) & secretary_speaks]
    heard = a.meeting_id[a.act.eq(CRIT) & ~secretary_speaks & (group | a.target.eq(a.secretary_id).fillna(False))]
    m = m.assign(secretary_name=ctx.name_of(m.secretary_id))
    committee, alone = m[m.has_committee], m[~m.has_committee]
    no_report = committee[~committee.meeting_id.isin(reported)]
    no_own = alone[~alone.meeting_id.isin(own)]
    unheard = m[~m.meeting_id.isin(heard)]
    return concat(
        recorded_after(ctx, no_report, fmt("党员大会：书记 {secretary_name} 未通报支部班子对照检查情况", no_report)),
        recorded_after(ctx, no_own, fmt("党员大会：书记 {secretary_name} 未作对照检查发言", no_own)),
        recorded_after(ctx, unheard, fmt("党员大会：没有党员对支部班子和书记 {secretary_name} 提出批评意见", unheard)),
    )


@register("MEET-PEER-REVIEW", "MEET", "党员互评", "warning", BRANCH_MEETINGS,
          "000 第四篇 二；000 第二篇 二.3；000 第三篇 第三步 3；000 第五篇 (二)2")
def peer_review(ctx) -> pd.DataFrame:
    """党员互评 (画个像): at the 党员大会 every member who made a self-criticism hears at least one criticism from
    another member, so the meeting is not a 单纯的自我小结会. The secretary is heard through the 班子
    (MEET-ASSEMBLY-REPORT). Severity from the profile's ``peer_review`` (warning, info or off)."""
    if ctx.profile.peer_review == "off":
        return concat()
    a = _assembly(ctx)
    a = a[~a.target.isin([GROUP])]
    selfs = a[a.act.eq(SELF) & a.speaker.eq(a.target) & ~a.target.eq(a.secretary_id).fillna(False)]
    heard = a[a.act.eq(CRIT) & a.speaker.ne(a.target)]
    gap = selfs[~matched(selfs, heard, ["meeting_id", "target"])].drop_duplicates(["meeting_id", "target"])
    gap = gap.merge(ctx.held[["meeting_id", "report_due"]], on="meeting_id")
    gap = gap.assign(name=ctx.name_of(gap.target))
    return recorded_after(ctx, gap, fmt("党员大会：{name} 自评后没有其他党员对其提出意见（党员互评）", gap),
                          subject="target", severity=ctx.profile.peer_review)


@register("MEET-GROUP-CHECK", "MEET", "班子对照检查", "error", ALL, "003 民主 三.2③、三.3；000 第二篇 一(二)1",
          branch="000 第二篇 一(二)1", leadership="003 民主 三.2③、三.3")
def group_check(ctx) -> pd.DataFrame:
    """The stage where the 班子 is examined opens with its 对照检查, given on its behalf by the secretary (a 通报
    addressed to the 班子), then the members examine themselves (先班子后个人; where it stands in the stage is
    MEET-ORDER's): the 民主生活会 (主要负责同志; error) and the 支委会 of a regular or special meeting of a branch
    with a committee (warning, rules.md rev 3)."""
    m = ctx.held[ctx.held.secretary_id.notna()]
    lead = m.kind.eq(LEADERSHIP).fillna(False).astype(bool)
    m, lead = m[lead | m.has_committee], lead[lead | m.has_committee]  # no committee: MEET-ASSEMBLY-REPORT's
    m = m.assign(secretary_name=ctx.name_of(m.secretary_id), lead=np.where(lead, "主要负责同志", "书记"),
                 where=np.where(lead, "", "在支委会上"), severity=np.where(lead, "error", "warning"))
    c = _criticisms(ctx)
    c_lead = c.kind.eq(LEADERSHIP).fillna(False).astype(bool)
    own_stage = (c_lead & c.stage.eq(LEADERSHIP_STAGE)) | (~c_lead & c.stage.eq(COMMITTEE))
    reports = c[own_stage & c.act.eq(REPORT) & c.target.isin([GROUP])]
    by_lead = reports.speaker.eq(reports.secretary_id).fillna(False)
    none = m[~m.meeting_id.isin(reports.meeting_id)]
    other = reports[~by_lead & ~reports.meeting_id.isin(reports.meeting_id[by_lead])].drop_duplicates("meeting_id")
    other = other[["meeting_id", "speaker"]].merge(m, on="meeting_id")
    other = other.assign(speaker_name=ctx.name_of(other.speaker))
    return concat(
        recorded_after(ctx, none, fmt("{lead} {secretary_name} 未{where}代表班子作对照检查（应先班子后个人）", none),
                       severity=none.severity),
        emit(other, fmt("班子对照检查应由{lead} {secretary_name} 代表班子作出，实际由 {speaker_name} 作出", other),
             severity=other.severity),
    )


@register("MEET-OPINIONS-REPORTED", "MEET", "会上通报征求意见", "warning", ALL, "000 第一篇 2.3；003 民主 三.2②",
          branch="000 第一篇 2.3", no_committee="000 第一篇 2.3", leadership="003 民主 三.2②")
def opinions_reported(ctx) -> pd.DataFrame:
    """The opinions gathered before the meeting (党员群众意见) were reported to it (通报征求意见)."""
    m = ctx.held
    m = m[m.meeting_id.isin(ctx.frames.opinions.meeting_id)]
    return unset_or_refused(ctx, m, m.opinions_reported, "会上未通报会前征求到的党员群众意见")


@register("MEET-UNIT-RESPONSES", "MEET", "回应规定问题", "error", ALL, "000 第三篇 第二步；003 三.1")
def unit_responses(ctx) -> pd.DataFrame:
    """In the profile's ``unit_response_kinds`` (default: 专题组织生活会) a 机关 branch answers its five named
    questions, a 执法监管 or 窗口服务 branch its three; in every meeting each question the superior named (上级点明)
    is answered (回应摘要). One finding per unanswered question."""
    m = ctx.held
    r = ctx.only(ctx.frames.responses, m)
    answered = r[~blank(r.summary)]
    kinds = [k.value for k in ctx.profile.unit_response_kinds]
    named = m[m.kind.isin(kinds) & m.unit_type.isin(list(NAMED_QUESTIONS))]
    questions = pd.DataFrame([(unit, code, text) for unit, items in NAMED_QUESTIONS.items() for code, text in items],
                             columns=["unit_type", "code", "question_text"])
    need = named[["meeting_id", "branch_id", "unit_type", "report_due"]].astype({"unit_type": object}).merge(
        questions, on="unit_type")
    required = answered[answered.source.eq(QuestionSource.required.value)]
    done = pd.DataFrame({"meeting_id": required.meeting_id, "code": required.question.astype(object)})
    gap = need[~matched(need.astype({"code": object}), done, ["meeting_id", "code"])]
    gap = gap.assign(unit_label=gap.unit_type.map(UnitType.label_of))
    superior = r[r.source.eq(QuestionSource.superior.value) & blank(r.summary)]
    superior = superior.merge(m[["meeting_id", "branch_id", "report_due"]], on="meeting_id")
    return concat(
        recorded_after(ctx, gap, fmt("{unit_label}党组织未对“{question_text}”问题作出回应", gap)),
        recorded_after(ctx, superior, fmt("上级点明的问题“{question}”未作回应", superior)),
    )


@register("MEET-ATTENDANCE", "MEET", "党员参会", "error", ALL, "003 一.3；000 第一篇 3.5")
def attendance(ctx) -> pd.DataFrame:
    """Every expected member attends; 灵活参加 (another form, or at the 流入地/流出地 branch) counts. 缺席 (no reason)
    is an error, but a 年老体弱 or 流动 member absent is a warning to the branch, which should have organised their
    participation; 请假 needs a reason (warning without one); a 领导干部 excused (请假 with a reason) from a branch
    meeting is a warning to verify (attends as an ordinary member, rules.md rev 3), without a reason an error;
    unrecorded is a warning, pending until the report deadline."""
    r = held_roster(ctx)
    r = r.merge(ctx.held[["meeting_id", "report_due"]], on="meeting_id")
    branch_meeting = ~r.kind.eq(LEADERSHIP).fillna(False)
    leave = r.presence.eq(Presence.leave.value).fillna(False)
    cadre_leave = branch_meeting & r.leading_cadre & leave
    unexplained = blank(r.reason)
    cadre_away = r[cadre_leave & ~unexplained]
    cadre_unexcused = r[cadre_leave & unexplained]
    no_reason = r[leave & unexplained & ~(branch_meeting & r.leading_cadre)]
    absent = r.presence.eq(Presence.absent.value).fillna(False)
    fragile = r.situation.isin([Situation.frail.value, Situation.mobile.value])
    unexcused = r[absent & ~fragile]
    unreached = r[absent & fragile]
    unreached = unreached.assign(situation_label=unreached.situation.astype(object).map(Situation.label_of))
    unknown = r[r.presence.isna()]
    return concat(
        emit(unexcused, fmt("{name} 无故缺席会议", unexcused), subject="member_id"),
        emit(unreached, fmt("{situation_label}党员 {name} 未参加会议：支部应以灵活多样的形式组织其参加（送学上门、"
                            "网上参会或在流入地党组织参加）", unreached), severity="warning"),
        emit(cadre_away, fmt("领导干部 {name} 请假未参加（原因：{reason}）：领导干部应以普通党员身份参加所在支部组织生活会，"
                             "请核实请假理由", cadre_away), subject="member_id", severity="warning"),
        emit(cadre_unexcused, fmt("领导干部 {name} 请假未说明原因，应以普通党员身份参加所在支部组织生活会",
                                  cadre_unexcused), subject="member_id"),
        emit(no_reason, fmt("{name} 请假未说明原因", no_reason), subject="member_id", severity="warning"),
        recorded_after(ctx, unknown, fmt("{name} 的出席情况未登记", unknown), subject="member_id",
                       severity="warning"),
    )


@register("MEET-WRITTEN-STATEMENT", "MEET", "书面发言宣读", "error", ALL, "000 第一篇 2.6；003 民主 三.3",
          branch="000 第一篇 2.6", no_committee="000 第一篇 2.6", leadership="003 民主 三.3")
def written_statement(ctx) -> pd.DataFrame:
    """An absentee's written statement, where submitted, is read out at the meeting and recorded."""
    r = held_roster(ctx)
    r = r[r.written_statement.fillna(False) & ~r.read_out.fillna(False)
          & r.presence.isin([Presence.leave.value, Presence.absent.value])]
    return emit(r, fmt("{name} 提交的书面发言未在会上宣读并列入会议记录", r), subject="member_id")


@register("MEET-SUPERIOR-COMMENT", "MEET", "上级参会点评", "error", ALL, "003 三.2；000 第三篇 第六步；003 民主 三.4",
          branch="003 三.2；000 第三篇 第六步", no_committee="003 三.2；000 第三篇 第六步", leadership="003 民主 三.4")
def superior_comment(ctx) -> pd.DataFrame:
    """The superior's representative attended and commented (组织点评): required (error) for 专题组织生活会 and
    民主生活会; for an ordinary 组织生活会 '如有必要' (000 第一篇 2.8), so a warning."""
    m = ctx.held
    severity = pd.Series(np.where(m.kind.eq("regular").fillna(False), "warning", "error"), index=m.index)
    away = m[blank(m.superior_attendee)]
    silent = m[~blank(m.superior_attendee) & blank(m.superior_comment)]
    return concat(recorded_after(ctx, away, "上级党组织未派人参会指导", severity=severity),
                  recorded_after(ctx, silent, fmt("上级参会同志 {superior_attendee} 未对会议作点评", silent),
                                 severity=severity))


@register("MEET-SUMMARY", "MEET", "书记会议小结", "error", ALL, "003 三.3；003 民主 三.2⑦、三.4",
          branch="003 三.3", no_committee="003 三.3", leadership="003 民主 三.2⑦、三.4")
def summary(ctx) -> pd.DataFrame:
    """The secretary summed up the meeting (会议小结 / 表态发言)."""
    m = ctx.held
    m = m[blank(m.summary)]
    return recorded_after(ctx, m, fmt("书记 {secretary_name} 未作会议小结（表态发言）", m))


@register("MEET-MINUTES", "MEET", "会议记录", "error", ALL, "000 第一篇 2.9；第五篇 (二)3；003 民主 四.2",
          branch="000 第一篇 2.9；第五篇 (二)3", no_committee="000 第一篇 2.9；第五篇 (二)3",
          leadership="003 民主 四.2")
def minutes(ctx) -> pd.DataFrame:
    """Minutes (会议记录) were kept (民主生活会: their copy goes to the superior with the report)."""
    m = ctx.held
    return unset_or_refused(ctx, m, m.minutes_kept, "未作会议记录")


@register("MEET-DURATION", "MEET", "机关专题会不少于半天", "warning", ("special",), "000 第三篇")
def duration(ctx) -> pd.DataFrame:
    """A 专题组织生活会 of an organ (机关) branch lasts ≥ ``organ_special_min_hours`` (原则上: warning)."""
    m = ctx.held
    m = m[m.unit_type.eq(UnitType.organ.value).fillna(False)].assign(need=float(ctx.profile.organ_special_min_hours))
    unknown = m[m.hours.isna()]
    short = m[m.hours.lt(m.need)]
    return concat(recorded_after(ctx, unknown, fmt("机关专题组织生活会未登记时长，原则上应不少于 {need} 小时（半天）",
                                                   unknown)),
                  emit(short, fmt("机关专题组织生活会只开了 {hours} 小时，原则上应不少于 {need} 小时（半天）", short)))


@register("MEET-SEPARATE", "MEET", "民主生活会专门召开", "error", LEADERSHIP_ONLY, "003 民主 一.3")
def separate(ctx) -> pd.DataFrame:
    """A 民主生活会 is held on its own, not merged with another meeting."""
    m = ctx.held
    return emit(m[m.merged.fillna(False)], "民主生活会与其他会议合并召开，应专门召开")
