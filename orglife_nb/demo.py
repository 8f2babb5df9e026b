"""Deterministic demo data: one compliant-meeting machine, used for the rule baseline and the demo generator.

- ``baseline_batch()``: one branch that complies with every rule of ../shared/spec/rules.md (default profile) at
  ``BASELINE_AS_OF``; the rule tests break it one rule at a time with ``orglife_nb.mutations``.
- ``generate()``: the demo (or N branches for benchmarks), built by the same machine, with problems planted by the
  same mutation helpers. Dates after ``DEMO_AS_OF`` are left blank (meetings in preparation → pending findings).
- ``save_demo()``, ``vote_on_phones()``, ``demo_accounts()``: the demo store; ``orglife demo`` (``demo_command``)
  builds it with them, then checks and reports on it.

Rows are built as plain dicts (``Rows``: record class → list of dicts) and turned into DataFrames once per chunk;
DataFrames are ``object`` columns holding plain Python values, as ``Store.save`` expects.
"""
from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from .models import (GROUP, NAMED_QUESTIONS, RECORDS, SCHEME_LEVELS, SUPERIOR, BRANCH_LEADERSHIP, Attendance,
                     Ballot, Branch, Criticism, Level, Material, Meeting, Member, Opinion, Rating, RatingScheme, Record,
                     Rectification, Response, Study, Talk, Tenure)
# shared with the rule mutations, which import them from ``rows`` (not from here: no import circle)
from .rows import (BASELINE_AS_OF, BASELINE_BRANCH, BASELINE_MEETINGS, COMMITTEE_ROLES, HOURS_PER_DAY,  # noqa: F401
                   Rows, on_day, secretary_of, to_batch, to_rows)

if TYPE_CHECKING:  # pandas costs start-up time; imported where frames are built
    import pandas as pd

DEMO_AS_OF = dt.date(2026, 11, 25)  # the demo's "today": later meetings are in preparation
DEFAULT_SEED = 20250701
CHUNK_BRANCHES = 200

# --------------------------------------------------------------------------------------------------------------
# Text pools (Chinese user-facing data)

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN_NAMES = ("建国 红梅 志强 卫东 晓燕 海涛 丽娟 明 佳颖 伟 芳 敏 静 磊 军 洋 勇 艳 杰 涛 超 霞 平 刚 秀英 桂英 玉兰 "
               "淑珍 国庆 建华 建军 晓东 雪梅 春梅 海燕 志文 文辉 晓明 鹏飞 子涵 欣怡 嘉琪 思远 俊峰 振宏 丹 亚楠 "
               "立新 秋菊 永福 德胜 家豪 晨曦 浩然 宇航 雨欣 一鸣 博文 天宇 婷婷 丽华 金凤 玉梅 少华 卫国 红霞 建平 "
               "志刚 国强 小燕 晓丽 婉清 嘉怡 成林 树德 慧敏 文静 永刚 新民 学军 爱华 凤英 宏伟 春生 丽萍").split()
SUPERIOR_PEOPLE_TITLES = ("组织部副部长", "机关党委书记", "党委委员", "党工委副书记", "组织科科长", "纪检组组长")

UNIT_PROFILES: dict[str, dict] = {
    "organ": dict(units=("市财政局", "市发展改革委", "市人力资源社会保障局", "区司法局", "市统计局", "区民政局"),
                  suffix="机关第{n}党支部", superior="{unit}机关党委",
                  places=("机关三楼党员活动室", "机关第一会议室", "局党建活动中心")),
    "community": dict(units=("幸福里社区", "东风路社区", "向阳社区", "滨河社区", "锦华苑社区"),
                      suffix="第{n}党支部", superior="{street}街道党工委",
                      places=("社区党群服务中心", "社区新时代文明实践站", "社区议事厅")),
    "enterprise": dict(units=("市城投集团", "华信科技有限公司", "恒达机械制造有限公司", "市公交集团", "市水务集团"),
                       suffix="第{n}党支部", superior="{unit}党委",
                       places=("公司党员活动室", "公司二楼会议室", "职工之家")),
    "school": dict(units=("市第一中学", "实验小学", "市职业技术学院", "育才中学"),
                   suffix="教工第{n}党支部", superior="{unit}党委",
                   places=("学校党员活动室", "行政楼会议室", "图书馆报告厅")),
    "institution": dict(units=("市人民医院", "市农业科学研究院", "市疾控中心", "市图书馆", "市档案馆"),
                        suffix="第{n}党支部", superior="{unit}党委",
                        places=("院党员活动室", "行政楼第二会议室", "党建活动室")),
    "service": dict(units=("区政务服务中心", "市公积金管理中心", "市不动产登记中心", "区12345热线"),
                    suffix="第{n}党支部", superior="{unit}党总支",
                    places=("服务大厅党员先锋岗会议室", "中心会议室", "党员活动室")),
    "enforcement": dict(units=("市市场监管局执法稽查支队", "区城管执法大队", "市生态环境保护综合执法支队"),
                        suffix="第{n}党支部", superior="{unit}党总支",
                        places=("支队会议室", "大队党员活动室", "执法业务用房会议室")),
    "other": dict(units=("市老年大学", "市工商联", "市科协"),
                  suffix="第{n}党支部", superior="{unit}党组",
                  places=("党员活动室", "第一会议室")),
}
STREETS = ("城关", "东城", "南湖", "北关", "西湖", "新华")
ORDINALS = "一二三四五六七八九十"

TOPICS = {
    "regular": ("对照党章党规，查找差距不足，强化党员意识", "学习贯彻党的创新理论，检视履职尽责情况",
                "坚定理想信念，践行初心使命", "对照合格党员标准，查摆问题、明确整改方向",
                "学习贯彻党的二十届四中全会精神，查找在担当作为方面的差距"),
    "special": ("深入贯彻中央八项规定精神学习教育专题组织生活会", "以案为鉴、以案促改警示教育专题组织生活会",
                "纠治形式主义为基层减负专题组织生活会"),
    "leadership": ("深入贯彻中央八项规定精神，推进作风建设常态化长效化", "以学铸魂、以学增智、以学正风、以学促干",
                   "强化政治担当，推动高质量发展"),
}
STUDY_CONTENT = ("学习《中国共产党章程》", "学习《中国共产党纪律处分条例》", "专题党课", "学习习近平总书记重要讲话精神",
                 "学习中央八项规定及其实施细则精神", "观看警示教育片并交流研讨", "辅导讲座")
OPINION_TEXT = ("希望支部班子多深入一线了解实际困难", "组织活动形式可以更加丰富", "联系群众还不够紧密",
                "工作中有时存在急躁情绪，沟通方式可以改进", "理论学习不够系统深入", "服务意识有待进一步增强",
                "对年轻党员的关心帮助不够")
TALK_TEXT = ("交流思想，相互指出不足", "听取对支部工作的意见建议", "围绕会议主题交流学习体会", "互相提醒、坦诚交心")
SELF_TEXT = ("理论学习不够深入系统，学用结合不紧", "工作标准不够高，满足于完成任务", "联系服务群众不够主动",
             "开展批评时存在顾虑，不愿得罪人", "作风不够扎实，有时存在敷衍应付")
CRITICISM_TEXT = ("学习抓得不够紧，建议制定个人学习计划", "工作中有时缺乏主动性", "与同事沟通不够充分",
                  "对分管工作督促不够到位", "在落实制度上有时不够严格")
REPORT_TEXT = ("代表支部班子通报对照检查情况，查摆班子在政治建设、组织生活、联系群众等方面的问题",
               "代表班子作对照检查，剖析问题根源，提出班子整改方向")
GROUP_CRITICISM_TEXT = ("班子抓学习的措施还不够实，建议建立学习督促机制", "班子听取基层意见不够经常",
                        "班子对年轻党员的培养关心不够")
PEER_TEXT = ("建议在业务学习上更加主动，多和同事交流", "平时工作认真负责，但开展批评还不够大胆",
             "希望在志愿服务中更好发挥先锋模范作用", "建议多参加支部活动，加强与党员之间的联系")
ANSWER_TEXT = "对照检查后认为总体较好，查摆出的具体问题已列入整改清单，明确责任人和时限"
PERSONAL_ITEMS = (("学习不够深入系统", "提高理论素养", "制定个人学习计划，每月撰写一篇学习体会"),
                  ("开展批评有顾虑", "敢于开展批评", "每季度至少与两名同志开展谈心谈话"),
                  ("服务群众不够主动", "增强服务意识", "每月参加一次志愿服务或走访群众"),
                  ("工作标准不够高", "提升工作标准", "对照岗位职责梳理问题清单并逐项改进"))
RESPONSE_TEXT = ("诚恳接受大家的批评意见，认真抓好整改", "感谢同志们的帮助，对提出的问题照单全收、逐条整改")
REASONS = ("因公出差", "身体原因住院治疗", "外出参加培训", "家中有急事", "在外地务工（流动党员）")
RECT_ITEMS = (
    ("party", "理论学习流于形式，学习效果不明显", "建立学习长效机制", "制定年度学习计划，每月开展一次专题学习"),
    ("party", "组织生活形式单一，吸引力不强", "提升组织生活质量", "结合主题党日开展现场教学和志愿服务"),
    ("unit", "服务群众的办法不多，办事流程仍有堵点", "优化服务流程", "梳理办事清单，推行一次性告知"),
    ("individual", "批评与自我批评辣味不足", "敢于开展批评", "每季度与分管同志开展一次谈心谈话"),
    ("individual", "业务学习不够深入", "提升业务能力", "参加专题培训并撰写学习体会"),
)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def _unique_names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = _name(rng)
        if name not in names:
            names.append(name)
    return names


# --------------------------------------------------------------------------------------------------------------
# The compliant-meeting machine


@dataclass
class MeetingPlan:
    """What a compliant meeting looks like; ``meeting_rows`` turns it into rows of every sheet."""

    meeting_id: str
    kind: str  # regular / special / leadership
    year: int
    half: str
    date: dt.date
    topic: str
    place: str
    superior_person: str  # the superior's representative: attends, comments, reviews materials, talks
    hours: float = 3.0
    with_evaluation: bool = False
    scheme: str | None = None
    absentees: dict[str, tuple[str, bool]] = field(default_factory=dict)  # member → (reason, written statement)
    excellent: tuple[str, ...] = ()
    basic: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()  # leadership members who attended the 民主生活会: no branch rating
    public_reps: int = 2  # 群众代表 invited to vote
    # day offsets relative to the meeting date; all within the default profile's limits
    plan_days: int = 20
    notice_days: int = 12
    superior_notice_days: int = 10
    public_notice_days: int = 18
    report_days: int = 7
    public_report_days: int = 15
    rectifications: int = 2


def _attendees(members: list[dict], kind: str) -> list[dict]:
    if kind == "leadership":
        return [m for m in members if m["leadership_member"]]
    return members


def _committee(branch: dict, members: list[dict], kind: str) -> list[dict]:
    """Who must submit materials and criticise each other in the committee stage (leadership: the group)."""
    if kind == "leadership":
        return [m for m in members if m["leadership_member"]]
    if branch["has_committee"]:
        return [m for m in members if m["role"] in COMMITTEE_ROLES]
    return []


def _secretary_first(people: list[dict]) -> list[dict]:
    return sorted(people, key=lambda m: (m["role"] != "secretary", m["member_id"]))


def meeting_rows(branch: dict, members: list[dict], plan: MeetingPlan, rng: random.Random) -> Rows:
    """Every row of one compliant meeting (before the cut at ``as_of``)."""
    d, mid, kind = plan.date, plan.meeting_id, plan.kind
    day = dt.timedelta
    leadership = kind == "leadership"
    secretary = secretary_of(members)
    attendees = _attendees(members, kind)
    committee = _committee(branch, members, kind)
    present = [m for m in attendees if m["member_id"] not in plan.absentees]
    rows: Rows = {r: [] for r in RECORDS[2:]}

    rows[Meeting].append(dict(
        meeting_id=mid, branch_id=branch["branch_id"], kind=kind, year=plan.year, half=plan.half, topic=plan.topic,
        date=d, hours=plan.hours, place=plan.place, host_id=secretary["member_id"],
        plan_sent=d - day(plan.plan_days), plan_approved=True, notice_date=d - day(plan.notice_days),
        superior_notice_date=None if leadership else d - day(plan.superior_notice_days),
        public_notice_date=d - day(plan.public_notice_days) if leadership else None,
        start_time="09:00" if leadership else "14:30",
        opinions_compiled=True, opinions_reported=True, prior_rectification_reported=True,
        superior_attendee=plan.superior_person,
        superior_comment="准备充分，批评与自我批评开展得较好，查摆问题具体，希望抓好整改落实",
        summary="书记作会议小结，表示认真落实上级点评意见和党员群众意见建议，抓好整改",
        minutes_kept=True, merged=False, with_evaluation=plan.with_evaluation,
        rating_scheme=plan.scheme if plan.with_evaluation else None,
        problem_list_published=d - day(3) if branch["unit_type"] == "community" else None,
        rectification_published=d + day(5), report_sent=d + day(plan.report_days),
        public_report_date=d + day(plan.public_report_days),
        # the opinions on the 支部班子 (one is always gathered below) reach the committee before the meeting
        group_opinions_reported_on=d - day(5) if branch["has_committee"] and not leadership else None,
    ))

    # study: regular/special 1 day incl. half a day concentrated; leadership 3 days incl. 2 concentrated
    sessions = ([("concentrated", 8.0), ("concentrated", 8.0), ("self_study", 8.0)] if leadership
                else [("concentrated", 4.0), ("self_study", 4.0)])
    for i, (form, hours) in enumerate(sessions):
        rows[Study].append(dict(meeting_id=mid, date=d - day(16 - i), form=form, hours=hours,
                                content=STUDY_CONTENT[(i + plan.year) % len(STUDY_CONTENT)]))

    # opinions from 党员 and 群众; those about a person are fed back to them before the meeting; every 领导干部
    # attending is asked about (000 第四篇 一)
    about = [m["member_id"] for m in (committee or [secretary])][:3]
    about += [m["member_id"] for m in attendees if m["leading_cadre"] and m["member_id"] not in about]
    targets = [BRANCH_LEADERSHIP, *about]
    for i, target in enumerate(targets):
        for source, method in (("member", "forum"), ("public", "form" if i % 2 else "visit")):
            rows[Opinion].append(dict(
                meeting_id=mid, date=d - day(15 - i), method=method, source=source, target=target,
                content=rng.choice(OPINION_TEXT), feedback_date=d - day(6) if target != BRANCH_LEADERSHIP else None))

    # talks: superior ↔ secretary, secretary ↔ every other attendee, committee (group) pairwise
    pairs = [(SUPERIOR, secretary["member_id"])]
    pairs += [(secretary["member_id"], m["member_id"]) for m in attendees if m is not secretary]
    pairs += [(a["member_id"], b["member_id"]) for a, b in itertools.combinations(committee, 2)
              if secretary not in (a, b)]
    for i, (talker, talkee) in enumerate(pairs):
        rows[Talk].append(dict(meeting_id=mid, date=d - day(10 - i % 7), talker=talker, talkee=talkee,
                               summary=TALK_TEXT[i % len(TALK_TEXT)]))

    material_type = "outline" if branch["unit_type"] in ("enterprise", "other") and not leadership else "examination"
    for m in committee or [secretary]:
        rows[Material].append(dict(meeting_id=mid, member_id=m["member_id"], material_type=material_type,
                                   submitted=d - day(7), reviewer=plan.superior_person, reviewed=d - day(4)))

    for m in attendees:
        absence = plan.absentees.get(m["member_id"])
        if absence is None:
            rows[Attendance].append(dict(meeting_id=mid, member_id=m["member_id"], presence="present", reason=None,
                                         written_statement=None, read_out=None, informed_date=None))
        else:
            reason, statement = absence
            rows[Attendance].append(dict(meeting_id=mid, member_id=m["member_id"], presence="leave", reason=reason,
                                         written_statement=statement, read_out=True if statement else None,
                                         informed_date=d + day(2)))

    rows[Criticism] = _criticisms(mid, kind, [m for m in committee if m in present], present, rng,
                                  has_committee=bool(branch["has_committee"]))
    if kind in ("special",) and branch["unit_type"] in NAMED_QUESTIONS:
        for code, _text in NAMED_QUESTIONS[branch["unit_type"]]:
            rows[Response].append(dict(meeting_id=mid, source="required", question=code,
                                       responder=secretary["member_id"], summary=ANSWER_TEXT))
    if plan.with_evaluation:
        _evaluation(rows, plan, members, present, rng, has_committee=bool(branch["has_committee"]))
    rows[Rectification] = _rectifications(plan, members, committee or [secretary], present, rng)
    return rows


def _criticisms(mid: str, kind: str, committee: list[dict], present: list[dict], rng: random.Random, *,
                has_committee: bool = True) -> list[dict]:
    """The criticism records of a compliant meeting.

    民主生活会 and 支委会 (with a committee): the 主要负责同志 (secretary) gives the 班子's 对照检查 first, then each
    member: self-criticism, criticism by every other, response. 党员大会: the secretary reports the 班子's 对照检查
    (with a committee; without one, gives their own) and hears a member's criticism; then each member's
    self-criticism, each followed by another member's opinion (党员互评).
    """
    out: list[dict] = []
    seq = itertools.count(1)

    def say(stage, target, speaker, act, texts):
        out.append(dict(meeting_id=mid, seq=next(seq), stage=stage, target=target, speaker=speaker, act=act,
                        content=rng.choice(texts)))

    mutual = "leadership" if kind == "leadership" else "committee"
    ordered = _secretary_first(committee)
    if ordered and (kind == "leadership" or has_committee):  # 先班子后个人 (MEET-GROUP-CHECK)
        say(mutual, GROUP, ordered[0]["member_id"], "report", REPORT_TEXT)
    for m in ordered:
        say(mutual, m["member_id"], m["member_id"], "self_criticism", SELF_TEXT)
        for other in ordered:
            if other is not m:
                say(mutual, m["member_id"], other["member_id"], "criticism", CRITICISM_TEXT)
        say(mutual, m["member_id"], m["member_id"], "response", RESPONSE_TEXT)
    if kind == "leadership":
        return out
    people = _secretary_first(present)
    if not people:
        return out
    lead = people[0]
    others = [m for m in people if m is not lead] or [lead]
    if has_committee:
        say("assembly", GROUP, lead["member_id"], "report", REPORT_TEXT)
        say("assembly", GROUP, others[0]["member_id"], "criticism", GROUP_CRITICISM_TEXT)
    for n, m in enumerate(people):
        say("assembly", m["member_id"], m["member_id"], "self_criticism", SELF_TEXT)
        peer = others[n % len(others)] if m is not others[n % len(others)] else lead
        if m is lead and has_committee:
            continue  # heard through the 班子's 通报 above
        say("assembly", m["member_id"], peer["member_id"], "criticism", PEER_TEXT)
    return out


def _evaluation(rows: Rows, plan: MeetingPlan, members: list[dict], present: list[dict], rng: random.Random, *,
                has_committee: bool) -> None:
    """民主评议: every present member and the invited 群众代表 cast one anonymous ballot in the meeting's ballot scheme
    (四档 or 三档 好/一般/差), with a line on the 班子 where the branch has a committee (EVAL-GROUP-BALLOT); full members get a final rating, always one of the four levels (000 第二篇 二.4); a
    member rated 基本合格 gets a helper (帮促人, 000 第五篇 (三)1)."""
    levels = SCHEME_LEVELS[RatingScheme(plan.scheme)]
    three = plan.scheme == RatingScheme.three.value
    top, low = levels[0].value, levels[-2 if not three else -1].value  # 四档 基本合格; 三档 差
    normal, lesser = (levels[0].value, levels[1].value) if three else (levels[1].value, levels[0].value)
    rated = [m for m in members if m["status"] == "full" and m["member_id"] not in plan.exempt]
    final = {m["member_id"]: Level.excellent.value if m["member_id"] in plan.excellent else
             Level.basic.value if m["member_id"] in plan.basic else Level.qualified.value for m in rated}
    on_ballot = {Level.excellent.value: top, Level.basic.value: low, Level.qualified.value: normal}
    voters = [("member", i) for i in range(len(present))] + [("public", i) for i in range(plan.public_reps)]
    for number, (voter_type, _) in enumerate(voters, start=1):
        for m in rated:
            level = on_ballot[final[m["member_id"]]]
            if final[m["member_id"]] == Level.qualified.value and rng.random() < 0.15:
                level = lesser  # ballots disagree a little; final ratings follow the majority
            rows[Ballot].append(dict(meeting_id=plan.meeting_id, ballot_no=f"{number:03d}", rated_id=m["member_id"],
                                     level=level, voter_type=voter_type))
        if has_committee:
            rows[Ballot].append(dict(meeting_id=plan.meeting_id, ballot_no=f"{number:03d}", rated_id=GROUP,
                                     level=normal, voter_type=voter_type))
    secretary = secretary_of(members)["member_id"]
    for m in rated:
        level = final[m["member_id"]]
        helper = None
        if level == Level.basic.value:
            helper = secretary if m["member_id"] != secretary else next(
                x["member_id"] for x in members if x["member_id"] != secretary)
        rows[Rating].append(dict(meeting_id=plan.meeting_id, member_id=m["member_id"], self_summary=True,
                                 level=level, vote_passed=True if level == Level.excellent.value else None,
                                 handling=None, feedback_date=plan.date + dt.timedelta(days=4), helper=helper))


def _rectifications(plan: MeetingPlan, members: list[dict], committee: list[dict], present: list[dict],
                    rng: random.Random) -> list[dict]:
    """The meeting's items (单位 / 党组织, owned by the secretary) first, then one personal item per member present
    (班子 members at a 民主生活会), publicly committed to (000 第二篇 二.5; 000 第五篇 (三)1; 003 民主 四.1)."""
    out = []
    secretary = secretary_of(members)
    shared = [item for item in RECT_ITEMS if item[0] != "individual"]
    picks = rng.sample(shared, min(plan.rectifications, len(shared)))
    personal = [(m, PERSONAL_ITEMS[n % len(PERSONAL_ITEMS)]) for n, m in enumerate(present)]
    items = [(secretary, category, problem, goal, measures) for category, problem, goal, measures in picks]
    items += [(m, "individual", problem, goal, measures) for m, (problem, goal, measures) in personal]
    shared_count = len(picks)
    for i, (owner, category, problem, goal, measures) in enumerate(items, start=1):
        deadline = plan.date + dt.timedelta(days=90 + 30 * min(i, 3))
        # the meeting's items Z1…, the personal ones P01… (a 台账 sorted by id keeps them apart)
        item_id = f"{plan.meeting_id}-Z{i}" if i <= shared_count else f"{plan.meeting_id}-P{i - shared_count:02d}"
        out.append(dict(item_id=item_id, meeting_id=plan.meeting_id, problem=problem,
                        category=category, owner=owner["member_id"], goal=goal, measures=measures,
                        deadline=deadline, status="closed", done_date=deadline - dt.timedelta(days=10),
                        commitment=True if category == "individual" else None))
    return out


# ---- the cut at as_of: what has not happened yet is blank (pending) -----------------------------------------

_MEETING_DAY_FIELDS = ("hours", "superior_attendee", "superior_comment", "summary", "minutes_kept",
                       "prior_rectification_reported", "opinions_reported")
_AFTER_MEETING = (Attendance, Criticism, Response, Ballot, Rating, Rectification)


def cut(rows: Rows, as_of: dt.date) -> Rows:
    """Blank every date after ``as_of``; a meeting after ``as_of`` is in preparation (no meeting-day rows)."""
    future = set()
    for meeting in rows[Meeting]:
        for name in ("plan_sent", "notice_date", "superior_notice_date", "public_notice_date",
                     "problem_list_published", "rectification_published", "report_sent", "public_report_date"):
            if meeting[name] is not None and meeting[name] > as_of:
                meeting[name] = None
        if meeting["plan_sent"] is None:
            meeting["plan_approved"] = None
        if meeting["date"] > as_of:
            future.add(meeting["meeting_id"])
            for name in _MEETING_DAY_FIELDS:
                meeting[name] = None
    for record in (Study, Opinion, Talk):
        rows[record] = [r for r in rows[record] if r["date"] <= as_of]
    rows[Material] = [r for r in rows[Material] if r["submitted"] <= as_of]
    for record in _AFTER_MEETING:
        rows[record] = [r for r in rows[record] if r["meeting_id"] not in future]
    for record, name in ((Opinion, "feedback_date"), (Attendance, "informed_date"), (Rating, "feedback_date")):
        for r in rows[record]:
            if r[name] is not None and r[name] > as_of:
                r[name] = None
    for r in rows[Material]:
        if r["reviewed"] is not None and r["reviewed"] > as_of:
            r["reviewed"] = r["reviewer"] = None
    for r in rows[Rectification]:
        if r["done_date"] is not None and r["done_date"] > as_of:
            r["status"], r["done_date"] = "open", None
    return rows


def merge(into: Rows, more: Rows) -> Rows:
    for record, items in more.items():
        into.setdefault(record, []).extend(items)
    return into


# --------------------------------------------------------------------------------------------------------------
# Branches: members and the year's meetings


@dataclass
class BranchPlan:
    branch_id: str
    unit_type: str
    size: int
    has_committee: bool
    leadership_group: bool
    name: str | None = None
    superior: str | None = None
    scheme: str = "four"
    years: tuple[int, ...] = (2025, 2026)
    special_years: tuple[int, ...] = (2025,)


def make_members(plan: BranchPlan, rng: random.Random, names: list[str] | None = None) -> list[dict]:
    """Secretary first, then committee, leadership-group cadres, ordinary and probationary members."""
    names = names or _unique_names(rng, plan.size)
    committee_size = (5 if plan.size >= 15 else 3) if plan.has_committee else 1
    group = 3 if plan.leadership_group and plan.size >= 8 else (2 if plan.leadership_group else 0)
    probationary = 1 if plan.size < 10 else 2
    members = []
    for i in range(plan.size):
        if i == 0:
            role = "secretary"
        elif i == 1 and plan.has_committee:
            role = "deputy"
        elif i < committee_size:
            role = "committee"
        else:
            role = "member"
        # leadership group: the secretary (主要负责同志) plus ordinary-member cadres right after the committee
        in_group = plan.leadership_group and (i == 0 or committee_size <= i < committee_size + group - 1)
        status = "probationary" if i >= plan.size - probationary else "full"
        situation = "none"
        if status == "full" and role == "member" and not in_group and i == plan.size - probationary - 1:
            situation = {"community": "frail", "enterprise": "mobile", "other": "frail"}.get(plan.unit_type, "none")
        members.append(dict(member_id=f"{plan.branch_id}-{i + 1:02d}", branch_id=plan.branch_id, name=names[i],
                            role=role, status=status, leading_cadre=in_group, leadership_member=in_group,
                            situation=situation))
    return members


def _branch_row(plan: BranchPlan, rng: random.Random) -> dict:
    profile = UNIT_PROFILES[plan.unit_type]
    unit = rng.choice(profile["units"])
    name = plan.name or unit + profile["suffix"].format(n=ORDINALS[rng.randrange(3)])
    superior = plan.superior or profile["superior"].format(unit=unit, street=rng.choice(STREETS))
    return dict(branch_id=plan.branch_id, name=name, superior=superior, unit_type=plan.unit_type,
                has_committee=plan.has_committee, has_leadership_group=plan.leadership_group)


def _weekday(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    span = (end - start).days
    while True:
        day = start + dt.timedelta(days=rng.randrange(span + 1))
        if day.weekday() < 5:
            return day


def year_plans(members: list[dict], plan: BranchPlan, year: int, rng: random.Random) -> list[MeetingPlan]:
    """The year's meetings: mid-year regular, special (campaign years), leadership, year-end regular + 评议."""
    bid = plan.branch_id
    profile = UNIT_PROFILES[plan.unit_type]
    superior = f"{_name(rng)}（{rng.choice(SUPERIOR_PEOPLE_TITLES)}）"
    dates = {
        "R1": _weekday(rng, dt.date(year, 5, 6), dt.date(year, 6, 26)),  # in the first half-year
        "S1": _weekday(rng, dt.date(year, 8, 25), dt.date(year, 10, 20)),
        "L1": _weekday(rng, dt.date(year, 11, 27), dt.date(year, 12, 8)),
        "R2": _weekday(rng, dt.date(year, 12, 10), dt.date(year, 12, 24)),
    }
    ordinary = [m for m in members if m["role"] == "member" and m["status"] == "full" and not m["leading_cadre"]]
    rated = [m for m in members if m["status"] == "full" and not m["leadership_member"]]
    away = [m for m in ordinary if m["situation"] != "none"] or ordinary[-1:]

    def absentees() -> dict[str, tuple[str, bool]]:
        if not away or rng.random() < 0.3:
            return {}
        m = rng.choice(away)
        return {m["member_id"]: (rng.choice(REASONS), rng.random() < 0.8)}

    def meeting(key: str, kind: str, half: str, **extra) -> MeetingPlan:
        timing = dict(notice_days=rng.randint(10, 15), superior_notice_days=rng.randint(7, 10),
                      report_days=rng.randint(3, 10)) | extra
        return MeetingPlan(meeting_id=f"{bid}-{year}-{key}", kind=kind, year=year, half=half, date=dates[key],
                           topic=rng.choice(TOPICS[kind]), place=rng.choice(profile["places"]),
                           superior_person=superior, **timing)

    plans = [meeting("R1", "regular", "first", absentees=absentees())]
    if year in plan.special_years:
        plans.append(meeting("S1", "special", "second", absentees=absentees(),
                             hours=4.0 if plan.unit_type == "organ" else 3.5))
    exempt: tuple[str, ...] = ()
    if plan.leadership_group:
        plans.append(meeting("L1", "leadership", "second", hours=6.0, plan_days=rng.randint(16, 25),
                             public_notice_days=rng.randint(16, 20), public_report_days=rng.randint(10, 28),
                             report_days=rng.randint(5, 15), rectifications=3))
        # the group's cadres other than the secretary are rated in the 民主生活会, not in the branch
        exempt = tuple(m["member_id"] for m in members if m["leadership_member"] and m["role"] != "secretary")
    picked = [m["member_id"] for m in rng.sample(rated, len(rated))]
    n_excellent = max(1, len(rated) // 8)
    basic = tuple(picked[n_excellent:n_excellent + 1]) if rng.random() < 0.1 else ()  # now and then 基本合格
    plans.append(meeting("R2", "regular", "second", absentees=absentees(), with_evaluation=True,
                         scheme=plan.scheme, exempt=exempt, excellent=tuple(picked[:n_excellent]), basic=basic,
                         public_reps=rng.randint(0, 3)))
    return plans


@dataclass(frozen=True)
class Timeline:
    """Membership and roles in time in a demo branch (rules.md rev 3): a member who joined, one who left (member
    number, day) and a 换届 on ``handover`` in which the 副书记 (02) takes over from the 书记 (01). Each meeting's
    rows are made with the members of its day in their roles that day, so the branch stays lawful; ``planted``:
    the nearest defects are planted next to it (``mutations.plant_in_time``)."""

    joined: tuple[int, dt.date] | None = None
    left: tuple[int, dt.date] | None = None
    handover: dt.date | None = None
    planted: bool = False

    def apply(self, members: list[dict]) -> list[dict]:
        """Set the members' dates and present roles; the 任职 rows."""
        by_number = {int(m["member_id"][-2:]): m for m in members}
        for (number, day), column in ((self.joined, "joined_on"), (self.left, "left_on")):
            if number is not None:
                by_number[number][column] = day
        if self.handover is None:
            return []
        old, new, last = by_number[1], by_number[2], self.handover - dt.timedelta(days=1)
        office = new["role"]  # the successor's former office passes to the former secretary
        tenures = [dict(member_id=old["member_id"], role="secretary", start_date=TERMS_FROM, end_date=last),
                   dict(member_id=old["member_id"], role=office, start_date=self.handover, end_date=None),
                   dict(member_id=new["member_id"], role=office, start_date=TERMS_FROM, end_date=last),
                   dict(member_id=new["member_id"], role="secretary", start_date=self.handover, end_date=None)]
        old["role"], new["role"] = office, "secretary"
        return tenures


TERMS_FROM = dt.date(2021, 10, 1)  # the term before a demo 换届 began at the one before


def branch_rows(plan: BranchPlan, rng: random.Random, as_of: dt.date, timeline: Timeline | None = None) -> Rows:
    branch = _branch_row(plan, rng)
    members = make_members(plan, rng)
    tenures = timeline.apply(members) if timeline else []
    rows: Rows = {Branch: [branch], Member: members, Tenure: tenures}
    for year in plan.years:
        # the year's plan (absentees, ratings) among the members of its last meetings; each meeting's rows among
        # the members of its day
        for meeting in year_plans(on_day(members, tenures, dt.date(year, 11, 26)), plan, year, rng):
            merge(rows, meeting_rows(branch, on_day(members, tenures, meeting.date), meeting, rng))
    return cut(rows, as_of)


# --------------------------------------------------------------------------------------------------------------
# The rule baseline

BASELINE_DATES = {"R1": dt.date(2025, 6, 20), "S1": dt.date(2025, 9, 19), "L1": dt.date(2025, 11, 21),
                  "R2": dt.date(2025, 12, 12)}
BASELINE_NAMES = ["张建国", "李红梅", "王志强", "赵卫东", "陈晓燕", "刘海涛", "孙丽娟", "周明", "吴佳颖"]
# Roles in the default baseline: 01 书记 (cadre, group), 02 副书记, 03 委员, 04/05 cadres in the group (04 exempt
# from the branch rating), 06 rated 优秀, 07 请假 with a written statement, 08 ordinary, 09 预备党员.
BASELINE_ROLES = {"secretary": "B001-01", "deputy": "B001-02", "committee": "B001-03", "exempt_cadre": "B001-04",
                  "cadre": "B001-05", "excellent": "B001-06", "absentee": "B001-07", "ordinary": "B001-08",
                  "probationary": "B001-09"}


def baseline_batch(*, has_committee: bool = True, unit_type: str = "organ",
                   leadership_group: bool = True) -> dict[type[Record], "pd.DataFrame"]:
    """One branch complying with every rule at ``BASELINE_AS_OF`` (default profile); see ``baseline_rows``."""
    return to_batch(baseline_rows(has_committee=has_committee, unit_type=unit_type,
                                  leadership_group=leadership_group))


def baseline_rows(*, has_committee: bool = True, unit_type: str = "organ", leadership_group: bool = True) -> Rows:
    """The baseline as rows. Readings of rules.md it commits to (a careful 组织部 reviewer's):

    - the secretary is the 主要负责同志 of the leadership group (hosts the 民主生活会, speaks first there);
    - a leadership meeting's attendees, materials, talks and mutual criticism are the group members; their talks are
      pairwise (003 民主: 班子成员之间), which covers secretary ↔ every member;
    - the 领导干部 exempt from the branch rating (``B001-04``) has no rating row at all (so no self-evaluation row
      either) and is not on the ballots; the exemption of EVAL-RATING covers EVAL-SELF/EVAL-FEEDBACK too;
    - the probationary member votes and speaks but is neither rated nor on the ballots;
    - opinions about 支部班子 need no feedback date; every opinion about a person has one;
    - eligible voters = present members + invited 群众代表 (ballots marked 群众代表);
    - prior_rectification_reported is 是 everywhere (true also where no earlier meeting exists in the data).
    """
    rng = random.Random("orglife-baseline")
    plan = BranchPlan(branch_id=BASELINE_BRANCH, unit_type=unit_type, size=9, has_committee=has_committee,
                      leadership_group=leadership_group, name="市财政局机关第一党支部", superior="市财政局机关党委",
                      years=(2025,), special_years=(2025,))
    branch = _branch_row(plan, rng)
    members = make_members(plan, rng, BASELINE_NAMES)
    # make_members puts the group right after the committee: 04 and 05 when there are 3 committee members;
    # pin the baseline's cast whatever the variant
    for m in members:
        number = int(m["member_id"][-2:])
        m["role"] = ("secretary" if number == 1 else "deputy" if number == 2 and has_committee else
                     "committee" if number == 3 and has_committee else "member")
        m["leading_cadre"] = m["leadership_member"] = leadership_group and number in (1, 4, 5)
        m["status"] = "probationary" if number == 9 else "full"
        m["situation"] = "none"
    rows: Rows = {Branch: [branch], Member: members}
    superior = "钱国平（市财政局机关党委副书记）"
    common = dict(year=2025, place="机关三楼党员活动室", superior_person=superior)
    absent = {BASELINE_ROLES["absentee"]: ("因公出差", True)}
    plans = [
        MeetingPlan(meeting_id=BASELINE_MEETINGS["regular_h1"], kind="regular", half="first",
                    date=BASELINE_DATES["R1"], topic=TOPICS["regular"][0], absentees=absent, **common),
        MeetingPlan(meeting_id=BASELINE_MEETINGS["special"], kind="special", half="second",
                    date=BASELINE_DATES["S1"], topic=TOPICS["special"][0], hours=4.5, **common),
    ]
    if leadership_group:
        plans.append(MeetingPlan(meeting_id=BASELINE_MEETINGS["leadership"], kind="leadership", half="second",
                                 date=BASELINE_DATES["L1"], topic=TOPICS["leadership"][0], hours=6.0,
                                 report_days=12, rectifications=3, **common))
    plans.append(MeetingPlan(
        meeting_id=BASELINE_MEETINGS["regular_h2"], kind="regular", half="second", date=BASELINE_DATES["R2"],
        topic=TOPICS["regular"][4], absentees=absent, with_evaluation=True, scheme="four",
        excellent=(BASELINE_ROLES["excellent"],),
        exempt=(BASELINE_ROLES["exempt_cadre"],) if leadership_group else (), **common))
    for meeting in plans:
        merge(rows, meeting_rows(branch, members, meeting, rng))
    # items whose planned completion lies after as_of stay open (deadline after as_of too): a live ledger
    cut(rows, BASELINE_AS_OF)
    assert all(r["status"] == "closed" or r["deadline"] > BASELINE_AS_OF for r in rows[Rectification])
    return rows


# --------------------------------------------------------------------------------------------------------------
# The demo generator

# The default demo: (unit type, size, committee, leadership group, scheme, special years, name, superior)
DEMO_BRANCHES: tuple[tuple, ...] = (
    ("organ", 12, True, True, "four", (2025, 2026), "市财政局机关第一党支部", "市财政局机关党委"),
    ("organ", 8, True, False, "four", (2025,), "市财政局机关第二党支部", "市财政局机关党委"),
    ("community", 15, True, False, "three", (2025,), "幸福里社区党支部", "城关街道党工委"),
    ("community", 6, False, False, "four", (2025,), "东风路社区第二网格党支部", "东城街道党工委"),
    ("enterprise", 10, True, True, "four", (2025, 2026), "市城投集团机关党支部", "市城投集团党委"),
    ("enterprise", 5, False, False, "three", (2025,), "恒达机械制造有限公司党支部", "区非公有制经济组织党委"),
    ("school", 18, True, True, "four", (2025,), "市第一中学教工第一党支部", "市第一中学党委"),
    ("school", 7, True, False, "four", (2025,), "实验小学党支部", "区教育局党委"),
    ("institution", 20, True, False, "four", (2025, 2026), "市人民医院内科党支部", "市人民医院党委"),
    ("institution", 9, True, True, "three", (2025,), "市农业科学研究院机关党支部", "市农业科学研究院党委"),
    ("service", 11, True, False, "four", (2025,), "区政务服务中心党支部", "区行政审批局党组"),
    ("enforcement", 13, True, False, "four", (2025, 2026), "市市场监管局执法稽查支队党支部", "市市场监管局党组"),
    ("enforcement", 6, False, False, "four", (2025,), "区城管执法大队党支部", "区城市管理局党组"),
    ("other", 16, True, False, "four", (2025,), "市老年大学离退休干部党支部", "市委老干部局党组"),
)
COMPLIANT_BRANCHES: tuple[str, ...] = ("B002", "B006", "B008", "B010", "B011")
# membership and roles in time (rules.md rev 3), by branch index: B008 (compliant) has a newcomer, a member who
# left and a 换届 and stays silent; B003 has the same kinds of change with the nearest defects planted
DEMO_TIMELINES = {
    7: Timeline(joined=(5, dt.date(2025, 7, 1)), left=(6, dt.date(2026, 3, 1)), handover=dt.date(2025, 10, 1)),
    2: Timeline(joined=(10, dt.date(2026, 3, 2)), left=(11, dt.date(2025, 8, 1)), handover=dt.date(2026, 4, 1),
                planted=True),
}
# branches whose only problem is a missing meeting (B005: no 2025 民主生活会; B013: no 2026 上半年组织生活会)
DEMO_CADENCE = {4: "FREQ-LEADERSHIP-YEAR", 12: "FREQ-HALF-YEAR"}
UNIT_CYCLE = ("organ", "community", "enterprise", "school", "institution", "service", "enforcement", "organ",
              "community", "other")


@dataclass(frozen=True)
class Planted:
    """A problem planted in the demo: the finding a check must report."""

    branch_id: str
    rule: str
    meeting_id: str | None
    subject: str | None
    year: int | None = None  # cadence rules: the year to check (``--year``) for the finding to show


def _demo_plan(index: int, count: int, rng: random.Random, years: tuple[int, ...]) -> BranchPlan:
    bid = f"B{index + 1:0{max(3, len(str(count)))}d}"  # same width for all: ids sort in order
    if index < len(DEMO_BRANCHES):
        unit, size, committee, group, scheme, specials, name, superior = DEMO_BRANCHES[index]
        return BranchPlan(bid, unit, size, committee, group, name=name, superior=superior, scheme=scheme, years=years,
                          special_years=tuple(y for y in specials if y in years))
    unit = UNIT_CYCLE[index % len(UNIT_CYCLE)]
    size = rng.randint(5, 20)
    group = unit in ("organ", "institution", "school", "enterprise") and rng.random() < 0.35
    specials = tuple(y for y in years if y == 2025 or rng.random() < 0.3)
    return BranchPlan(bid, unit, size, size >= 7, group, scheme="three" if rng.random() < 0.2 else "four",
                      years=years, special_years=specials)


def iter_branches(branches: int | None = None, seed: int = DEFAULT_SEED, years: tuple[int, ...] = (2025, 2026),
                  as_of: dt.date = DEMO_AS_OF, planted: list[Planted] | None = None) -> Iterator[Rows]:
    """Rows of one branch at a time (deterministic per branch: chunking does not change the data)."""
    from . import mutations

    count = len(DEMO_BRANCHES) if branches is None else branches
    planter = mutations.DemoPlanter(COMPLIANT_BRANCHES, count, DEMO_CADENCE) if branches is None else None
    for index in range(count):
        rng = random.Random(f"{seed}/{index}")
        plan = _demo_plan(index, count, rng, tuple(years))
        timeline = DEMO_TIMELINES.get(index)  # any demo: its first branches are the default's
        rows = branch_rows(plan, rng, as_of, timeline)
        found = planter.plant(rows, index, as_of) if planter else mutations.plant_random(rows, rng, as_of)
        if planter and timeline is not None and timeline.planted:
            found += mutations.plant_in_time(rows, found, f"{plan.branch_id}-{timeline.joined[0]:02d}",
                                             f"{plan.branch_id}-01", timeline.handover, as_of)
        if planted is not None:
            planted.extend(Planted(plan.branch_id, *item) for item in found)
        yield rows


def generate(branches: int | None = None, seed: int = DEFAULT_SEED, years=(2025, 2026)) -> dict:
    """The demo batch: default 14 branches with planted problems (``COMPLIANT_BRANCHES`` clean), or N branches."""
    rows: Rows = {}
    for branch in iter_branches(branches, seed, tuple(years)):
        merge(rows, branch)
    return to_batch(rows)


def planted(branches: int | None = None, seed: int = DEFAULT_SEED, years=(2025, 2026)) -> list[Planted]:
    """What ``generate`` with the same arguments planted: (branch, rule, meeting, subject) per problem."""
    found: list[Planted] = []
    for _ in iter_branches(branches, seed, tuple(years), planted=found):
        pass
    return found


def iter_batches(branches: int | None = None, seed: int = DEFAULT_SEED, years=(2025, 2026),
                 chunk: int = CHUNK_BRANCHES) -> Iterator[tuple[int, dict]]:
    """(number of branches, batch) per chunk of ``chunk`` branches: bounded memory for big runs."""
    rows: Rows = {}
    n = 0
    for branch in iter_branches(branches, seed, tuple(years)):
        merge(rows, branch)
        n += 1
        if n == chunk:
            yield n, to_batch(rows)
            rows, n = {}, 0
    if n:
        yield n, to_batch(rows)


def save_demo(store, branches: int | None = None, seed: int = DEFAULT_SEED, years=(2025, 2026),
              chunk: int = CHUNK_BRANCHES, progress: bool | None = None, single_transaction: bool = False) -> int:
    """Generate and save chunk by chunk (one transaction per chunk, or one for all); returns rows written.

    Memory stays bounded by the chunk either way; one transaction per chunk lets readers see progress and a
    failure keep the chunks already written (measured: no speed difference on SQLite, see benchmarks/).
    """
    from contextlib import nullcontext

    total = len(DEMO_BRANCHES) if branches is None else branches
    show = total >= 200 if progress is None else progress
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="支部", desc="生成演示数据")
    written = 0
    try:
        with store.transaction() if single_transaction else nullcontext() as connection:
            for n, batch in iter_batches(branches, seed, years, chunk):
                store.save(batch, connection=connection)
                written += sum(len(frame) for frame in batch.values())
                if bar is not None:
                    bar.update(n)
    finally:
        if bar is not None:
            bar.close()
    return written


DEMO_PASSWORD = "orglife-demo"
PHONE_VOTE_MEETING = "B011-2025-R2"  # a compliant 窗口服务 branch's 民主评议, with invited 群众代表


def vote_on_phones(store, meeting_id: str, seed: int = DEFAULT_SEED):
    """Re-cast a demo meeting's paper ballots as phone votes (``store.voting``): the same ballots, now entered by
    one-time codes into the shuffled box and counted at the close. Returns the closed poll."""
    from .store.writer import Edit

    paper = store.versioned(Ballot, meeting_id=meeting_id)
    ballots = [(group.voter_type.iloc[0], dict(zip(group.rated_id, group.level)))
               for _, group in paper.groupby("ballot_no")]
    store.apply([Edit(Ballot, {"meeting_id": meeting_id}, version=int(row.version), row_id=int(row.row_id),
                      delete=True) for row in paper.itertuples()])
    members = sum(voter == "member" for voter, _ in ballots)
    poll = store.open_poll(meeting_id, members, len(ballots) - members)
    codes = {voter: [s.code for s in poll.slips if s.voter_type == voter] for voter in ("member", "public")}
    random.Random(seed).shuffle(ballots)
    for voter, levels in ballots:  # no scrub after each: nobody reads the store meanwhile, the close scrubs it
        store.cast_vote(codes[voter].pop(), levels, scrub=False)
    store.close_count(meeting_id)
    return store.poll(meeting_id)


def demo_accounts(store) -> list[str]:
    """A login per role for trying the forms (only into a store that has no accounts yet): the admin, the
    secretary of the first branch, the superior of the first branch's 上级党组织, an analyst without the grant."""
    from .auth import add_account, list_accounts

    if list_accounts(store):
        return []
    branches = store.read(Branch).sort_values("branch_id")
    first = branches.iloc[0]
    made = [add_account(store, "admin", "admin", DEMO_PASSWORD),
            add_account(store, f"sec-{first.branch_id}", "secretary", DEMO_PASSWORD, branches=[first.branch_id])]
    if first.superior:
        made.append(add_account(store, "superior", "superior", DEMO_PASSWORD, superior=first.superior))
    made.append(add_account(store, "analyst", "analyst", DEMO_PASSWORD))
    return [f"{a.name}（{a.role.label}：{a.scope_text}）" for a in made]
