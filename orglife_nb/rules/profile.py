"""Rule profiles: the numbers every rule and the deadline timeline read (spec/rules.md, "Profiles and parameters").

A profile is a YAML mapping ``parameter: value``. Missing parameters take the default profile's value, so a user
file only lists what differs from the default ("结合实际"). Bundled profiles live in ``orglife_nb/profiles/``.

    >>> profile = load_profile(None)            # the default profile
    >>> profile = load_profile("lenient")       # a bundled profile by name
    >>> profile = load_profile("my.yaml")       # a user file
    >>> profile.notice_days, profile.report_days_for("leadership")
    (10, 15)
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Literal, Annotated, Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import OrglifeError
from ..models import SCHEME_LEVELS, Level, MeetingKind, RatingScheme

PROFILE_DIR = Path(__file__).resolve().parent.parent / "profiles"
DEFAULT_PROFILE = "default"

# strict: YAML `true` or "10" must not pass silently as a number of days
Days = Annotated[int, Field(ge=0, strict=True)]
Amount = Annotated[float, Field(ge=0, strict=True)]


class Profile(BaseModel):
    """Every number a rule or the timeline needs; defaults are the default profile (spec/rules.md table).

    Fields marked *recommended* have no number in the seeds; they only place advisory dates on the timeline
    and no rule reports an error from them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    name: str = DEFAULT_PROFILE
    description: str = ""

    # -- preparation (会前准备) --------------------------------------------------------------------------------
    notice_days: Days = 10                       # PREP-NOTICE, 000 第一篇 1.2
    superior_notice_days: Days = 7               # PREP-SUPERIOR-NOTICE, 000 第一篇 1.3 (regular/special)
    leadership_plan_days: Days = 15              # PREP-PLAN-DEADLINE, 003 民主 二.2
    leadership_public_notice_days: Days = 15     # PREP-PUBLIC-NOTICE, 003 民主 二.3
    hours_per_day: Annotated[float, Field(gt=0, strict=True)] = 8.0  # convention: half a day = 4 h
    study_total_days: Amount = 1.0               # PREP-STUDY, 003 二.2
    study_concentrated_days: Amount = 0.5        # PREP-STUDY, 003 二.2
    leadership_study_total_days: Amount = 3.0    # PREP-STUDY, 003 民主 二.4 ("3天左右": a warning)
    leadership_study_concentrated_days: Amount = 1.0  # PREP-STUDY, 003 民主 二.4
    # rules.md rev 3: "一般安排3天左右" — a warning only below this; the total above stays what messages advise
    leadership_study_min_days: Amount = 2.5      # PREP-STUDY, 003 民主 二.4

    # -- the meeting (召开会议) --------------------------------------------------------------------------------
    organ_special_min_hours: Amount = 4.0        # MEET-DURATION, 000 第三篇
    rating_scheme: RatingScheme = RatingScheme.four  # scheme assumed when a meeting names none
    rating_levels: dict[RatingScheme, tuple[Level, ...]] = Field(
        default_factory=lambda: dict(SCHEME_LEVELS))  # 000 第二篇 二.4 (four); 第三篇 第三步 4 (three)
    # MEET-PEER-REVIEW's severity, or off: 000 第三篇 第三步 3 leaves 党员互评 to the host ("主持人自行把握")
    peer_review: Literal["warning", "info", "off"] = "warning"
    # MEET-UNIT-RESPONSES: kinds whose unit-type questions must be answered (000 第三篇 第二步: the special meeting)
    unit_response_kinds: tuple[MeetingKind, ...] = (MeetingKind.special,)

    # -- after the meeting (会后整改) --------------------------------------------------------------------------
    report_days: Days = 10                       # POST-REPORT regular/special, 000 第一篇 3.1
    leadership_report_days: Days = 15            # POST-REPORT leadership, 003 民主 四.2
    # "一个月内" in calendar months (民法典 第二百零二条): same day of the next month, else its last day
    public_report_months: Annotated[int, Field(ge=1, strict=True)] = 1  # POST-PUBLIC-REPORT, 003 民主 四.3

    # -- cadence (频次) ----------------------------------------------------------------------------------------
    regular_period_months: Annotated[int, Field(gt=0, le=12, strict=True)] = 6  # FREQ-HALF-YEAR, 003 一.2
    # a meeting recorded for a period counts for it when held at most this many days after the period's end
    period_grace_days: Days = 31                 # FREQ-HALF-YEAR, 003 一.2 "年中、年底" (a 07-02 年中 meeting)
    leadership_grace_days: Days = 90             # FREQ-LEADERSHIP-YEAR, 003 民主 一.2 "时间根据上级…安排"

    # -- recommended timeline offsets (days before/after the meeting; seeds give no number) --------------------
    plan_days: Days = 15                 # regular/special plan to the superior, ahead of the notice
    study_days: Days = 7                 # study finished this many days before
    opinions_days: Days = 7              # opinions solicited and compiled
    talks_days: Days = 5                 # 谈心谈话 finished
    opinion_feedback_days: Days = 3      # opinions fed back to committee members
    materials_days: Days = 5             # 对照检查材料 submitted
    materials_review_days: Days = 2      # reviewed by the superior
    # after the meeting, telling absentees and publicising the list are due with the report (report_days_for)

    @field_validator("rating_levels")
    @classmethod
    def _levels_not_empty(cls, value: dict[RatingScheme, tuple[Level, ...]]):
        for scheme, levels in value.items():
            if not levels:
                raise ValueError(f"{scheme.value} 的等次不能为空")
        return value

    @field_validator("regular_period_months")
    @classmethod
    def _divides_year(cls, value: int) -> int:
        if 12 % value:
            raise ValueError(f"应能整除 12（1、2、3、4、6 或 12），而不是 {value}")
        return value

    # -- helpers the rules and the timeline share --------------------------------------------------------------

    def study_requirement(self, kind: MeetingKind | str) -> tuple[float, float]:
        """(total days, concentrated days) of pre-meeting study for a meeting kind."""
        if MeetingKind(kind) is MeetingKind.leadership:
            return self.leadership_study_total_days, self.leadership_study_concentrated_days
        return self.study_total_days, self.study_concentrated_days

    def report_days_for(self, kind: MeetingKind | str) -> int:
        """Days after the meeting within which the report reaches the superior (POST-REPORT)."""
        if MeetingKind(kind) is MeetingKind.leadership:
            return self.leadership_report_days
        return self.report_days

    def plan_days_for(self, kind: MeetingKind | str) -> int:
        """Days before the meeting by which the plan goes to the superior (leadership: a rule; else advisory)."""
        if MeetingKind(kind) is MeetingKind.leadership:
            return self.leadership_plan_days
        return self.plan_days

    def levels(self, scheme: RatingScheme | str | None = None) -> tuple[Level, ...]:
        """Allowed rating levels of a scheme (the profile's scheme when None)."""
        return self.rating_levels[RatingScheme(scheme) if scheme else self.rating_scheme]

    def hours(self, days: float) -> float:
        """Days of study or meeting time expressed in hours."""
        return days * self.hours_per_day


def months_after(dates, months: int):
    """``dates`` (a Series of datetimes, or one date) plus whole calendar months: the same day of that month, else
    its last day (民法典 第二百零二条: 01-31 + 1 month = the last day of February). No weekend or holiday extension
    (rules.md rev 3, precisely 4)."""
    if isinstance(dates, pd.Series):
        return dates + pd.DateOffset(months=months)
    return (pd.Timestamp(dates) + pd.DateOffset(months=months)).date()


# --------------------------------------------------------------------------------------------------------------
# Loading


PROFILE_LABELS = {"default": "默认配置", "lenient": "宽松配置"}


def profile_label(name: str) -> str:
    """A profile as readers see it named: the bundled ones in words, a user's file by its name."""
    return PROFILE_LABELS.get(name) or f"规则配置 {name}"


def bundled_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def load_profile(path_or_name: "str | Path | Profile | None" = None, notices: list[str] | None = None) -> Profile:
    """None → default; a bundled name ('default', 'lenient') → that profile; a Profile → itself; anything else →
    a YAML file.

    Raises OrglifeError with one Chinese line naming the file, the parameter and why. A parameter an older
    profile may still name and that is read another way now (``REPLACED``) is dropped with a one-line notice
    appended to ``notices`` (the CLI prints them), never refused.
    """
    if isinstance(path_or_name, Profile):
        return path_or_name
    if path_or_name is None:
        path_or_name = DEFAULT_PROFILE
    label = str(path_or_name)
    if isinstance(path_or_name, str) and path_or_name in bundled_profiles():
        path = PROFILE_DIR / f"{path_or_name}.yaml"
    else:
        path = Path(path_or_name)
    data = _read_yaml(path, label)
    for key, why in REPLACED.items():
        if key in data:
            data.pop(key)
            if notices is not None:
                notices.append(f"提示：规则配置 {label} 中的参数 {key} 已停用，{why}")
    try:
        return Profile.model_validate(data)
    except ValidationError as error:
        raise OrglifeError(f"规则配置 {label}：{_describe(error)}") from None


def _read_yaml(path: Path, label: str) -> dict[str, Any]:
    hint = "（内置配置有：" + "、".join(bundled_profiles()) + "）"
    text = read_user_text(path, f"规则配置 {label}", missing_hint=hint)
    return yaml_mapping(text, f"规则配置 {label}", "“参数: 值”的映射")


def read_user_text(path: Path, label: str, missing_hint: str = "") -> str:
    """A user's UTF-8 text file (a BOM is dropped); OrglifeError ``label：why`` when it cannot be read."""
    if not path.exists():
        raise OrglifeError(f"{label}：文件不存在{missing_hint}")
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = "不是 UTF-8 文本" if isinstance(error, UnicodeDecodeError) else (error.strerror or str(error))
        raise OrglifeError(f"{label}：无法读取（{reason}）") from None


class _TextDates(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: PyYAML raises a bare ValueError on 2027-02-30."""


_TextDates.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def yaml_mapping(text: str, label: str, expected: str) -> dict[Any, Any]:
    """A YAML document that must be a mapping (empty → {}); OrglifeError ``label：why`` otherwise."""
    try:
        data = yaml.load(text, Loader=_TextDates)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else "无法解析"
        raise OrglifeError(f"{label}：YAML 格式错误（{where}）") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        found = {list: "列表", str: "文本", int: "数字", float: "数字", bool: "是/否"}.get(type(data), "其他内容")
        raise OrglifeError(f"{label}：内容应为{expected}，而不是{found}")
    return data


# parameters older profiles may still list: why they went and what governs now
_WITH_REPORT = "{}与情况报告同时限，检查和时间表都按 report_days（民主生活会 leadership_report_days）"
RETIRED = {"absentee_inform_days": _WITH_REPORT.format("会后转告缺席人"),
           "rectification_public_days": _WITH_REPORT.format("整改清单公示")}

# parameters older profiles may still name, read another way now (rules.md rev 3): dropped with a notice
REPLACED = {"leadership_public_report_days": "会后通报按日历月计算：public_report_months（默认 1 个月）"}

_TYPE_WORDS = {"int": "应为整数", "float": "应为数字", "string": "应为文本", "dict": "应为映射", "tuple": "应为列表",
               "enum": "不是允许的值"}


def _describe(error: ValidationError) -> str:
    """The first problem of a validation error, in Chinese; the count of further problems."""
    problems = error.errors()
    first = problems[0]
    key = ".".join(str(part) for part in first["loc"])
    kind = first["type"]
    value = first.get("input")
    if kind == "extra_forbidden" and key in RETIRED:
        text = f"参数 {key} 已取消：{RETIRED[key]}"
    elif kind == "extra_forbidden":
        close = difflib.get_close_matches(key, Profile.model_fields, n=1)
        text = f"未知参数 {key}" + (f"（是否为 {close[0]}？）" if close else "")
    elif kind == "greater_than_equal":
        text = f"{key} 不能为负数（{value}）"
    elif kind == "greater_than":
        text = f"{key} 必须大于 {first['ctx']['gt']:g}（{value}）"
    elif kind == "less_than_equal":
        text = f"{key} 不能大于 {first['ctx']['le']:g}（{value}）"
    elif kind == "value_error":
        text = f"{key} {first['ctx']['error']}"
    elif kind == "enum":
        # a scheme is asked for at rating_scheme and at the keys of rating_levels; levels elsewhere
        enum = RatingScheme if first["loc"][0] == "rating_scheme" or first["loc"][-1] == "[key]" else Level
        allowed = "/".join(f"{m.value}（{m.label}）" for m in enum)
        text = f"{key.removesuffix('.[key]')} 不是允许的值（{value}），应为：{allowed}"
    else:
        word = next((w for prefix, w in _TYPE_WORDS.items() if kind.startswith(prefix)), "的值无效")
        text = f"{key} {word}（{value!r}）" if isinstance(value, str) else f"{key} {word}（{value}）"
    if len(problems) > 1:
        text += f"；另有 {len(problems) - 1} 处问题"
    return text
