"""The four procedures stage by stage, built from the rule table (``rules.registry``) and the deadline timeline
(``deadlines.timeline``): the walkthrough and the printable checklists both read ``procedure_table``.

Nothing here restates a rule: items, deadlines, severities and sources come from the registry and the timeline; this
module adds only what they lack for trainees (which stage a rule family belongs to, the evidence to keep).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from ..deadlines import STAGES, offset_text, requirement, timeline
from ..models import MeetingKind
from ..rules import RULES
from ..rules.profile import load_profile as as_profile  # Profile, bundled name, YAML path or None
from ..rules.registry import SEVERITY_LABELS, Rule

YEAR_STAGE = "全年频次"
# families → the stage of the meeting they belong to (民主评议 happens at the year-end meeting itself)
FAMILY_STAGE = {"PREP": STAGES[0], "MEET": STAGES[1], "EVAL": STAGES[1], "RECT": STAGES[2], "POST": STAGES[2],
                "FREQ": YEAR_STAGE}
UNDATED_WHEN = {STAGES[0]: "会前", STAGES[1]: "会议当天", STAGES[2]: "会后", YEAR_STAGE: "全年"}
EVALUATION_NOTE = "结合民主评议党员时"
# The seeds cited by every source ("000 第一篇 1.2" = seed 000, section 第一篇 1.2).
SEED_TITLES = {
    "000": "组织生活会相关规定五篇（第一篇至第五篇）",
    "003": "《基层组织生活会制度》；“003 民主”为《党员领导干部民主生活会制度》",
}

# What to keep on file to show each rule was followed (the workbook column that records it in brackets).
EVIDENCE = {
    "PREP-TOPIC": "会议方案、会议通知中写明的主题（会议表“主题”）",
    "PREP-PLAN": "会议方案及上级审核意见（“方案报送日期”“方案审核通过”）",
    "PREP-PLAN-DEADLINE": "方案报送上级纪委、组织部门的送审记录（“方案报送日期”）",
    "PREP-NOTICE": "会议通知及发送记录（“通知日期”）",
    "PREP-SUPERIOR-NOTICE": "向上级党组织的报告（“报告上级日期”）",
    "PREP-PUBLIC-NOTICE": "会前公告及张贴、发布记录（“会前公告日期”）",
    "PREP-STUDY": "学习签到表、学习记录（“学习”表：日期、形式、时长）",
    "PREP-OPINIONS": "征求意见表、座谈记录、意见汇总材料（“征求意见”表、“意见汇总”）",
    "PREP-OPINIONS-FEEDBACK": "意见反馈记录（“征求意见”表“反馈日期”）",
    "PREP-TALKS": "谈心谈话记录（“谈心谈话”表）",
    "PREP-MATERIALS": "对照检查材料（发言提纲）及上级审核记录（“对照检查”表）",
    "PREP-COMMUNITY-LIST": "问题清单公示照片或公示稿（“问题清单公示日期”）",
    "PREP-LEADER-OPINIONS": "对领导干部党员的征求意见记录及反馈记录（“征求意见”表“对象”“反馈日期”）",
    "PREP-GROUP-OPINIONS-REPORTED": "涉及支部班子的意见向支部委员通报的会议记录或书面送达记录（“班子意见通报日期”）",
    "MEET-HOST": "会议记录中的主持人（“主持人”）",
    "MEET-PRIOR-RECTIFICATION": "会议记录中通报上次整改情况的内容（“通报上次整改”）",
    "MEET-ORDER": "会议记录中的发言顺序（“批评”表“序号”“阶段”）",
    "MEET-CRITICISM": "会议记录中的自我批评、相互批评和表态（“批评”表）",
    "MEET-SELF-CRITICISM": "党员大会记录中每名党员的自我批评（“批评”表）",
    "MEET-ASSEMBLY-REPORT": "党员大会记录中书记通报班子对照检查情况和党员的批评意见（“批评”表，类型“通报”、对象“班子”）",
    "MEET-PEER-REVIEW": "党员大会记录中党员互评的发言（“批评”表，党员大会阶段对其他党员的“批评”）",
    "MEET-GROUP-CHECK": "民主生活会、支委会记录中主要负责同志（书记）代表班子的对照检查（“批评”表，类型“通报”、对象“班子”）",
    "MEET-OPINIONS-REPORTED": "会议记录中通报党员群众意见的内容（“通报征求意见”）",
    "MEET-UNIT-RESPONSES": "会议记录中对规定问题和上级点明问题的回应（“回应”表）",
    "MEET-ATTENDANCE": "签到表、请假条（“出席”表）",
    "MEET-WRITTEN-STATEMENT": "书面发言材料及会议记录中的宣读情况（“出席”表“会上宣读”）",
    "MEET-SUPERIOR-COMMENT": "会议记录中上级的点评（“上级参会人”“上级点评”）",
    "MEET-SUMMARY": "会议记录中书记的会议小结（“会议小结”）",
    "MEET-MINUTES": "会议记录本（“会议记录”）",
    "MEET-DURATION": "会议记录中的起止时间（“时长(小时)”）",
    "MEET-SEPARATE": "民主生活会专门召开的会议通知和记录（“合并召开”为否）",
    "EVAL-COMBINED": "民主评议党员工作方案（“结合民主评议”“测评方案”）",
    "EVAL-SELF": "党员个人小结（“评定”表“个人小结”）",
    "EVAL-BALLOTS": "民主测评票及计票表（“测评”表）",
    "EVAL-GROUP-BALLOT": "对支部班子的民主测评票及计票结果（“测评”表，被测评人“班子”）",
    "EVAL-RATING": "支部评定等次的会议记录（“评定”表“评定等次”）",
    "EVAL-HELP": "对评议较差党员指定帮促人、谈话帮促的记录（“评定”表“帮促人”）",
    "EVAL-EXCELLENT-VOTE": "党员大会表决记录（“评定”表“表决通过”）",
    "EVAL-UNQUALIFIED": "支委会对不合格党员的处理意见（“评定”表“处理意见”）",
    "EVAL-FEEDBACK": "评定结果反馈记录（“评定”表“反馈日期”）",
    "RECT-PRESENT": "整改清单（“整改”表）",
    "RECT-FOUR-CLEAR": "整改清单中的目标、措施、责任人、时限和责任类别（“整改”表）",
    "RECT-PUBLIC": "整改清单公示照片或公示稿（“整改公示日期”）",
    "RECT-PERSONAL": "党员个人整改措施和公开承诺（“整改”表，责任类别“个人”、“承诺”）",
    "RECT-OVERDUE": "整改台账及销号材料（“整改”表“状态”“完成日期”）",
    "POST-REPORT": "会议情况报告、会议记录复印件、意见汇总及报送记录（“情况报告报送日期”）",
    "POST-ABSENTEE-INFORMED": "向缺席党员转告的记录（“出席”表“会后告知日期”）",
    "POST-PUBLIC-REPORT": "向干部群众通报的通知或简报（“会后通报日期”）",
    "FREQ-HALF-YEAR": "全年会议台账：上、下半年各一次组织生活会",
    "FREQ-LEADERSHIP-YEAR": "全年会议台账：每年一次民主生活会",
}


@dataclass(frozen=True)
class Procedure:
    key: str
    label: str
    kind: MeetingKind
    families: frozenset[str]
    intro: str  # who, how often: the project's own summary; its source below
    source: str


_ALL_BUT_EVAL = frozenset(FAMILY_STAGE) - {"EVAL"}
PROCEDURES = (
    Procedure("regular", MeetingKind.regular.label, MeetingKind.regular, _ALL_BUT_EVAL,
              "以党支部为单位召开，每名党员都参加（领导干部以普通党员身份参加）；一般每年年中、年底各一次，"
              "年底的一次结合民主评议党员。", "003 一.2、一.3"),
    Procedure("special", MeetingKind.special.label, MeetingKind.special, _ALL_BUT_EVAL,
              "按上级部署围绕一个专题召开，程序与组织生活会相同，上级必须派人参加并点评；机关党组织原则上不少于半天。",
              "000 第三篇"),
    Procedure("leadership", MeetingKind.leadership.label, MeetingKind.leadership, _ALL_BUT_EVAL,
              "党员领导干部（领导班子成员）参加，每年召开一次，必须专门召开，不与其他会议合并。",
              "003 民主 一.2、一.3"),
    Procedure("evaluation", "民主评议党员", MeetingKind.regular, frozenset({"EVAL"}),
              "与年底组织生活会一并进行：党员个人自评、民主测评、支部评定等次、结果反馈本人；会前准备和会后整改"
              "同组织生活会。", "003 一.2；000 第二篇、第三篇"),
)
PROCEDURE_BY_KEY = {p.key: p for p in PROCEDURES}
COLUMNS = ["stage", "when", "offset", "due", "day_off", "item", "requirement", "rule", "title", "severity", "source",
           "evidence", "note"]


def procedure(key: str | MeetingKind) -> Procedure:
    from ..errors import OrglifeError

    key = key.value if isinstance(key, MeetingKind) else key
    try:
        return PROCEDURE_BY_KEY[key]
    except KeyError:
        allowed = "、".join(f"{p.key}（{p.label}）" for p in PROCEDURES)
        raise OrglifeError(f"没有这项程序：{key}，应为：{allowed}") from None


def _rule_row(rule: Rule, stage: str, **values) -> dict:
    return dict(stage=stage, rule=rule.id, title=rule.title, severity=SEVERITY_LABELS[rule.severity],
                evidence=EVIDENCE[rule.id], note=EVALUATION_NOTE if rule.family == "EVAL" else "") | values


def procedure_table(key: str | MeetingKind, profile=None, meeting_date: dt.date | None = None,
                    families: frozenset[str] | None = None) -> pd.DataFrame:
    """Every step of a procedure (a Procedure key or a meeting kind: then all its rules incl. 民主评议), in order.

    Dated steps come from the timeline (offset and due date from the profile); each rule of the kind that no dated
    step covers follows as its own item (the meeting itself lists every meeting rule). ``due`` is the date for a
    meeting on ``meeting_date`` (None without a date); ``day_off`` is the timeline's mark for a due day off.
    """
    chosen = procedure(key)
    families = families or (chosen.families if not isinstance(key, MeetingKind) else frozenset(FAMILY_STAGE))
    profile = as_profile(profile)
    by_id = {r.id: r for r in RULES}
    steps = timeline(chosen.kind, meeting_date or dt.date.today(), profile)
    rows, covered = [], set()
    meeting_day_off = steps.day_off[steps.key.eq("meeting")].iloc[0] if meeting_date else ""
    for step in steps.itertuples(index=False):
        rule = by_id[step.rule]
        if rule.family not in families:
            continue
        row = _rule_row(rule, step.stage, when=offset_text(step.offset), offset=step.offset,
                        due=step.due if meeting_date else None, day_off=step.day_off if meeting_date else "",
                        item=step.step,
                        requirement=requirement(step.relation, step.basis), source=step.source)
        if step.key == "meeting":  # the meeting opens its stage; its rules follow one by one, each with its own row
            row.update(rule="", title="", severity="", evidence="", note="")
        else:
            covered.add(rule.id)
        rows.append(row)
    for rule in RULES:
        if rule.id in covered or chosen.kind.value not in rule.applies_to or rule.family not in families:
            continue
        stage = FAMILY_STAGE[rule.family]
        # undated: before-meeting items lead their stage, the others follow the dated ones
        offset = float("-inf") if stage == STAGES[0] else float("inf")
        on_meeting_day = stage == STAGES[1]
        rows.append(_rule_row(rule, stage, when=UNDATED_WHEN[stage], offset=offset,
                              due=meeting_date if on_meeting_day else None,
                              day_off=meeting_day_off if on_meeting_day else "", item=rule.title,
                              requirement="规定" if rule.severity == "error" else "原则上", source=rule.source))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    order = {stage: i for i, stage in enumerate((*STAGES, YEAR_STAGE))}
    frame = frame.assign(_stage=frame.stage.map(order)).sort_values(["_stage", "offset"], kind="stable")
    return frame.drop(columns="_stage").reset_index(drop=True)


def seed_legend() -> str:
    return "；".join(f"{seed} = {title}" for seed, title in SEED_TITLES.items())
