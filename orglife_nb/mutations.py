"""One mutation per rule of docs/spec/rules.md: break exactly that rule in the compliant baseline.

The rule tests do, for every rule ID::

    batch, subject = apply_mutation(baseline_batch(), rule)
    → checks(batch, as_of=BASELINE_AS_OF) holds exactly one finding of ``rule`` (meeting = BASELINE_MEETINGS[m.meeting],
      subject = subject) and no other error/warning than the baseline's.

The same helpers plant problems in the demo (``plant_demo``, ``plant_random``): each helper works on plain rows of
one branch, picks its target from the data (secretary, a committee member, the absentee …) and raises
``NotApplicable`` *before* changing anything when the meeting offers no such target.

Subjects: a member id for rules about one person (talks, materials, opinion feedback about a person, criticism
items, attendance, evaluation per member, the owner of an overdue rectification item); None for rules about the
meeting or the branch. Readings chosen where rules.md leaves room are noted on each helper.
"""
from __future__ import annotations

import copy
import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import Callable

from .rows import (BASELINE_AS_OF, BASELINE_MEETINGS, COMMITTEE_ROLES, HOURS_PER_DAY, Rows, on_day, secretary_of,
                   to_batch, to_rows)
from .models import (GROUP, SUPERIOR, Attendance, Ballot, Branch, Criticism, Material, Meeting, Member, Opinion,
                     Rating, Record, Rectification, Response, Study, Talk, Tenure)

# default profile numbers the mutations step over (rules.md parameter table)
NOTICE_DAYS, SUPERIOR_NOTICE_DAYS, PLAN_DAYS, PUBLIC_NOTICE_DAYS = 10, 7, 15, 15
REPORT_DAYS = {"regular": 10, "special": 10, "leadership": 15}
PUBLIC_REPORT_DAYS = 30
ORGAN_SPECIAL_MIN_HOURS = 4


class NotApplicable(Exception):
    """The meeting offers nothing this mutation can break (nothing was changed)."""


@dataclass
class Target:
    """A branch's rows and the meeting a mutation works on."""

    rows: Rows
    meeting_id: str | None
    as_of: dt.date
    convert: bool = False  # may change the branch itself (baseline only: organ → community)

    @property
    def meeting(self) -> dict:
        for m in self.rows[Meeting]:
            if m["meeting_id"] == self.meeting_id:
                return m
        raise NotApplicable(f"no meeting {self.meeting_id}")

    @property
    def kind(self) -> str:
        return self.meeting["kind"]

    @property
    def branch(self) -> dict:
        bid = self.meeting["branch_id"]
        return next(b for b in self.rows[Branch] if b["branch_id"] == bid)

    @property
    def members(self) -> list[dict]:
        """The branch's members on the meeting's day, in their roles that day (a 换届 or a newcomer, rev 3)."""
        bid = self.meeting["branch_id"]
        return on_day([m for m in self.rows[Member] if m["branch_id"] == bid], self.rows.get(Tenure, []),
                      self.meeting["date"])

    @property
    def secretary(self) -> str:
        return secretary_of(self.members)["member_id"]

    def of(self, record: type[Record]) -> list[dict]:
        return [r for r in self.rows[record] if r["meeting_id"] == self.meeting_id]

    def drop(self, record: type[Record], doomed: list[dict]) -> None:
        ids = {id(r) for r in doomed}
        self.rows[record] = [r for r in self.rows[record] if id(r) not in ids]

    def committee(self) -> list[str]:
        """Who must do the mutual criticism and submit materials (leadership: the group; else the committee)."""
        if self.kind == "leadership":
            return [m["member_id"] for m in self.members if m["leadership_member"]]
        if self.branch["has_committee"]:
            return [m["member_id"] for m in self.members if m["role"] in COMMITTEE_ROLES]
        return []

    def ordinary(self) -> list[str]:
        """Present full members outside the committee/group, not the secretary, not 优秀: the plainest targets."""
        present = {a["member_id"] for a in self.of(Attendance) if a["presence"] == "present"}
        excellent = {r["member_id"] for r in self.of(Rating) if r["level"] == "excellent"}
        skip = set(self.committee()) | excellent | {self.secretary}
        return [m["member_id"] for m in self.members if m["member_id"] in present and m["status"] == "full"
                and m["member_id"] not in skip and not m["leadership_member"]]

    def absentee(self, *, statement: bool = False) -> dict:
        for a in self.of(Attendance):
            if a["presence"] == "leave" and (a["written_statement"] or not statement):
                return a
        raise NotApplicable("no absentee")

    def rated(self, level: str | None = None) -> dict:
        ordinary = self.ordinary()
        for r in self.of(Rating):
            if (r["member_id"] in ordinary and level is None) or (level is not None and r["level"] == level):
                return r
        raise NotApplicable("no rating")

    def need(self, condition: bool, why: str = "") -> None:
        if not condition:
            raise NotApplicable(why)

    def days(self, n: int) -> dt.date:
        return self.meeting["date"] + dt.timedelta(days=n)


def _late(t: Target, name: str, limit: int) -> None:
    """Make an after-meeting date miss its limit: later than allowed, or missing once the limit has passed."""
    late = t.days(limit + 6)
    if late <= t.as_of:
        t.meeting[name] = late
    elif t.days(limit) < t.as_of:
        t.meeting[name] = None
    else:
        raise NotApplicable("deadline not yet passed")


# --------------------------------------------------------------------------------------------------------------
# Helpers: one per rule. Each returns the finding's subject.


def _meeting_field(name: str, value) -> Callable[[Target], None]:
    def helper(t: Target):
        t.meeting[name] = value

    return helper


prep_topic = _meeting_field("topic", None)
meet_superior_comment = _meeting_field("superior_comment", None)
meet_summary = _meeting_field("summary", None)
meet_minutes = _meeting_field("minutes_kept", False)


def prep_plan(t: Target):
    # a 民主生活会 plan is 审定 by the 主要负责同志, not approved by the superior (rules.md rev 3)
    t.need(t.kind != "leadership" and t.meeting["plan_sent"] is not None)
    t.meeting["plan_approved"] = False


def prep_plan_deadline(t: Target):
    t.need(t.kind == "leadership" and t.meeting["plan_sent"] is not None)
    t.meeting["plan_sent"] = t.days(-(PLAN_DAYS - 5))


def prep_notice(t: Target):
    t.meeting["notice_date"] = t.days(-(NOTICE_DAYS - 3))


def prep_superior_notice(t: Target):
    t.need(t.kind != "leadership")
    t.meeting["superior_notice_date"] = t.days(-(SUPERIOR_NOTICE_DAYS - 4))


def prep_public_notice(t: Target):
    t.need(t.kind == "leadership")
    t.meeting["public_notice_date"] = t.days(-(PUBLIC_NOTICE_DAYS - 5))


def prep_study(t: Target):
    """All concentrated study turned into self-study: the total still suffices, the concentrated part is 0."""
    sessions = t.of(Study)
    t.need(any(s["form"] == "concentrated" for s in sessions))
    t.need(sum(s["hours"] or 0 for s in sessions) >= (3 if t.kind == "leadership" else 1) * HOURS_PER_DAY)
    for s in sessions:
        s["form"] = "self_study"


def prep_opinions(t: Target):
    """Opinions only from 党员: the 群众 side is missing (compiled report still there)."""
    opinions = t.of(Opinion)
    public = [o for o in opinions if o["source"] == "public"]
    t.need(public and len(public) < len(opinions))
    t.drop(Opinion, public)


def prep_opinions_feedback(t: Target):
    """One opinion about a committee (group) member other than the secretary is not fed back."""
    committee = [m for m in t.committee() if m != t.secretary] or [t.secretary]
    for opinion in t.of(Opinion):
        if opinion["target"] in committee and opinion["feedback_date"] is not None:
            opinion["feedback_date"] = None
            return opinion["target"]
    raise NotApplicable("no opinion about a committee member")


def prep_talks(t: Target):
    """The secretary's talk with one member (outside the committee where possible) is missing."""
    secretary = t.secretary
    committee = set(t.committee())
    talks = t.of(Talk)
    partners = [r["talkee"] if r["talker"] == secretary else r["talker"] for r in talks
                if secretary in (r["talker"], r["talkee"]) and SUPERIOR not in (r["talker"], r["talkee"])]
    t.need(partners, "no secretary talks")
    plain = {m["member_id"] for m in t.members if not m["leadership_member"]} - committee
    chosen = next((p for p in partners if p in plain), partners[0])
    t.drop(Talk, [r for r in talks if {r["talker"], r["talkee"]} == {secretary, chosen}])
    return chosen


def prep_materials(t: Target):
    """A committee (group) member other than the secretary submitted no material (no committee: the secretary)."""
    materials = t.of(Material)
    owners = [m["member_id"] for m in materials]
    chosen = next((o for o in owners if o != t.secretary), owners[0] if owners else None)
    t.need(chosen is not None)
    t.drop(Material, [m for m in materials if m["member_id"] == chosen])
    return chosen


def prep_community_list(t: Target):
    """The problem list was not published before this meeting. On a non-community branch (the organ baseline) the
    branch becomes a 社区 branch whose other meetings did publish their lists, so only this meeting is at fault."""
    if t.branch["unit_type"] != "community":
        t.need(t.convert, "not a community branch")
        t.branch["unit_type"] = "community"
        for meeting in t.rows[Meeting]:
            if meeting["branch_id"] == t.branch["branch_id"]:
                meeting["problem_list_published"] = meeting["date"] - dt.timedelta(days=3)
    t.need(t.meeting["problem_list_published"] is not None)
    t.meeting["problem_list_published"] = None


def meet_host(t: Target):
    """Chaired by a committee member (else another member) instead of the secretary."""
    others = [m for m in t.committee() if m != t.secretary] or [m["member_id"] for m in t.members
                                                                if m["member_id"] != t.secretary]
    t.meeting["host_id"] = others[0]


def meet_prior_rectification(t: Target):
    earlier = [m for m in t.rows[Meeting] if m["branch_id"] == t.meeting["branch_id"] and m["kind"] == t.kind
               and m["date"] < t.meeting["date"]]
    t.need(earlier, "no previous meeting of this kind")
    t.meeting["prior_rectification_reported"] = False


def meet_order(t: Target):
    """With a committee stage: the 党员大会 stage is held first. Else (leadership, no committee): the secretary's
    self-criticism moves to the end of the stage."""
    items = sorted(t.of(Criticism), key=lambda c: c["seq"])
    t.need(items)
    stages = {c["stage"] for c in items}
    if "committee" in stages and "assembly" in stages:
        items.sort(key=lambda c: (c["stage"] != "assembly", c["seq"]))
    else:
        head = [c for c in items if c["target"] == t.secretary and c["act"] == "self_criticism"]
        t.need(head)
        items = [c for c in items if c not in head] + head
    for seq, c in enumerate(items, start=1):
        c["seq"] = seq


def meet_criticism(t: Target):
    """In the committee (民主生活会) stage one member criticises a non-secretary member less: subject = the target."""
    for c in sorted(t.of(Criticism), key=lambda c: c["seq"]):
        if c["stage"] in ("committee", "leadership") and c["act"] == "criticism" and c["target"] != t.secretary:
            t.drop(Criticism, [c])
            return c["target"]
    raise NotApplicable("no mutual criticism stage")


def meet_self_criticism(t: Target):
    t.need(t.kind != "leadership")
    ordinary = t.ordinary()
    for c in t.of(Criticism):
        if c["stage"] == "assembly" and c["act"] == "self_criticism" and c["target"] in ordinary:
            t.drop(Criticism, [c])
            return c["target"]
    raise NotApplicable("no ordinary member's self-criticism")


def _drop_first(t: Target, record: type[Record], match: Callable[[dict], bool], why: str):
    """Drop the first row of the meeting's ``record`` rows that ``match``es (by seq for criticism records)."""
    rows = sorted(t.of(record), key=lambda r: r.get("seq") or 0)
    for row in rows:
        if match(row):
            t.drop(record, [row])
            return row
    raise NotApplicable(why)


def prep_leader_opinions(t: Target):
    """No opinion at all was asked about a 领导干部 outside the committee (group): subject = that cadre."""
    t.need(t.kind != "leadership")
    committee = set(t.committee()) | {t.secretary}
    cadres = [m["member_id"] for m in t.members if m["leading_cadre"] and m["member_id"] not in committee]
    for cadre in cadres:
        about = [o for o in t.of(Opinion) if o["target"] == cadre]
        if about:
            t.drop(Opinion, about)
            return cadre
    raise NotApplicable("no 领导干部 outside the committee asked about")


def prep_group_opinions_reported(t: Target):
    """The opinions on the 支部班子 reach the committee members two days after the meeting (not missing: a date
    after the meeting is the rule's error at once)."""
    t.need(t.meeting.get("group_opinions_reported_on") is not None, "no 班子 opinions reported")
    t.meeting["group_opinions_reported_on"] = t.days(2)


def meet_assembly_report(t: Target):
    """With a committee: the secretary's 通报 of the 班子's 对照检查 at the 党员大会 is missing; without one: the
    members' criticism of the secretary there."""
    t.need(t.kind != "leadership")
    if t.branch["has_committee"]:
        _drop_first(t, Criticism, lambda c: c["stage"] == "assembly" and c["act"] == "report", "no 通报")
    else:
        _drop_first(t, Criticism, lambda c: c["stage"] == "assembly" and c["act"] == "criticism"
                    and c["target"] in (t.secretary, GROUP), "no criticism of the secretary")


def meet_peer_review(t: Target):
    """党员大会: the one opinion another member gave an ordinary member after their self-criticism is dropped."""
    t.need(t.kind != "leadership")
    ordinary = t.ordinary()
    row = _drop_first(t, Criticism, lambda c: c["stage"] == "assembly" and c["act"] == "criticism"
                      and c["target"] in ordinary, "no peer review")
    return row["target"]


def meet_group_check(t: Target):
    """The 班子's 对照检查 that opens the 民主生活会 or, with a committee, the 支委会 stage is dropped."""
    stage = "leadership" if t.kind == "leadership" else "committee"
    _drop_first(t, Criticism, lambda c: c["stage"] == stage and c["act"] == "report" and c["target"] == GROUP,
                "no 班子 对照检查")


meet_opinions_reported = _meeting_field("opinions_reported", False)


def meet_unit_responses(t: Target):
    """One of the named questions of the unit type gets no answer; a unit type without named questions gets a
    question the superior named, left unanswered."""
    if any(r["source"] == "required" for r in t.of(Response)):
        _drop_first(t, Response, lambda r: r["source"] == "required", "no named questions")
    else:
        t.rows[Response].append(dict(meeting_id=t.meeting_id, source="superior", question="会风会纪是否严肃",
                                     responder=None, summary=None))


def meet_attendance(t: Target):
    """The 请假 absentee becomes 缺席 with no reason (no written statement; still told afterwards). Not a 年老体弱 or
    流动 member: their absence is the branch's warning, not an unexcused absence."""
    a = t.absentee()
    member = next(m for m in t.members if m["member_id"] == a["member_id"])
    t.need(member["situation"] in (None, "none", "hardship"), "the absentee is frail or mobile")
    a.update(presence="absent", reason=None, written_statement=None, read_out=None)
    return a["member_id"]


def meet_written_statement(t: Target):
    a = t.absentee(statement=True)
    a["read_out"] = False
    return a["member_id"]


def meet_duration(t: Target):
    t.need(t.kind == "special" and t.branch["unit_type"] == "organ")
    t.meeting["hours"] = ORGAN_SPECIAL_MIN_HOURS - 1.5


def meet_separate(t: Target):
    t.need(t.kind == "leadership")
    t.meeting["merged"] = True


def _evaluated(t: Target) -> None:
    t.need(t.meeting["with_evaluation"] and bool(t.of(Rating)), "not combined with 民主评议")


def eval_combined(t: Target):
    """The year-end regular meeting is not combined with 民主评议: no scheme, ballots or ratings."""
    t.need(t.kind == "regular" and t.meeting["half"] == "second")
    _evaluated(t)
    t.meeting.update(with_evaluation=False, rating_scheme=None)
    t.drop(Ballot, t.of(Ballot))
    t.drop(Rating, t.of(Rating))


def _rating_edit(changes: dict, level: str | None = None, scheme: str | None = None):
    """A helper changing one member's rating: an ordinary member's, or the first rated ``level``."""
    def helper(t: Target):
        _evaluated(t)
        t.need(scheme is None or t.meeting["rating_scheme"] == scheme)
        rating = t.rated(level)
        rating.update(changes)
        return rating["member_id"]

    return helper


def eval_ballots(t: Target):
    """Three ballots more than eligible voters (present members + 群众代表): copies of the last member ballot."""
    _evaluated(t)
    ballots = t.of(Ballot)
    numbers = sorted({b["ballot_no"] for b in ballots})
    last = [b for b in ballots if b["ballot_no"] == numbers[-1]]
    for extra in range(1, 4):
        for b in last:
            t.rows[Ballot].append(dict(b, ballot_no=f"{len(numbers) + extra:03d}", voter_type="member"))


def eval_group_ballot(t: Target):
    """No ballot rates the 班子: its lines are dropped (the members' lines stay)."""
    _evaluated(t)
    lines = [b for b in t.of(Ballot) if b["rated_id"] == GROUP]
    t.need(bool(lines), "no 班子 on the ballots")
    t.drop(Ballot, lines)


eval_self = _rating_edit({"self_summary": False})
# the level goes, the self-evaluation and feedback stay: only EVAL-RATING breaks
eval_rating = _rating_edit({"level": None})
eval_excellent_vote = _rating_edit({"vote_passed": False}, level="excellent")
def eval_unqualified(t: Target):
    """An ordinary member rated 不合格 with no handling opinion (a helper is named: EVAL-HELP stays quiet)."""
    _evaluated(t)
    rating = t.rated()
    rating.update(level="unqualified", vote_passed=None, handling=None, helper=t.secretary)
    return rating["member_id"]


def eval_help(t: Target):
    """An ordinary member rated 基本合格 with no helper (帮促人): the last such member, so that it can share a
    meeting with the other evaluation mutations (they take the first)."""
    _evaluated(t)
    ordinary = t.ordinary()
    rated = [r for r in t.of(Rating) if r["member_id"] in ordinary]
    t.need(rated, "no rating")
    rating = rated[-1]
    rating.update(level="basic", vote_passed=None, helper=None)
    return rating["member_id"]
eval_feedback = _rating_edit({"feedback_date": None})


def rect_present(t: Target):
    items = t.of(Rectification)
    t.need(items)
    t.drop(Rectification, items)


def rect_four_clear(t: Target):
    """One item names no 责任人 (subject None: the item has no owner to name)."""
    items = t.of(Rectification)
    t.need(items)
    items[0]["owner"] = None


def rect_personal(t: Target):
    """An ordinary member present has no personal rectification item."""
    ordinary = t.ordinary()
    items = [i for i in t.of(Rectification) if i["category"] == "individual" and i["owner"] in ordinary]
    t.need(items, "no personal items")
    owner = items[0]["owner"]
    t.drop(Rectification, [i for i in items if i["owner"] == owner])
    return owner


def rect_public(t: Target):
    t.need(t.of(Rectification), "nothing to publish")
    t.meeting["rectification_published"] = None


def rect_overdue(t: Target):
    """One item still 未完成 after its 时限 (moved before as_of if needed): subject = the item's 责任人."""
    latest = t.as_of - dt.timedelta(days=1)
    for item in t.of(Rectification):
        deadline = min(item["deadline"], latest)
        if deadline > t.meeting["date"] and item["owner"]:
            item.update(status="open", done_date=None, deadline=deadline)
            return item["owner"]
    raise NotApplicable("no item whose deadline can have passed")


def post_report(t: Target):
    _late(t, "report_sent", REPORT_DAYS[t.kind])


def post_absentee_informed(t: Target):
    a = t.absentee()
    a["informed_date"] = None
    return a["member_id"]


def post_public_report(t: Target):
    t.need(t.kind == "leadership")
    _late(t, "public_report_date", PUBLIC_REPORT_DAYS)


def _drop_meeting(t: Target) -> None:
    for record in (Study, Opinion, Talk, Material, Attendance, Criticism, Response, Ballot, Rating, Rectification):
        t.drop(record, t.of(record))
    t.drop(Meeting, [t.meeting])


def freq_half_year(t: Target):
    """The half-year's only regular meeting is dropped with all its rows, and so is any special meeting of that
    half-year (it counts too, rules.md rev 3). A later meeting stays fine: its prior_rectification_reported (是) is
    true whether or not an earlier meeting exists."""
    same = [m for m in t.rows[Meeting] if m["branch_id"] == t.meeting["branch_id"]
            and m["kind"] in ("regular", "special") and m["year"] == t.meeting["year"]
            and m["half"] == t.meeting["half"]]
    t.need(t.kind == "regular" and sum(m["kind"] == "regular" for m in same) == 1
           and _half_end(t.meeting) <= t.as_of)
    for special in [m for m in same if m["kind"] == "special"]:
        _drop_meeting(Target(t.rows, special["meeting_id"], t.as_of))
    _drop_meeting(t)


def freq_leadership_year(t: Target):
    """The year's 民主生活会 is dropped with its rows. Its cadres are then no longer exempt from the branch rating,
    so they are rated (self-evaluation, ballots, rating, feedback) in that year's evaluation meeting(s)."""
    t.need(t.kind == "leadership" and dt.date(t.meeting["year"], 12, 31) <= t.as_of)
    cadres = [m for m in t.committee()]
    year, branch = t.meeting["year"], t.meeting["branch_id"]
    _drop_meeting(t)
    for meeting in t.rows[Meeting]:
        if meeting["branch_id"] != branch or meeting["year"] != year or not meeting["with_evaluation"]:
            continue
        ratings = [r for r in t.rows[Rating] if r["meeting_id"] == meeting["meeting_id"]]
        if not ratings:
            continue
        normal = "qualified"  # the final rating is four-level; the ballots use the meeting's scheme
        on_ballot = "good" if meeting["rating_scheme"] == "three" else "qualified"
        missing = [c for c in cadres if c not in {r["member_id"] for r in ratings}
                   and next(m for m in t.rows[Member] if m["member_id"] == c)["status"] == "full"]
        numbers = sorted({b["ballot_no"] for b in t.rows[Ballot] if b["meeting_id"] == meeting["meeting_id"]})
        for c in missing:
            t.rows[Rating].append(dict(ratings[0], member_id=c, self_summary=True, level=normal, vote_passed=None,
                                       handling=None))
            for number in numbers:
                t.rows[Ballot].append(dict(meeting_id=meeting["meeting_id"], ballot_no=number, rated_id=c,
                                           level=on_ballot, voter_type=_voter(t.rows, meeting["meeting_id"], number)))


def _voter(rows: Rows, meeting_id: str, number: str) -> str | None:
    return next(b["voter_type"] for b in rows[Ballot] if b["meeting_id"] == meeting_id and b["ballot_no"] == number)


def _half_end(meeting: dict) -> dt.date:
    return dt.date(meeting["year"], 6, 30) if meeting["half"] == "first" else dt.date(meeting["year"], 12, 31)


# --------------------------------------------------------------------------------------------------------------
# The public table


@dataclass(frozen=True)
class Mutation:
    """Breaks exactly ``rule`` in the baseline; ``apply`` mutates the batch it is given (pass a copy).

    Works on every ``baseline_batch`` variant; where the variant lacks the target (no committee stage, no 机关
    special meeting, no 民主生活会) it raises ``NotApplicable`` and changes nothing.
    """

    rule: str
    meeting: str | None  # key of BASELINE_MEETINGS where the finding is expected; None for cadence rules
    description: str  # Chinese: what was broken
    helper: Callable[[Target], str | None] = field(repr=False)
    on: str | None = field(default=None, repr=False)  # the baseline meeting the helper works on
    touches: str = field(default="", repr=False)  # planting: two mutations of one meeting must differ here

    def apply(self, batch: dict) -> str | None:
        """Break the rule in ``batch`` (in place) and return the expected finding's subject."""
        rows = to_rows(batch)
        key = self.on or self.meeting
        subject = self.helper(Target(rows, BASELINE_MEETINGS[key], BASELINE_AS_OF, convert=True))
        batch.clear()
        batch.update(to_batch(rows))
        return subject


def _m(rule, meeting, description, helper, touches, on=None) -> Mutation:
    return Mutation(rule, meeting, description, helper, on, touches)


H1, SP, H2, LD = "regular_h1", "special", "regular_h2", "leadership"
MUTATIONS: dict[str, Mutation] = {m.rule: m for m in (
    _m("PREP-TOPIC", H1, "上半年组织生活会未确定主题", prep_topic, "topic"),
    _m("PREP-PLAN", H1, "会议方案未经上级审核通过", prep_plan, "plan_approved"),
    _m("PREP-PLAN-DEADLINE", LD, "民主生活会方案改为会前 10 天才报上级", prep_plan_deadline, "plan_sent"),
    _m("PREP-NOTICE", H1, "通知日期改为会前 7 天", prep_notice, "notice_date"),
    _m("PREP-SUPERIOR-NOTICE", H1, "报告上级日期改为会前 3 天", prep_superior_notice, "superior_notice_date"),
    _m("PREP-PUBLIC-NOTICE", LD, "民主生活会会前公告改为会前 10 天", prep_public_notice, "public_notice_date"),
    _m("PREP-STUDY", H1, "集中学习全部改为自学（集中学习为 0）", prep_study, "studies"),
    _m("PREP-OPINIONS", H1, "只向党员征求意见，未征求群众意见", prep_opinions, "opinions"),
    _m("PREP-OPINIONS-FEEDBACK", H1, "对副书记的一条意见未反馈本人", prep_opinions_feedback, "opinions"),
    _m("PREP-TALKS", H1, "删除书记与一名党员的谈心谈话", prep_talks, "talks"),
    _m("PREP-MATERIALS", H1, "一名支委未提交对照检查材料", prep_materials, "materials"),
    _m("PREP-LEADER-OPINIONS", H1, "未征求对一名领导干部党员的意见", prep_leader_opinions, "opinions"),
    _m("PREP-GROUP-OPINIONS-REPORTED", H1, "涉及支部班子的意见会后 2 天才向支部委员通报",
       prep_group_opinions_reported, "group_opinions_reported_on"),
    _m("PREP-COMMUNITY-LIST", H1, "支部改为社区支部，上半年组织生活会前未公示问题清单", prep_community_list,
       "problem_list_published"),
    _m("MEET-HOST", H1, "会议改由副书记主持", meet_host, "host_id"),
    _m("MEET-PRIOR-RECTIFICATION", H2, "下半年组织生活会未通报上次会议整改情况", meet_prior_rectification,
       "prior_rectification_reported"),
    _m("MEET-ORDER", H1, "先开党员大会、后开支委会", meet_order, "criticisms"),
    _m("MEET-CRITICISM", H1, "支委会上删除一条对副书记的批评", meet_criticism, "criticisms"),
    _m("MEET-SELF-CRITICISM", H1, "党员大会上一名党员未作自我批评", meet_self_criticism, "criticisms"),
    _m("MEET-ASSEMBLY-REPORT", H1, "党员大会上书记未通报支部班子对照检查情况", meet_assembly_report, "criticisms"),
    _m("MEET-PEER-REVIEW", H1, "党员大会上一名党员自评后无人对其提出意见", meet_peer_review, "criticisms"),
    _m("MEET-GROUP-CHECK", LD, "民主生活会上主要负责同志未代表班子作对照检查", meet_group_check, "criticisms"),
    _m("MEET-OPINIONS-REPORTED", H1, "会上未通报会前征求到的意见", meet_opinions_reported, "opinions_reported"),
    _m("MEET-UNIT-RESPONSES", SP, "机关专题组织生活会未回应一个规定问题", meet_unit_responses, "responses"),
    _m("MEET-ATTENDANCE", H1, "请假党员改为无故缺席", meet_attendance, "absentee"),
    _m("MEET-WRITTEN-STATEMENT", H1, "缺席党员的书面发言未在会上宣读", meet_written_statement, "absentee"),
    _m("MEET-SUPERIOR-COMMENT", SP, "专题组织生活会无上级点评", meet_superior_comment, "superior_comment"),
    _m("MEET-SUMMARY", H1, "书记未作会议小结", meet_summary, "summary"),
    _m("MEET-MINUTES", H1, "未作会议记录", meet_minutes, "minutes_kept"),
    _m("MEET-DURATION", SP, "机关专题组织生活会只开 2.5 小时", meet_duration, "hours"),
    _m("MEET-SEPARATE", LD, "民主生活会与其他会议合并召开", meet_separate, "merged"),
    _m("EVAL-COMBINED", H2, "年底组织生活会未结合民主评议党员", eval_combined, "evaluation"),
    _m("EVAL-SELF", H2, "一名正式党员未提交个人小结", eval_self, "evaluation"),
    _m("EVAL-BALLOTS", H2, "测评票比应到投票人数多 3 张", eval_ballots, "evaluation"),
    _m("EVAL-GROUP-BALLOT", H2, "民主测评没有对支部班子的测评", eval_group_ballot, "group-ballot"),
    _m("EVAL-RATING", H2, "一名正式党员没有评定等次", eval_rating, "evaluation"),
    _m("EVAL-HELP", H2, "一名党员评为基本合格但未指定帮促人", eval_help, "evaluation-help"),
    _m("EVAL-EXCELLENT-VOTE", H2, "评为优秀的党员未经大会表决通过", eval_excellent_vote, "evaluation"),
    _m("EVAL-UNQUALIFIED", H2, "一名党员评为不合格但无处理意见", eval_unqualified, "evaluation"),
    _m("EVAL-FEEDBACK", H2, "一名党员的评定等次未反馈本人", eval_feedback, "evaluation"),
    _m("RECT-PRESENT", H1, "上半年组织生活会没有任何整改事项", rect_present, "rectifications"),
    _m("RECT-FOUR-CLEAR", H1, "一条整改事项未明确责任人", rect_four_clear, "rectifications"),
    _m("RECT-PUBLIC", H1, "整改清单未公示", rect_public, "rectifications"),
    _m("RECT-PERSONAL", H1, "一名党员没有个人整改事项", rect_personal, "rectifications"),
    _m("RECT-OVERDUE", H1, "一条整改事项已过时限仍未完成", rect_overdue, "rectifications"),
    _m("POST-REPORT", H1, "会议情况报告会后 16 天才报上级", post_report, "report_sent"),
    _m("POST-ABSENTEE-INFORMED", H1, "会后未向请假党员告知会议情况", post_absentee_informed, "absentee"),
    _m("POST-PUBLIC-REPORT", LD, "民主生活会会后 36 天才向干部群众通报", post_public_report, "public_report_date"),
    _m("FREQ-HALF-YEAR", None, "删除下半年组织生活会及专题组织生活会（下半年未召开组织生活会）", freq_half_year, "*", on=H2),
    _m("FREQ-LEADERSHIP-YEAR", None, "删除全年唯一的民主生活会（班子成员改为参加支部评定）", freq_leadership_year,
       "*", on=LD),
)}


def apply_mutation(batch: dict, rule: str) -> tuple[dict, str | None]:
    """(a mutated deep copy of ``batch``, the expected finding's subject)."""
    mutated = copy.deepcopy(batch)
    return mutated, MUTATIONS[rule].apply(mutated)


# --------------------------------------------------------------------------------------------------------------
# Planting problems in generated branches

CADENCE = ("FREQ-HALF-YEAR", "FREQ-LEADERSHIP-YEAR")
# most constrained first, so the greedy planting finds a place for every rule
_ORDER = sorted(MUTATIONS, key=lambda r: (
    r not in ("MEET-DURATION", "PREP-COMMUNITY-LIST"),
    MUTATIONS[r].meeting != LD, MUTATIONS[r].meeting != H2, MUTATIONS[r].touches != "absentee", r))


def _try(rows: Rows, rule: str, meeting_id: str, as_of: dt.date) -> tuple | None:
    """Apply one mutation to a scratch copy; on success commit it into ``rows`` and return the planted item
    (rule, meeting id, subject, cadence year)."""
    trial = {record: [dict(r) for r in items] for record, items in rows.items()}
    target = Target(trial, meeting_id, as_of)
    year = target.meeting["year"]
    try:
        subject = MUTATIONS[rule].helper(target)
    except NotApplicable:
        return None
    rows.clear()
    rows.update(trial)
    if rule in CADENCE:  # a cadence finding names no meeting; it shows when checking that year
        return rule, None, subject, year
    return rule, meeting_id, subject, None


def _past(rows: Rows, as_of: dt.date, rotate: int = 0) -> list[str]:
    ids = [m["meeting_id"] for m in sorted(rows[Meeting], key=lambda m: m["date"]) if m["date"] <= as_of]
    rotate %= max(len(ids), 1)
    return ids[rotate:] + ids[:rotate]


def _plant(rows: Rows, rules: list[str], as_of: dt.date, rotate: int, limit: int) -> list[tuple]:
    """Greedily place up to ``limit`` of ``rules``; two mutations of one meeting must touch different things."""
    used: dict[str, set[str]] = {}
    placed = []
    for rule in rules:
        if len(placed) >= limit:
            break
        touches = MUTATIONS[rule].touches
        for meeting_id in _past(rows, as_of, rotate):
            if touches in used.get(meeting_id, ()):
                continue
            item = _try(rows, rule, meeting_id, as_of)
            if item:
                used.setdefault(meeting_id, set()).add(touches)
                placed.append(item)
                break
    return placed


class DemoPlanter:
    """Spreads every rule over the default demo's non-compliant branches; the cadence rules get a branch each
    (dropping a meeting must not hide another planted problem)."""

    def __init__(self, compliant: tuple[str, ...], branches: int, cadence_branches: dict[int, str]):
        self.compliant = compliant
        self.cadence = cadence_branches
        self.queue = [r for r in _ORDER if r not in CADENCE]
        self.left = sum(1 for i in range(branches)
                        if f"B{i + 1:03d}" not in compliant and i not in cadence_branches)

    def plant(self, rows: Rows, index: int, as_of: dt.date) -> list[tuple]:
        bid = rows[Branch][0]["branch_id"]
        if bid in self.compliant:
            return []
        if index in self.cadence:
            rule = self.cadence[index]
            # latest first: the cadence check of as_of's own year then sees the gap
            candidates = [m for m in reversed(_past(rows, as_of)) if _try_kind(rows, m, rule)]
            for meeting_id in candidates:
                item = _try(rows, rule, meeting_id, as_of)
                if item:
                    return [item]
            return []
        quota = math.ceil(len(self.queue) / max(self.left, 1)) + 1  # slack for rules that fit few meetings
        self.left -= 1
        placed = _plant(rows, self.queue, as_of, index, quota if self.left else len(self.queue))
        done = {item[0] for item in placed}
        self.queue = [r for r in self.queue if r not in done]
        return placed


def _try_kind(rows: Rows, meeting_id: str, rule: str) -> bool:
    kind = next(m["kind"] for m in rows[Meeting] if m["meeting_id"] == meeting_id)
    return kind == ("regular" if rule == "FREQ-HALF-YEAR" else "leadership")


def plant_random(rows: Rows, rng: random.Random, as_of: dt.date, rate: float = 0.3) -> list[tuple]:
    """A realistic low rate: most branches clean, some with one to three problems, rarely a missing meeting."""
    if rng.random() >= rate:
        return []
    if rng.random() < 0.05:
        rule = rng.choice(CADENCE)
        for meeting_id in _past(rows, as_of, rng.randrange(8)):
            if _try_kind(rows, meeting_id, rule):
                item = _try(rows, rule, meeting_id, as_of)
                if item:
                    return [item]
        return []
    rules = rng.sample([r for r in _ORDER if r not in CADENCE], 6)
    return _plant(rows, rules, as_of, rng.randrange(8), rng.randint(1, 3))


def plant_in_time(rows: Rows, placed: list[tuple], newcomer: str, former: str, handover: dt.date,
                  as_of: dt.date) -> list[tuple]:
    """The nearest defects of membership and roles in time (rules.md rev 3), next to what ``placed`` planted: the
    first meeting after the 换届 is hosted by the former secretary (MEET-HOST), and the first later meeting without
    民主评议 does not record the newcomer's attendance (MEET-ATTENDANCE: expected, having joined before it). Each on
    a meeting where nothing planted touches the same thing (the host; a finding about the newcomer)."""
    touched = {(meeting, MUTATIONS[rule].touches) for rule, meeting, _, _ in placed}
    about = {meeting for _, meeting, subject, _ in placed if subject == newcomer}
    held = sorted((m for m in rows[Meeting] if m["date"] <= as_of), key=lambda m: m["date"])
    found = []
    host = next(m for m in held if m["date"] >= handover and (m["meeting_id"], "host_id") not in touched)
    host["host_id"] = former
    found.append(("MEET-HOST", host["meeting_id"], None, None))
    joined = next(m["joined_on"] for m in rows[Member] if m["member_id"] == newcomer)
    meeting = next(m for m in held if m["date"] >= joined and not m["with_evaluation"] and m["kind"] != "leadership"
                   and m["meeting_id"] not in about)
    rows[Attendance] = [a for a in rows[Attendance]
                        if not (a["meeting_id"] == meeting["meeting_id"] and a["member_id"] == newcomer)]
    found.append(("MEET-ATTENDANCE", meeting["meeting_id"], newcomer, None))
    return found
