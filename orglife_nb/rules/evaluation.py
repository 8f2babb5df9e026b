"""Democratic evaluation rules (民主评议党员), for held meetings combined with the evaluation (结合民主评议)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..models import GROUP, VOTING_PRESENCE, Level, MeetingKind, RatingScheme
from .common import concat, emit, fmt, kind_label, missing, recorded_after, unset_or_refused
from .facts import ballot_count_text, ballot_counts, duplicated
from .meeting import blank
from .registry import BRANCH_MEETINGS, REGULAR_ONLY, register

LEVEL_LABELS = {level.value: level.label for level in Level}
SCHEME_LABELS = {scheme.value: scheme.label for scheme in RatingScheme}


SCHEMES = [s.value for s in RatingScheme]
LEVELS = [level.value for level in Level]


def _evaluated(ctx) -> pd.DataFrame:
    """Held meetings of the rule's kinds combined with 民主评议, with their rating scheme (profile's if none)."""
    return ctx.shared("evaluated", _evaluated_meetings)


def _evaluated_meetings(ctx) -> pd.DataFrame:
    m = ctx.held
    m = m[m.with_evaluation.fillna(False)]
    scheme = m.rating_scheme.astype(object).fillna(ctx.profile.rating_scheme.value)
    return m.assign(scheme=pd.Categorical(scheme, categories=SCHEMES))


def _in_scheme(ctx, frame: pd.DataFrame) -> np.ndarray:
    """Whether each row's ``level`` belongs to its ``scheme`` (a scheme × level lookup on category codes)."""
    allowed = np.zeros((len(SCHEMES) + 1, len(LEVELS) + 1), dtype=bool)  # last row/column: missing (-1)
    for scheme, levels in ctx.profile.rating_levels.items():
        allowed[SCHEMES.index(RatingScheme(scheme).value), [LEVELS.index(Level(v).value) for v in levels]] = True
    scheme = pd.Categorical(frame.scheme, categories=SCHEMES).codes
    level = pd.Categorical(frame.level, categories=LEVELS).codes
    return allowed[scheme, level]


def _member_lines(ballots: pd.DataFrame) -> pd.DataFrame:
    """Ballot lines rating a member: a line on the 班子 as a whole is no member's (EVAL-GROUP-BALLOT's)."""
    return ballots[~ballots.rated_id.isin([GROUP])]


def _full_members(ctx, m: pd.DataFrame) -> pd.DataFrame:
    """Full members (正式党员) expected at the meetings, with their rating row (if any) and ``exempt``: present at
    that year's 民主生活会, so they may skip the branch evaluation (000 第三篇 第六步: 可不参加民主测评)."""
    r = ctx.only(ctx.roster, m)
    r = r.loc[r.full, ["meeting_id", "branch_id", "member_id", "name", "date", "held"]]
    ratings = ctx.only(ctx.frames.ratings, m).drop_duplicates(["meeting_id", "member_id"], keep="last")
    r = r.merge(ratings, on=["meeting_id", "member_id"], how="left").merge(
        m[["meeting_id", "scheme", "year", "report_due"]], on="meeting_id")
    r = r.merge(ctx.leadership_attendees.assign(exempt=True), on=["member_id", "year"], how="left")
    return r.assign(exempt=r.exempt.fillna(False).astype(bool))


def _ratings(ctx) -> pd.DataFrame:
    """Rating rows of evaluated meetings, with names (three rules read them)."""
    return ctx.shared("ratings", _named_ratings)


def _named_ratings(ctx) -> pd.DataFrame:
    m = _evaluated(ctx)
    r = ctx.only(ctx.frames.ratings, m).merge(m[["meeting_id", "branch_id", "date", "held", "report_due"]],
                                              on="meeting_id")
    return r.assign(name=ctx.name_of(r.member_id.astype(object)),
                    level_label=r.level.astype(object).map(LEVEL_LABELS))


@register("EVAL-COMBINED", "EVAL", "年底结合民主评议", "error", REGULAR_ONLY, "003 一.2")
def combined(ctx) -> pd.DataFrame:
    """Among the meetings counting for a 下半年 (``periods.attributed``), a 组织生活会 is combined with 民主评议党员;
    a 专题组织生活会 only where no 组织生活会 counts for it (one finding on the half-year's last candidate)."""
    m = ctx.meetings_of(BRANCH_MEETINGS)
    m = m[m.counts_half.eq("second").to_numpy()]
    regular = m.kind.eq(MeetingKind.regular.value).fillna(False)
    with_regular = regular.groupby([m.branch_id, m.counts_year], observed=True).transform("any")
    m = m[(regular | ~with_regular.astype(bool)).to_numpy()]
    m = m.assign(combined=m.with_evaluation.fillna(False).astype(bool), year=m.counts_year)
    any_combined = m.groupby(["branch_id", "year"], observed=True).combined.transform("any")
    last = m[~any_combined].sort_values("date").drop_duplicates(["branch_id", "year"], keep="last")
    last = last.assign(kind_label=kind_label(last))
    return missing(ctx, last, "{year} 年下半年（年底）{kind_label}未结合开展民主评议党员")


@register("EVAL-SELF", "EVAL", "党员个人小结", "error", BRANCH_MEETINGS, "000 第三篇 第三步 2")
def self_evaluation(ctx) -> pd.DataFrame:
    """Every full member (正式党员) gave a self-evaluation (个人小结); 预备党员 are not evaluated, and a 领导干部
    exempt from the branch rating (see EVAL-RATING) is exempt from its self-evaluation too."""
    r = ctx.shared("full members", lambda scope: _full_members(scope, _evaluated(scope)))
    r = r[~r.self_summary.fillna(False) & ~r.exempt]
    return unset_or_refused(ctx, r, r.self_summary, "正式党员 {name} 未作个人小结（自评）", subject="member_id")


@register("EVAL-BALLOTS", "EVAL", "民主测评票", "error", BRANCH_MEETINGS, "000 第二篇 二.3；第三篇 第三步 4")
def ballots(ctx) -> pd.DataFrame:
    """Ballots exist; they use the levels of the meeting's **ballot** scheme only (三档 好/一般/差 or 四档); no
    ballot rates a member twice; member ballots ≤ members present (群众代表's ballots count as their own invited
    voters). Lines on the 班子 are held to the scheme and to one per ballot too, but are no member ballot."""
    m = _evaluated(ctx)
    b = ctx.attach(ctx.frames.ballots, m, ["branch_id", "scheme"])
    none = m[~m.meeting_id.isin(_member_lines(b).meeting_id)]
    # names and labels only for the flagged rows: mapping every ballot line costs more than the checks
    foreign = _labelled(ctx, b[~_in_scheme(ctx, b)].drop_duplicates(["meeting_id", "ballot_no", "rated_id", "level"]))
    twice = b[duplicated(b, ["meeting_id", "ballot_no", "rated_id"], keep=False)]
    twice = _labelled(ctx, twice.drop_duplicates(["meeting_id", "ballot_no", "rated_id"]))

    # one count of ballots (facts.ballot_counts): the report's chart and the forms state the same numbers
    counts = ballot_counts(_member_lines(b))
    # eligible member voters: those attending, 灵活参加 included (a frail member's ballot filled in at home)
    r = ctx.roster
    voters = ctx.only(r.loc[r.presence.isin(VOTING_PRESENCE).to_numpy(), ["meeting_id"]], m)
    present = voters.groupby("meeting_id", observed=True).size().rename("present")
    over = m.join(counts, on="meeting_id").join(present, on="meeting_id")
    over = over.assign(present=over.present.fillna(0).astype(int))
    over = over[over.members.gt(over.present).fillna(False)]
    # the few meetings over the count, by plain ids: a lookup in the categorical index of every meeting costs ms
    few = counts[counts.index.isin(over.meeting_id)].rename(index=str)
    over = over.assign(ballots=[ballot_count_text(few, str(meeting), "测评票") for meeting in over.meeting_id])
    return concat(
        recorded_after(ctx, none, "结合民主评议党员但未进行民主测评（无测评票）"),
        emit(foreign, fmt("测评票 {ballot_no} 对 {name} 评为“{level_label}”，不属于{scheme_label}测评方案", foreign),
             subject="rated_id"),
        emit(twice, fmt("测评票 {ballot_no} 对 {name} 评了不止一次", twice), subject="rated_id"),
        emit(over, fmt("收回 {ballots}，党员票多于到会党员（含灵活参加）{present} 人", over)),
    )


@register("EVAL-GROUP-BALLOT", "EVAL", "班子民主测评", "warning", BRANCH_MEETINGS, "000 第二篇 二.2")
def group_ballot(ctx) -> pd.DataFrame:
    """A branch with a committee rates its 班子 as a whole in the 民主测评 of a meeting combined with 民主评议
    (at least one ballot line with 被测评人 班子, rules.md rev 3); pending until the report deadline like the
    other missing ballots."""
    m = _evaluated(ctx)
    m = m[m.has_committee]
    b = ctx.only(ctx.frames.ballots, m)
    none = m[~m.meeting_id.isin(b.meeting_id[b.rated_id.isin([GROUP])])]
    return recorded_after(ctx, none, "结合民主评议党员，但民主测评没有对支部班子的测评（测评表被测评人“班子”）")


def _labelled(ctx, b: pd.DataFrame) -> pd.DataFrame:
    return b.assign(name=ctx.name_of(b.rated_id.astype(object)), level_label=b.level.astype(object).map(LEVEL_LABELS),
                    scheme_label=b.scheme.astype(object).map(SCHEME_LABELS))


@register("EVAL-RATING", "EVAL", "评定等次", "error", BRANCH_MEETINGS, "000 第二篇 二.4；第三篇 第四步、第六步")
def rating(ctx) -> pd.DataFrame:
    """Every full member has a final rating (评定等次), always one of the four levels 优秀/合格/基本合格/不合格 (the
    model admits no other; a 三档 ballot scheme does not change it), except a 领导干部 who was present at that
    year's 民主生活会 (000 第三篇 第六步: 可不参加民主测评)."""
    r = ctx.shared("full members", lambda scope: _full_members(scope, _evaluated(scope)))
    unrated = r[r.level.isna() & ~r.exempt]
    return recorded_after(ctx, unrated, fmt("正式党员 {name} 未评定等次", unrated), subject="member_id")


LOW_RATINGS = (Level.basic.value, Level.unqualified.value)
LOW_BALLOTS = (Level.poor.value, Level.basic.value, Level.unqualified.value)


@register("EVAL-HELP", "EVAL", "评议较差党员帮促", "warning", BRANCH_MEETINGS, "000 第五篇 (三)1")
def help_assigned(ctx) -> pd.DataFrame:
    """A member rated 基本合格 or 不合格, or whose ballots are mostly 差 (三档) or 基本合格/不合格 (四档), has a
    designated helper (帮促人, another member) for talks and help after the meeting."""
    m = _evaluated(ctx)
    ratings = ctx.only(ctx.frames.ratings, m).drop_duplicates(["meeting_id", "member_id"], keep="last")
    b = _member_lines(ctx.only(ctx.frames.ballots, m))
    # ballots per (meeting, rated member) on integer codes: grouping 1.5 million lines by two categoricals and
    # aligning the two counts cost most of this rule
    people = b.rated_id.cat.categories
    rated = b.rated_id.cat.codes.to_numpy().astype(np.int64)
    key = b.meeting_id.cat.codes.to_numpy().astype(np.int64) * len(people) + rated
    known = (rated >= 0) & (b.meeting_id.cat.codes.to_numpy() >= 0)
    low_keys, low_count = np.unique(key[known & b.level.isin(LOW_BALLOTS).to_numpy()], return_counts=True)
    # only members with a low ballot can have mostly low ballots: count those members' ballots alone
    all_keys, all_count = np.unique(key[known & np.isin(key, low_keys)], return_counts=True)
    mostly = low_keys[low_count / all_count > 0.5]  # the same keys in the same (sorted) order on both sides
    mostly = pd.DataFrame({"meeting_id": pd.Categorical.from_codes(mostly // len(people), dtype=b.meeting_id.dtype),
                           "member_id": pd.Categorical.from_codes(mostly % len(people), dtype=b.rated_id.dtype)})
    flagged = pd.concat([ratings.loc[ratings.level.isin(LOW_RATINGS), ["meeting_id", "member_id"]],
                         mostly[["meeting_id", "member_id"]].astype(ratings[["meeting_id", "member_id"]].dtypes)])
    flagged = flagged.drop_duplicates().merge(ratings[["meeting_id", "member_id", "level", "helper"]],
                                              on=["meeting_id", "member_id"], how="left")
    flagged = flagged.merge(m[["meeting_id", "branch_id", "report_due"]], on="meeting_id")
    flagged = flagged.assign(name=ctx.name_of(flagged.member_id), why=np.where(
        flagged.level.isin(LOW_RATINGS), "评定为“" + flagged.level.astype(object).map(LEVEL_LABELS).fillna("") + "”",
        "民主测评多数票为较差等次"))
    none = flagged[flagged.helper.isna()]
    oneself = flagged[flagged.helper.notna() & flagged.helper.astype(object).eq(flagged.member_id.astype(object))]
    return concat(
        recorded_after(ctx, none, fmt("{name} {why}，未指定帮促人会后对其谈话帮促", none), subject="member_id"),
        emit(oneself, fmt("{name} {why}，帮促人应为其他党员，不能是本人", oneself), subject="member_id"),
    )


@register("EVAL-EXCELLENT-VOTE", "EVAL", "优秀经大会表决", "error", BRANCH_MEETINGS, "000 第二篇 二.4")
def excellent_vote(ctx) -> pd.DataFrame:
    """A member rated 优秀 was approved by the assembly's vote (表决通过)."""
    r = _ratings(ctx)
    r = r[r.level.eq(Level.excellent.value) & ~r.vote_passed.fillna(False)]
    return unset_or_refused(ctx, r, r.vote_passed, "{name} 评为优秀，但未经党员大会表决通过", subject="member_id")


@register("EVAL-UNQUALIFIED", "EVAL", "不合格的处理意见", "error", BRANCH_MEETINGS, "000 第二篇 二.4")
def unqualified(ctx) -> pd.DataFrame:
    """A member rated 不合格 has a handling opinion (处理意见)."""
    r = _ratings(ctx)
    r = r[r.level.eq(Level.unqualified.value) & blank(r.handling)]
    return recorded_after(ctx, r, fmt("{name} 评为不合格，但没有支委会的处理意见", r), subject="member_id")


@register("EVAL-FEEDBACK", "EVAL", "评定结果反馈本人", "error", BRANCH_MEETINGS, "000 第三篇 第四步")
def feedback(ctx) -> pd.DataFrame:
    """Every rating was fed back to the member (反馈日期). The seeds give no number: it is due with the report
    to the superior (``report_days``), pending until then."""
    r = _ratings(ctx)
    r = r[r.level.notna() & r.feedback_date.isna()]
    return missing(ctx, r, "{name} 的评定等次（{level_label}）未向本人反馈", due=r.report_due, subject="member_id")
