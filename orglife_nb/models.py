"""The one definition of every record kind of the exchange workbook (docs/spec/workbook.md).

Each record kind is a pydantic model. A field's ``title`` is its Chinese workbook header (the public contract),
its ``description`` the note shown in the blank template. Enumerations carry their Chinese labels. The workbook
reader/writer, the store schema, the frames, the forms and the reports all derive from what is declared here.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from enum import Enum
from typing import Annotated, Any, ClassVar, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .present.values import missing

# --------------------------------------------------------------------------------------------------------------
# Enumerations with Chinese labels


class LabeledEnum(str, Enum):
    """A string enum whose members carry a Chinese label; parses from the code or the label."""

    label: str

    def __new__(cls, code: str, label: str):
        obj = str.__new__(cls, code)
        obj._value_ = code
        obj.label = label
        return obj

    @classmethod
    def _missing_(cls, value: object):
        if isinstance(value, str):
            text = value.strip()
            for member in cls:
                if text == member.label or text == member.value:
                    return member
        return None

    @classmethod
    def labels(cls) -> list[str]:
        return [m.label for m in cls]

    @classmethod
    def label_of(cls, code: str | None) -> str | None:
        return None if code is None else cls(code).label

    def __str__(self) -> str:  # f-strings show the code; reports use .label explicitly
        return self.value


class UnitType(LabeledEnum):
    organ = "organ", "机关"
    institution = "institution", "事业单位"
    enterprise = "enterprise", "企业"
    community = "community", "社区"
    school = "school", "学校"
    service = "service", "窗口服务"
    enforcement = "enforcement", "执法监管"
    other = "other", "其他"


class Role(LabeledEnum):
    secretary = "secretary", "书记"
    deputy = "deputy", "副书记"
    committee = "committee", "委员"
    member = "member", "党员"


class MemberStatus(LabeledEnum):
    full = "full", "正式党员"
    probationary = "probationary", "预备党员"


class Situation(LabeledEnum):
    none = "none", "无"
    mobile = "mobile", "流动"
    frail = "frail", "年老体弱"
    hardship = "hardship", "困难"


class MeetingKind(LabeledEnum):
    regular = "regular", "组织生活会"
    special = "special", "专题组织生活会"
    leadership = "leadership", "民主生活会"


class Half(LabeledEnum):
    first = "first", "上半年"
    second = "second", "下半年"


class RatingScheme(LabeledEnum):
    four = "four", "四档"
    three = "three", "三档"


class Level(LabeledEnum):
    """Evaluation levels of both schemes (000 第二篇 二.4: four levels; 第三篇 第三步 4: three levels)."""

    excellent = "excellent", "优秀"
    qualified = "qualified", "合格"
    basic = "basic", "基本合格"
    unqualified = "unqualified", "不合格"
    good = "good", "好"
    fair = "fair", "一般"
    poor = "poor", "差"


class FinalLevel(LabeledEnum):
    """The final 评定等次: always four levels, whatever the ballot scheme (000 第二篇 二.4). Codes are Level's."""

    excellent = "excellent", "优秀"
    qualified = "qualified", "合格"
    basic = "basic", "基本合格"
    unqualified = "unqualified", "不合格"


SCHEME_LEVELS: dict[RatingScheme, tuple[Level, ...]] = {
    RatingScheme.four: (Level.excellent, Level.qualified, Level.basic, Level.unqualified),
    RatingScheme.three: (Level.good, Level.fair, Level.poor),
}


class StudyForm(LabeledEnum):
    concentrated = "concentrated", "集中"
    self_study = "self_study", "自学"


class OpinionMethod(LabeledEnum):
    individual = "individual", "个别谈话"
    forum = "forum", "集体座谈"
    visit = "visit", "上门走访"
    phone = "phone", "电话"
    form = "form", "征求意见表"
    other = "other", "其他"


class OpinionSource(LabeledEnum):
    member = "member", "党员"
    public = "public", "群众"


class MaterialType(LabeledEnum):
    examination = "examination", "对照检查材料"
    outline = "outline", "发言提纲"


class Presence(LabeledEnum):
    present = "present", "出席"
    # took part in another form (送学上门, online) or at the 流入地/流出地 branch: counts as attending (003 一.3)
    flexible = "flexible", "灵活参加"
    leave = "leave", "请假"
    absent = "absent", "缺席"


# who is an eligible 民主测评 voter among the members: those attending, 灵活参加 included (rules.md rev 3, precisely 8;
# the phone vote and EVAL-BALLOTS count the same people)
VOTING_PRESENCE = (Presence.present.value, Presence.flexible.value)


class CriticismStage(LabeledEnum):
    committee = "committee", "支委会"
    assembly = "assembly", "党员大会"
    leadership = "leadership", "民主生活会"


class CriticismAct(LabeledEnum):
    self_criticism = "self_criticism", "自我批评"
    criticism = "criticism", "批评"
    response = "response", "表态"
    # the secretary reports the 班子's 对照检查 to the 党员大会 / the 主要负责同志 gives it for the 班子 (对象 班子)
    report = "report", "通报"


class QuestionSource(LabeledEnum):
    required = "required", "规定问题"
    superior = "superior", "上级点明"
    public = "public", "群众反映"


# The questions a unit type must answer in a 专题组织生活会 (000 第三篇 第二步): code (the workbook's drop-down
# value) → the question as the seed words it.
ORGAN_QUESTIONS = (("堡垒先锋", "党支部战斗堡垒作用和党员先锋模范作用发挥好不好"), ("围绕中心", "围绕中心意识强不强"),
                   ("工作标杆", "工作标杆高不高"), ("担当意识", "担当意识强不强"), ("公车私用", "是否存在公车私用"))
SERVICE_QUESTIONS = (("门难进", "是否存在“门难进、脸难看、事难办”"), ("吃拿卡要", "是否存在“吃、拿、卡、要”"),
                     ("小金库", "是否私设“小金库”"))
NAMED_QUESTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "organ": ORGAN_QUESTIONS, "enforcement": SERVICE_QUESTIONS, "service": SERVICE_QUESTIONS,
}
QUESTION_TEXT = dict(ORGAN_QUESTIONS + SERVICE_QUESTIONS)


class VoterType(LabeledEnum):
    member = "member", "党员"
    public = "public", "群众代表"


class Responsibility(LabeledEnum):
    unit = "unit", "单位"
    party = "party", "党组织"
    individual = "individual", "个人"


class RectStatus(LabeledEnum):
    open = "open", "未完成"
    done = "done", "已完成"
    closed = "closed", "已销号"


# Talk sides and opinion targets may name these instead of a member id.
SUPERIOR = "上级"
BRANCH_LEADERSHIP = "支部班子"
# a criticism record addressed to the group as a whole (通报 of the 班子's 对照检查, criticism of the 班子)
GROUP = "班子"

# --------------------------------------------------------------------------------------------------------------
# Cell parsers: the one place where workbook text becomes typed values (shared by pydantic and the bulk reader)

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)
_TRUE = {"是", "y", "yes", "true", "1", "t", "对", "√"}
_FALSE = {"否", "n", "no", "false", "0", "f", "×"}

# Plausible values (README "导入限制"): the founding of the Party to the end of the century. Dates outside this
# range import fine into a database but break pandas' nanosecond timestamps later (OutOfBoundsDatetime in check,
# status, docs and the reports), so they are refused where they enter: cells, form inputs and the CLI's options.
DATE_MIN = dt.date(1921, 7, 1)
DATE_MAX = dt.date(2100, 12, 31)
# Integers must fit both stores' INTEGER column (PostgreSQL's is 32-bit; SQLite's would take 64-bit, and Python's
# unbounded ints overflow it): one bound, checked here, so both stores see the same values.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
MAX_HOURS = 1000.0  # one meeting or study record; more is a typo (or inf)
# Excel's own limit for one cell: longer text cannot be written back on export (it would be cut).
MAX_TEXT = 32_767
# Invisible characters in ids (zero-width joiner, BOM, LRM/RLM …: Unicode category Cf) are dropped and
# compatibility forms folded (NFKC): an id that looks the same must be the same id.
_CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f]")


class CellError(ValueError):
    """A cell value that cannot be read; the message is the Chinese reason."""


def blank(value: Any) -> bool:
    return missing(value) or (isinstance(value, str) and value.strip() == "")


def date_in_range(day: dt.date) -> dt.date:
    """The one range check for dates: cells, form inputs and the CLI's --as-of/--date all come through here."""
    if not DATE_MIN <= day <= DATE_MAX:
        raise CellError(f"日期超出允许范围（{DATE_MIN:%Y-%m-%d} 至 {DATE_MAX:%Y-%m-%d}）")
    return day


def parse_date(value: Any) -> dt.date | None:
    if blank(value):
        return None
    if isinstance(value, dt.datetime):
        return date_in_range(value.date())
    if isinstance(value, dt.date):
        return date_in_range(value)
    text = str(value).strip()
    # a datetime exported as text ("2026-03-01 00:00:00") is still a date
    text = re.sub(r"[ T]00:00(:00)?$", "", text)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                day = dt.date(*map(int, match.groups()))
            except ValueError:
                raise CellError("不是有效的日期（该月没有这一天）") from None
            return date_in_range(day)
    raise CellError("日期格式不对，应为 Excel 日期或 YYYY-MM-DD、YYYY/MM/DD、YYYY年M月D日")


def _token(value: Any) -> str:
    """Text of a coded cell (id, yes/no, choice): NFKC (full-width ０１ → 01, ideographic space → space),
    invisible format characters dropped, spaces trimmed. Control characters cannot be typed: refused."""
    text = str(value)
    if not text.isascii():
        text = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")
    text = text.strip()
    if _CONTROL_CHARS.search(text):
        raise CellError("含有控制字符（不可见），请重新输入")
    return text


def parse_bool(value: Any) -> bool | None:
    if blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = _token(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError("应填 是/否（也可填 Y/N、true/false、1/0）")


def _length_checked(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise CellError(f"文字过长：{len(text):,} 个字符，超过 Excel 单元格上限 {MAX_TEXT:,} 个字符")
    return text


def parse_id(value: Any) -> str | None:
    """Ids are text: a numeric cell 1.0 becomes '1', a text cell '001' stays '001'; look-alikes are one id."""
    if blank(value):
        return None
    if isinstance(value, bool):
        raise CellError("编号应为文本")
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        raise CellError("编号不能是小数")
    text = str(value)
    if text.isascii() and text.isprintable():  # the usual id: nothing to fold, nothing invisible
        return _length_checked(text.strip())
    text = _token(_length_checked(text))
    if text == "":
        raise CellError("编号只有不可见字符")
    return text


def parse_text(value: Any) -> str | None:
    if blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return _length_checked(str(value).strip())


_TIME = re.compile(r"^(\d{1,2})(?::|时|点)(\d{1,2})?(?::\d{1,2}|分)?$")


def parse_time(value: Any) -> str | None:
    """A time of day as ``HH:MM``: an Excel time (a ``time``, a datetime, or the day fraction 0 ≤ x < 1) or text
    ``9:30``, ``09:30:00``, ``9时30分``, ``9点``."""
    if blank(value):
        return None
    if isinstance(value, (dt.datetime, dt.time)):
        return f"{value.hour:02d}:{value.minute:02d}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not (math.isfinite(value) and 0 <= value < 1):
            raise CellError("时间应为 HH:MM（如 09:30）")
        minutes = round(value * 24 * 60)
        return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"
    match = _TIME.match(_token(value))
    if match is None:
        raise CellError("时间应为 HH:MM（如 09:30）")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise CellError("不是有效的时间（时 0–23，分 0–59）")
    return f"{hour:02d}:{minute:02d}"


def _int_in_range(number: int, low: int = INT_MIN, high: int = INT_MAX) -> int:
    if not low <= number <= high:
        raise CellError(f"超出允许范围（{low} 至 {high}）")
    return number


def parse_int(value: Any, low: int = INT_MIN, high: int = INT_MAX) -> int | None:
    if blank(value):
        return None
    if isinstance(value, bool):
        raise CellError("应为整数")
    if isinstance(value, (int, float)):
        if math.isfinite(value) and float(value).is_integer():
            return _int_in_range(int(value), low, high)
        raise CellError("应为整数")
    text = _token(value).removesuffix("年")
    if re.fullmatch(r"[+-]?\d{1,20}", text):
        return _int_in_range(int(text), low, high)
    raise CellError("应为整数")


def parse_year(value: Any) -> int | None:
    """A year: the years of the date range (1921 … 2100)."""
    return parse_int(value, DATE_MIN.year, DATE_MAX.year)


def parse_number(value: Any) -> float | None:
    if blank(value):
        return None
    if isinstance(value, bool):
        raise CellError("应为数字")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(_token(value))
        except (ValueError, OverflowError):
            raise CellError("应为数字") from None
    if not math.isfinite(number):
        raise CellError("应为数字（不能是无穷大或 NaN）")
    if number < 0:
        raise CellError("不能为负数")
    if number > MAX_HOURS:
        raise CellError(f"数值过大（超过 {MAX_HOURS:g}）")
    return number


def enum_parser(enum: type[LabeledEnum]):
    def parse(value: Any) -> str | None:
        if blank(value):
            return None
        try:
            return enum(_token(value)).value
        except ValueError:
            raise CellError(f"不是允许的值，应为：{'/'.join(enum.labels())}") from None

    return parse


# Annotated field types: pydantic uses the parser as a before-validator, the bulk reader uses it per unique value.
def _annotated(base: type, parser) -> Any:
    return Annotated[base, BeforeValidator(parser)]


IdText = _annotated(str, parse_id)
Text = _annotated(str, parse_text)
Date = _annotated(dt.date, parse_date)
Bool = _annotated(bool, parse_bool)
Int = _annotated(int, parse_int)
Year = _annotated(int, parse_year)
Number = _annotated(float, parse_number)
Time = _annotated(str, parse_time)


def col(header: str, note: str = "", *, default: Any = None, required: bool = False, **extra: Any) -> Any:
    """A workbook column: Chinese header (title), note for the template (description)."""
    schema_extra = {k: v for k, v in extra.items() if v is not None}
    if required:
        return Field(..., title=header, description=note, json_schema_extra=schema_extra or None)
    return Field(default, title=header, description=note, json_schema_extra=schema_extra or None)


# --------------------------------------------------------------------------------------------------------------
# Records


class Record(BaseModel):
    """Base of every record kind: sheet name, key fields and confidentiality are class-level facts."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, use_enum_values=True,
                              validate_default=False)

    sheet: ClassVar[str]
    table: ClassVar[str]
    label: ClassVar[str]
    # fields forming the natural key: one id column, or () for rows that belong to a meeting
    key: ClassVar[tuple[str, ...]] = ()
    # the record a child row belongs to, a meeting (任职: a member); its rows are replaced per parent on import
    parent: ClassVar[str | None] = "meeting_id"
    confidential: ClassVar[bool] = False


class Branch(Record):
    sheet = "支部"
    table = "branches"
    label = "支部"
    key = ("branch_id",)
    parent = None

    branch_id: IdText = col("支部编号", "支部的唯一编号（文本，如 001）", required=True)
    name: Text = col("支部名称", "支部全称", required=True)
    superior: Text | None = col("上级党组织", "上级党组织名称")
    unit_type: UnitType | None = col("单位类型", "所在单位类型")
    has_committee: Bool | None = col("设支委会", "是否设支部委员会：是/否")
    has_leadership_group: Bool | None = col("有领导班子", "是否有领导班子（召开民主生活会）：是/否")


class Member(Record):
    sheet = "党员"
    table = "members"
    label = "党员"
    key = ("member_id",)
    parent = None

    member_id: IdText = col("党员编号", "党员的唯一编号（文本）", required=True)
    branch_id: IdText = col("支部编号", "所在支部编号，须在“支部”表中", required=True, ref="branches")
    name: Text = col("姓名", "党员姓名", required=True)
    role: Role | None = col("职务", "支部职务；每个支部一名书记")
    status: MemberStatus | None = col("党员类别", "正式党员或预备党员")
    leading_cadre: Bool | None = col("领导干部", "是否党员领导干部：是/否")
    leadership_member: Bool | None = col("班子成员", "是否领导班子成员（参加民主生活会）：是/否")
    situation: Situation | None = col("特殊情况", "流动、年老体弱、困难等")
    # membership in time (rules.md rev 3): a member is expected at a meeting held on or after 转入日期 and before
    # 转出日期; blank: always / still a member
    joined_on: Date | None = col("转入日期", "转入本支部（或在本支部入党）的日期；空白表示早于所有已登记的会议")
    left_on: Date | None = col("转出日期", "转出本支部（组织关系转出、去世、出党）的日期；空白表示仍是本支部党员。"
                                        "转出后的会议不再要求其参加，以前的记录保留")


class Meeting(Record):
    sheet = "会议"
    table = "meetings"
    label = "会议"
    key = ("meeting_id",)
    parent = None

    meeting_id: IdText = col("会议编号", "会议的唯一编号（文本）", required=True)
    branch_id: IdText = col("支部编号", "召开会议的支部编号", required=True, ref="branches")
    kind: MeetingKind | None = col("会议类型", "组织生活会、专题组织生活会或民主生活会")
    year: Year | None = col("年度", "会议所属年度，如 2026")
    half: Half | None = col("半年", "上半年或下半年")
    topic: Text | None = col("主题", "会议主题（议题）")
    date: Date = col("召开日期", "会议召开日期", required=True)
    start_time: Time | None = col("开始时间", "会议开始时间，HH:MM（如 09:00），写进会议通知")
    hours: Number | None = col("时长(小时)", "会议时长，单位小时")
    place: Text | None = col("地点", "会议地点")
    host_id: IdText | None = col("主持人", "主持人的党员编号", ref="members")
    plan_sent: Date | None = col("方案报送日期", "会议方案报上级的日期")
    plan_approved: Bool | None = col("方案审核通过", "上级是否审核通过方案：是/否")
    notice_date: Date | None = col("通知日期", "通知应到会人员的日期")
    superior_notice_date: Date | None = col("报告上级日期", "提前报告上级党组织的日期")
    public_notice_date: Date | None = col("会前公告日期", "民主生活会：会前向党内外群众公告的日期")
    opinions_compiled: Bool | None = col("意见汇总", "征求到的意见是否形成书面汇总：是/否")
    opinions_reported: Bool | None = col("通报征求意见", "会上是否通报会前征求到的党员群众意见：是/否")
    prior_rectification_reported: Bool | None = col("通报上次整改", "会上是否通报上次会议整改情况：是/否")
    superior_attendee: Text | None = col("上级参会人", "上级党组织与会指导同志姓名")
    superior_comment: Text | None = col("上级点评", "上级点评内容（保密）", confidential=True)
    summary: Text | None = col("会议小结", "书记的会议小结（保密）", confidential=True)
    minutes_kept: Bool | None = col("会议记录", "是否作了会议记录：是/否")
    merged: Bool | None = col("合并召开", "是否与其他会议合并召开：是/否（民主生活会须为否）")
    with_evaluation: Bool | None = col("结合民主评议", "是否结合民主评议党员：是/否")
    rating_scheme: RatingScheme | None = col("测评方案", "民主测评档次：四档（优秀/合格/基本合格/不合格）或三档（好/一般/差）")
    problem_list_published: Date | None = col("问题清单公示日期", "社区支部问题清单公示日期")
    rectification_published: Date | None = col("整改公示日期", "整改清单公示日期")
    report_sent: Date | None = col("情况报告报送日期", "会议情况报告报送上级的日期")
    public_report_date: Date | None = col("会后通报日期", "会后向干部群众通报会议情况和整改措施的日期")
    # rules.md rev 3 (PREP-GROUP-OPINIONS-REPORTED): opinions on the 支部班子 reach the committee before the meeting
    group_opinions_reported_on: Date | None = col("班子意见通报日期", "设支委会的支部：征求到的涉及支部班子的意见，以开会或"
                                                           "书面送达方式向支部委员通报的日期，应不晚于召开日期")


class Study(Record):
    sheet = "学习"
    table = "studies"
    label = "会前学习"

    meeting_id: IdText = col("会议编号", "所属会议编号", required=True, ref="meetings")
    date: Date = col("日期", "学习日期", required=True)
    form: StudyForm = col("形式", "集中或自学", required=True)
    hours: Number | None = col("时长(小时)", "学习时长，单位小时")
    content: Text | None = col("内容", "学习内容")


class Opinion(Record):
    sheet = "征求意见"
    table = "opinions"
    label = "征求意见"

    meeting_id: IdText = col("会议编号", "所属会议编号", required=True, ref="meetings")
    date: Date | None = col("日期", "征求意见日期")
    method: OpinionMethod | None = col("方式", "征求意见的方式")
    source: OpinionSource | None = col("来源", "意见来自党员还是群众")
    target: IdText | None = col("对象", "意见针对“支部班子”或某党员编号", ref="members",
                                ref_or=BRANCH_LEADERSHIP)
    content: Text | None = col("内容", "意见内容")
    feedback_date: Date | None = col("反馈日期", "向本人反馈的日期")


class Talk(Record):
    sheet = "谈心谈话"
    table = "talks"
    label = "谈心谈话"

    meeting_id: IdText = col("会议编号", "所属会议编号", required=True, ref="meetings")
    date: Date | None = col("日期", "谈话日期")
    talker: IdText = col("谈话人", "党员编号，或“上级”", required=True, ref="members", ref_or=SUPERIOR)
    talkee: IdText = col("谈话对象", "党员编号，或“上级”", required=True, ref="members", ref_or=SUPERIOR)
    summary: Text | None = col("内容摘要", "谈话内容摘要")


class Material(Record):
    sheet = "对照检查"
    table = "materials"
    label = "对照检查材料"

    meeting_id: IdText = col("会议编号", "所属会议编号", required=True, ref="meetings")
    member_id: IdText = col("党员编号", "提交材料的党员编号", required=True, ref="members")
    material_type: MaterialType | None = col("材料类型", "对照检查材料或发言提纲")
    submitted: Date | None = col("提交日期", "提交日期")
    reviewer: Text | None = col("审核人", "审核把关的上级负责同志")
    reviewed: Date | None = col("审核日期", "审核日期")


class Attendance(Record):
    sheet = "出席"
    table = "attendance"
    label = "出席"

    meeting_id: IdText = col("会议编号", "所属会议编号", required=True, ref="meetings")
    member_id: IdText = col("党员编号", "党员编号", required=True, ref="members")
    presence: Presence = col("出席情况", "出席、灵活参加（以其他形式或在流入地/流出地参加）、请假或缺席",
                             required=True)
    reason: Text | None = col("原因", "请假原因")
    written_statement: Bool | None = col("书面发言", "缺席者是否提交书面发言：是/否")
    read_out: Bool | None = col("会上宣读", "书面发言是否在会上宣读：是/否")
    informed_date: Date | None = col("会后告知日期", "会后向缺席者转告会议情况和批评意见的日期")


class Criticism(Record):
    sheet = "批评"
    table = "criticisms"
    label = "批评与自我批评"
    confidential = True

    meeting_id: IdText = col("会议编号", "所属会议编号", required=True, ref="meetings")
    seq: Int = col("序号", "会上发言顺序", required=True)
    stage: CriticismStage = col("阶段", "支委会、党员大会或民主生活会", required=True)
    target: IdText = col("对象", "被批评（对照检查）的党员编号，或“班子”", required=True, ref="members",
                         ref_or=GROUP)
    speaker: IdText = col("发言人", "发言的党员编号", required=True, ref="members")
    act: CriticismAct = col("类型", "自我批评、批评、表态或通报（书记通报班子对照检查，对象为“班子”）", required=True)
    content: Text | None = col("内容", "发言内容（保密）", confidential=True)


class Response(Record):
    sheet = "回应"
    table = "responses"
    label = "回应问题"
    confidential = True

    meeting_id: IdText = col("会议编号", "所属会议编号", required=True, ref="meetings")
    source: QuestionSource = col("来源", "规定问题、上级点明或群众反映", required=True)
    question: Text = col("问题", "规定问题填代码（机关：堡垒先锋/围绕中心/工作标杆/担当意识/公车私用；执法监管、窗口服务："
                                 "门难进/吃拿卡要/小金库），其他来源填问题原文", required=True)
    responder: IdText | None = col("回应人", "作出回应的党员编号", ref="members")
    summary: Text | None = col("回应摘要", "回应内容摘要（保密）", confidential=True)


class Ballot(Record):
    sheet = "测评"
    table = "ballots"
    label = "民主测评票"
    confidential = True

    meeting_id: IdText = col("会议编号", "所属会议编号", required=True, ref="meetings")
    ballot_no: IdText = col("票号", "测评票编号（不记投票人）", required=True)
    # a line rating the 班子 as a whole (rules.md rev 3, EVAL-GROUP-BALLOT) is no member's ballot line
    rated_id: IdText = col("被测评人", "被测评党员编号，或“班子”（对支部班子整体的测评）", required=True, ref="members",
                           ref_or=GROUP)
    level: Level = col("等次", "测评等次，须属于会议的测评方案", required=True)
    voter_type: VoterType | None = col("投票人类别", "党员或群众代表")


class Rating(Record):
    sheet = "评定"
    table = "ratings"
    label = "评定等次"
    confidential = True

    meeting_id: IdText = col("会议编号", "所属会议编号", required=True, ref="meetings")
    member_id: IdText = col("党员编号", "党员编号", required=True, ref="members")
    self_summary: Bool | None = col("个人小结", "是否提交个人小结（自评）：是/否")
    level: FinalLevel | None = col("评定等次", "支部评定的等次：优秀、合格、基本合格或不合格（与测评方案无关）")
    vote_passed: Bool | None = col("表决通过", "评为优秀是否经大会表决通过：是/否")
    handling: Text | None = col("处理意见", "评为不合格的处理意见")
    feedback_date: Date | None = col("反馈日期", "向本人反馈评定意见的日期")
    helper: IdText | None = col("帮促人", "评为基本合格、不合格或测评较差的党员：指定帮促的党员编号", ref="members")


class Rectification(Record):
    sheet = "整改"
    table = "rectifications"
    label = "整改事项"
    key = ("item_id",)

    item_id: IdText = col("整改编号", "整改事项的唯一编号（文本）", required=True)
    meeting_id: IdText = col("会议编号", "查摆出该问题的会议编号", required=True, ref="meetings")
    problem: Text = col("问题", "查摆出的问题", required=True)
    category: Responsibility | None = col("责任类别", "单位、党组织或个人")
    owner: IdText | None = col("责任人", "责任人的党员编号", ref="members")
    goal: Text | None = col("目标", "整改目标")
    measures: Text | None = col("措施", "整改措施")
    deadline: Date | None = col("时限", "整改时限")
    status: RectStatus | None = col("状态", "未完成、已完成或已销号")
    done_date: Date | None = col("完成日期", "完成（销号）日期")
    commitment: Bool | None = col("承诺", "个人整改事项是否公开承诺：是/否")


class Tenure(Record):
    """A member's role over a period (roles in time, rules.md rev 3): a 换届 mid-year changes who is the 书记 of
    later meetings only. A member's rows are replaced together on import."""

    sheet = "任职"
    table = "tenures"
    label = "任职"
    parent = "member_id"

    member_id: IdText = col("党员编号", "任职党员的编号，须在“党员”表中", required=True, ref="members")
    role: Role = col("职务", "这一期间的支部职务：书记、副书记、委员或党员", required=True)
    start_date: Date = col("起始日期", "任职起始日期（含当天）", required=True)
    end_date: Date | None = col("终止日期", "任职终止日期（含当天）；空白表示现任。交接时前任写 09-30、后任写 10-01 这样前后相接；"
                                       "同一党员的各期间不能重叠，同一支部同一天只能有一名书记")


# Workbook order; also the order in which a store is written (parents before children). 任职 comes last: it
# needs only the members, and the rest of the code counts on branches, members, meetings coming first.
RECORDS: tuple[type[Record], ...] = (
    Branch, Member, Meeting, Study, Opinion, Talk, Material, Attendance, Criticism, Response, Ballot, Rating,
    Rectification, Tenure,
)
BY_SHEET: dict[str, type[Record]] = {r.sheet: r for r in RECORDS}
BY_TABLE: dict[str, type[Record]] = {r.table: r for r in RECORDS}


# --------------------------------------------------------------------------------------------------------------
# Field introspection: the single description every consumer (workbook, store, frames, forms) reads


class FieldSpec:
    """What a consumer needs to know about one field, read off the pydantic model."""

    __slots__ = ("name", "header", "note", "kind", "enum", "required", "ref", "ref_or", "confidential", "parse")

    def __init__(self, name: str, info) -> None:
        self.name = name
        self.header: str = info.title
        self.note: str = info.description or ""
        extra = info.json_schema_extra or {}
        self.ref: str | None = extra.get("ref")
        self.ref_or: str | None = extra.get("ref_or")
        self.confidential: bool = bool(extra.get("confidential"))
        self.required: bool = info.is_required()
        annotation = info.annotation
        if get_origin(annotation) is not None and type(None) in get_args(annotation):  # Optional[X]
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        self.enum: type[LabeledEnum] | None = None
        if isinstance(annotation, type) and issubclass(annotation, LabeledEnum):
            self.enum = annotation
            self.kind = "enum"
            self.parse = enum_parser(annotation)
        else:
            metadata = list(info.metadata)
            if get_origin(annotation) is Annotated:  # Optional[Annotated[...]] keeps its metadata inside
                metadata += list(annotation.__metadata__)
            parser = next(m.func for m in metadata if isinstance(m, BeforeValidator))
            self.kind = {parse_id: "id", parse_text: "text", parse_date: "date", parse_bool: "bool",
                         parse_int: "int", parse_year: "int", parse_number: "number", parse_time: "text"}[parser]
            self.parse = parser

    def __repr__(self) -> str:
        return f"FieldSpec({self.name!r}, {self.header!r}, {self.kind})"


_SPECS: dict[type[Record], tuple[FieldSpec, ...]] = {}


def fields_of(record: type[Record]) -> tuple[FieldSpec, ...]:
    if record not in _SPECS:
        _SPECS[record] = tuple(FieldSpec(name, info) for name, info in record.model_fields.items())
    return _SPECS[record]


def field_of(record: type[Record], name: str) -> FieldSpec:
    return next(f for f in fields_of(record) if f.name == name)
