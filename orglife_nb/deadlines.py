"""The timeline of every deadline for one meeting, working-day checks against Chinese holidays, and .ics export.

One pure function serves the CLI, the forms and the training notebook::

    frame = timeline("leadership", date(2026, 10, 9))          # default profile, official holidays
    text = format_table(frame)                                  # terminal table (CJK aligned)
    data = to_ics(frame, date(2026, 10, 9), "leadership")        # calendar reminders

Holidays: ``chinese_calendar`` knows official holidays and 调休 working days for the years it ships (2004–2026 in
1.11); for any other year the calendar falls back to ``holidays.China`` (statutory holidays only, no 调休) and says
so in the ``note`` column and ``frame.attrs["holiday_note"]``. A user list (YAML/CSV) overrides both.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chinese_calendar
import holidays as holidays_lib
import pandas as pd

from .errors import OrglifeError
from .models import CellError, MeetingKind, parse_date
from .rules.profile import Profile, load_profile, months_after, profile_label, read_user_text, yaml_mapping
from .rules.registry import get_rule
from .sources import cite
from .textable import render

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
STAGES = ("会前准备", "召开会议", "会后整改")
LATEST, ON = "不晚于", "当天"  # "≥ N days before" and "≤ N days after" both give a latest date
RULED, ADVISED = "规定", "建议"
COLUMNS = ("key", "step", "stage", "relation", "offset", "due", "weekday", "workday", "holiday", "suggested",
           "day_off", "basis", "rule", "source", "calendar", "note")
CC_SOURCE, FALLBACK_SOURCE, USER_SOURCE = "chinese-calendar", "holidays.China", "用户清单"
FALLBACK_NOTE = "{year}年节假日按 holidays.China 推算（无调休数据）"
PRODID = "-//orglife-nb//deadlines//ZH"
_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "orglife-nb")
# the years chinese_calendar ships data for, read from its tables rather than hard-coded
_CC_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


def weekday(day: dt.date) -> str:
    return WEEKDAYS[day.weekday()]


# --------------------------------------------------------------------------------------------------------------
# Holidays


class HolidayCalendar:
    """Working days in mainland China: chinese_calendar where it has data, holidays.China elsewhere.

    ``holidays`` / ``workdays`` are the user's own list (dates the libraries do not know yet, or local
    arrangements); they win over both libraries. ``source`` names that list in notes.
    """

    def __init__(self, holidays: Mapping[dt.date, str] | None = None, workdays: Iterable[dt.date] = (),
                 source: str | None = None) -> None:
        self.user_holidays = dict(holidays or {})
        self.user_workdays = frozenset(workdays)
        self.user_source = source
        self._fallback: dict[int, Mapping[dt.date, str]] = {}

    # -- construction from a user file ----------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path) -> HolidayCalendar:
        """A YAML (``holidays:`` date → name or list; ``workdays:`` list) or CSV (日期,名称,类型) holiday list."""
        path = Path(path)
        label = f"节假日清单 {path}"
        text = read_user_text(path, label)
        reader = _read_holiday_csv if path.suffix.lower() == ".csv" else _read_holiday_yaml
        holidays, workdays = reader(text, label)
        return cls(holidays, workdays, source=path.name)

    # -- queries ---------------------------------------------------------------------------------------------

    @staticmethod
    def covered(day: dt.date) -> bool:
        """chinese_calendar has official data (holidays and 调休) for this year."""
        return day.year in _CC_YEARS

    def _statutory(self, year: int) -> Mapping[dt.date, str]:
        if year not in self._fallback:
            self._fallback[year] = holidays_lib.China(years=year, language="zh_CN")
        return self._fallback[year]

    def is_workday(self, day: dt.date) -> bool:
        if day in self.user_workdays:
            return True
        if day in self.user_holidays:
            return False
        if self.covered(day):
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5 and day not in self._statutory(day.year)

    def holiday_name(self, day: dt.date) -> str:
        """The public holiday on this day off, or '' (also '' for weekends and working days)."""
        if day in self.user_holidays:
            return self.user_holidays[day]
        if self.is_workday(day):
            return ""
        if self.covered(day):
            return _chinese_holiday(chinese_calendar.get_holiday_detail(day)[1])
        return self._statutory(day.year).get(day, "")

    def day_note(self, day: dt.date) -> str:
        """Why a day is (not) a working day when that is not obvious: 调休, user list, fallback year."""
        if day in self.user_workdays or day in self.user_holidays:
            return f"按用户节假日清单 {self.user_source or ''}".rstrip()
        if self.covered(day):
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            if not on_holiday and name and day.weekday() >= 5:
                return f"调休上班日（{_chinese_holiday(name)}）"
            return ""
        return FALLBACK_NOTE.format(year=day.year)

    def source(self, day: dt.date) -> str:
        """Which list decided this day: the user's, chinese-calendar or the holidays.China fallback."""
        if day in self.user_workdays or day in self.user_holidays:
            return USER_SOURCE
        return CC_SOURCE if self.covered(day) else FALLBACK_SOURCE

    def source_note(self, days: Iterable[dt.date] = ()) -> str:
        """One Chinese line saying where the holidays for these days come from."""
        first, last = _CC_YEARS[0], _CC_YEARS[-1]
        outside = sorted({d.year for d in days if not self.covered(d)})
        note = f"节假日依据 chinese-calendar（{first}–{last} 年国务院安排，含调休上班日）"
        if outside:
            years = "、".join(str(y) for y in outside)
            note += f"；{years} 年超出其范围，改用 holidays.China（仅法定节假日，不含调休上班日，请以当年国务院通知为准）"
        if self.user_source:
            note += f"；另按用户节假日清单 {self.user_source}"
        return note

    def previous_workday(self, day: dt.date) -> dt.date:
        day -= dt.timedelta(days=1)
        while not self.is_workday(day):
            day -= dt.timedelta(days=1)
        return day


def _chinese_holiday(english: str | None) -> str:
    if not english:
        return ""
    try:
        name = chinese_calendar.Holiday(english).chinese
    except ValueError:
        return english
    return _FULL_NAMES.get(name, name)


# chinese_calendar says "中秋", holidays.China "中秋节": one spelling whichever library answered
_FULL_NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}


def _user_date(value: Any, label: str, where: str) -> dt.date:
    try:
        day = parse_date(value)
    except CellError as error:
        raise OrglifeError(f"{label}：{where}“{value}”{error}") from None
    if day is None:
        raise OrglifeError(f"{label}：{where}缺少日期")
    return day


def _read_holiday_yaml(text: str, label: str) -> tuple[dict[dt.date, str], list[dt.date]]:
    data = yaml_mapping(text, label, "包含 holidays、workdays 的映射")
    unknown = set(data) - {"holidays", "workdays"}
    if unknown:
        raise OrglifeError(f"{label}：未知项 {sorted(map(str, unknown))[0]}（只认 holidays、workdays）")
    raw, listed = data.get("holidays") or {}, data.get("workdays") or []
    if not isinstance(raw, (dict, list)) or not isinstance(listed, list):
        raise OrglifeError(f"{label}：holidays 应为“日期: 名称”映射或日期列表，workdays 应为日期列表")
    entries = raw.items() if isinstance(raw, dict) else (
        (item.get("date"), item.get("name")) if isinstance(item, dict) else (item, None) for item in raw)
    holidays = {_user_date(day, label, "holidays 中的日期"): str(name or "节假日") for day, name in entries}
    workdays = [_user_date(day, label, "workdays 中的日期") for day in listed]
    return holidays, workdays


_CSV_HEADERS = {"date": "date", "日期": "date", "name": "name", "名称": "name", "type": "type", "类型": "type"}
_WORKDAY_WORDS = {"workday", "work", "上班", "班", "调休上班", "工作日"}
_HOLIDAY_WORDS = {"holiday", "off", "休", "休息", "假日", "节假日", "放假", ""}


def _read_holiday_csv(text: str, label: str) -> tuple[dict[dt.date, str], list[dt.date]]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return {}, []
    columns = [_CSV_HEADERS.get(h.strip().lower()) for h in rows[0]]
    if "date" not in columns:
        raise OrglifeError(f"{label}：第 1 行应为表头，至少包含“日期”（或 date）列")
    holidays: dict[dt.date, str] = {}
    workdays: list[dt.date] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {col: cell.strip() for col, cell in zip(columns, row) if col}
        day = _user_date(cells.get("date"), label, f"第 {number} 行日期")
        kind = cells.get("type", "").lower()
        if kind in _WORKDAY_WORDS:
            workdays.append(day)
        elif kind in _HOLIDAY_WORDS:
            holidays[day] = cells.get("name") or "节假日"
        else:
            raise OrglifeError(f"{label}：第 {number} 行类型“{kind}”无法识别，应为 放假 或 上班")
    return holidays, workdays


# --------------------------------------------------------------------------------------------------------------
# The steps of a meeting

Kinded = Any  # a value, or a mapping MeetingKind → value with "*" as the default


def _for(value: Kinded, kind: MeetingKind) -> Any:
    if isinstance(value, dict):
        return value.get(kind, value.get("*"))
    return value


ALL = frozenset(MeetingKind)
BRANCH = frozenset({MeetingKind.regular, MeetingKind.special})
LEAD = frozenset({MeetingKind.leadership})
L = MeetingKind.leadership


@dataclass(frozen=True)
class Step:
    """One deadline. ``days`` is a profile field (or a function of profile and kind) giving |offset| in days."""

    key: str
    stage: str
    label: Kinded
    kinds: frozenset[MeetingKind]
    days: str | Callable[[Profile, MeetingKind], int]
    sign: int  # -1 before the meeting, +1 after, 0 the meeting itself
    basis: Kinded
    rule: Kinded
    source: Kinded

    months: bool = False  # ``days`` names calendar months ("一个月内", profile.months_after)

    def offset(self, profile: Profile, kind: MeetingKind, meeting_date: dt.date | None = None) -> int:
        """Calendar days from the meeting (a month step needs ``meeting_date``: months differ in length)."""
        days = self.days(profile, kind) if callable(self.days) else getattr(profile, self.days)
        if self.months:
            return (months_after(meeting_date, self.sign * days) - meeting_date).days
        return self.sign * days


def _study_label(profile: Profile, kind: MeetingKind) -> str:
    total, concentrated = profile.study_requirement(kind)
    # wording follows the seeds: 003 二.2 "原则上不少于1天"; 003 民主 二.4 "一般安排3天左右"
    amount = f"一般{_days_text(total)}左右" if kind is L else f"原则上不少于{_days_text(total)}"
    return f"完成会前学习（{amount}，其中集中学习不少于{_days_text(concentrated)}）"


def _days_text(days: float) -> str:
    return "半天" if days == 0.5 else f"{days:g}天"


STEPS: tuple[Step, ...] = (
    Step("plan", "会前准备", {L: "会议方案报上级纪委和组织部门", "*": "会议方案报上级党组织审核"}, ALL,
         lambda p, k: p.plan_days_for(k), -1, {L: RULED, "*": ADVISED},
         {L: "PREP-PLAN-DEADLINE", "*": "PREP-PLAN"}, {L: "003 民主 二.2", "*": "003 二.1；000 第五篇 (一)3"}),
    Step("public_notice", "会前准备", "会前公告（时间、主题、征求意见方式）", LEAD, "leadership_public_notice_days",
         -1, RULED, "PREP-PUBLIC-NOTICE", "003 民主 二.3"),
    Step("notice", "会前准备", "通知应到会人员（会议日期和议题）", ALL, "notice_days", -1, RULED, "PREP-NOTICE",
         "000 第一篇 1.2"),
    Step("superior_notice", "会前准备", "报告上级党组织（以便派人参加）", BRANCH, "superior_notice_days", -1, RULED,
         "PREP-SUPERIOR-NOTICE", "000 第一篇 1.3"),
    Step("study", "会前准备", _study_label, ALL, "study_days", -1, ADVISED, "PREP-STUDY",
         {L: "003 民主 二.4", "*": "003 二.2"}),
    Step("opinions", "会前准备", "征求党员群众意见并形成书面汇总", ALL, "opinions_days", -1, ADVISED,
         "PREP-OPINIONS", {L: "003 民主 二.5", "*": "003 二.3；000 第二篇 3"}),
    Step("talks", "会前准备", {L: "完成班子成员谈心谈话", "*": "完成谈心谈话（书记与每名党员、委员之间、上级与书记）"},
         ALL, "talks_days", -1, ADVISED, "PREP-TALKS", "003 二.4；000 第二篇 3"),
    Step("materials", "会前准备", "提交对照检查材料（或发言提纲）", ALL, "materials_days", -1, ADVISED,
         "PREP-MATERIALS", "000 第三篇 第一步 3；003 二.5"),
    Step("opinion_feedback", "会前准备", "涉及班子成员的意见反馈本人", ALL, "opinion_feedback_days", -1, ADVISED,
         "PREP-OPINIONS-FEEDBACK", "003 二.3"),
    Step("materials_review", "会前准备", "上级审核把关对照检查材料", ALL, "materials_review_days", -1, ADVISED,
         "PREP-MATERIALS", "003 二.5"),
    Step("meeting", "召开会议", lambda p, k: f"召开{k.label}", ALL, lambda p, k: 0, 0, RULED,
         {L: "MEET-SEPARATE", MeetingKind.special: "MEET-DURATION", "*": "MEET-ATTENDANCE"},
         {L: "003 民主 一.3", MeetingKind.special: "000 第三篇", "*": "003 一.3"}),
    # no number of their own in the seeds: due with the report, the deadline the rules check (rectification.py)
    Step("absentee_inform", "会后整改", "向缺席人员转告会议情况和批评意见", ALL, lambda p, k: p.report_days_for(k), 1,
         ADVISED, "POST-ABSENTEE-INFORMED", "000 第一篇 3.2；003 民主 三.3"),
    Step("report", "会后整改", {L: "会议情况报告等材料报上级纪委和组织部门",
                               "*": "会议情况报告和会议记录报上级党组织"},
         ALL, lambda p, k: p.report_days_for(k), 1, RULED, "POST-REPORT",
         {L: "003 民主 四.2", "*": "000 第一篇 3.1；003 四.2"}),
    Step("rectification_public", "会后整改", "整改清单公示（目标、措施、责任人、时限）", BRANCH,
         lambda p, k: p.report_days_for(k), 1, ADVISED, "RECT-PUBLIC", "003 四.1；000 第三篇 第五步"),
    # rules.md revision 2: every kind tells cadres and masses (a must for 民主生活会; 000 第五篇 (三)2 for the rest);
    # revision 3: "一个月内" in calendar months
    Step("public_report", "会后整改", "向干部群众通报会议情况和整改措施", ALL, "public_report_months", 1,
         RULED, "POST-PUBLIC-REPORT", {L: "003 民主 四.3", "*": "000 第五篇 (三)2"}, months=True),
)


def meeting_kind(kind: MeetingKind | str) -> MeetingKind:
    """A kind from its code or Chinese label; OrglifeError otherwise."""
    try:
        return MeetingKind(kind)
    except ValueError:
        allowed = "、".join(f"{m.value}（{m.label}）" for m in MeetingKind)
        raise OrglifeError(f"会议类型“{kind}”无效，应为：{allowed}") from None


def timeline(kind: MeetingKind | str, meeting_date: dt.date, profile: Profile | None = None,
             holidays: HolidayCalendar | None = None) -> pd.DataFrame:
    """Every deadline of a meeting on ``meeting_date``, in date order; one row per step (columns: COLUMNS).

    ``offset`` is calendar days relative to the meeting (negative = before); ``due`` is the latest date allowed
    (the meeting date for the meeting itself); ``suggested`` is the nearest earlier working day when ``due`` is
    a weekend or public holiday, else None; the meeting itself is never moved (its date is a fact, not a
    deadline). ``day_off`` is the mark of a due day off with what to do about it ('' on a working day): every
    output prints this one text. ``basis`` is 规定 (a number in the seeds) or 建议 (profile advice).
    ``frame.attrs`` holds kind, meeting_date, profile name and the holiday source note.
    """
    kind = meeting_kind(kind)
    profile = profile or load_profile(None)
    calendar = holidays or HolidayCalendar()
    rows = []
    for step in STEPS:
        if kind not in step.kinds:
            continue
        offset = step.offset(profile, kind, meeting_date)
        due = meeting_date + dt.timedelta(days=offset)
        label = _for(step.label, kind)
        rows.append(_row(step, kind, label(profile, kind) if callable(label) else label, offset, due,
                         meeting_date, calendar, profile))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    # stable sort: steps on the same day keep their procedural order
    frame = frame.sort_values("offset", kind="stable").reset_index(drop=True)
    frame.attrs.update(kind=kind.value, kind_label=kind.label, meeting_date=meeting_date, profile=profile.name,
                       holiday_note=calendar.source_note(frame["due"]))
    return frame


def _row(step: Step, kind: MeetingKind, label: str, offset: int, due: dt.date, meeting_date: dt.date,
         calendar: HolidayCalendar, profile: Profile) -> dict[str, Any]:
    workday = calendar.is_workday(due)
    holiday = calendar.holiday_name(due)
    suggested = None
    # the meeting date is a fact: only deadlines move, and an after-meeting one not to or before the meeting
    if not workday and step.sign != 0:
        earlier = calendar.previous_workday(due)
        if step.sign < 0 or earlier > meeting_date:
            suggested = earlier
    day_off = day_off_text(due, workday, holiday, suggested, step.sign)
    notes = [calendar.day_note(due), day_off]
    if step.key == "meeting" and kind is MeetingKind.special:
        notes.append(f"机关党组织原则上不少于半天（{profile.organ_special_min_hours:g} 小时）")
    return {
        "key": step.key, "step": label, "stage": step.stage, "relation": ON if step.sign == 0 else LATEST,
        "offset": offset, "due": due, "weekday": weekday(due), "workday": workday, "holiday": holiday,
        "suggested": suggested, "day_off": day_off, "basis": _for(step.basis, kind), "rule": _for(step.rule, kind),
        "source": _for(step.source, kind), "calendar": calendar.source(due), "note": "；".join(n for n in notes if n),
    }


def day_off_text(due: dt.date, workday: bool, holiday: str, suggested: dt.date | None, sign: int) -> str:
    """The mark of a due day that is not a working day and what to do about it; '' on a working day.

    ``sign``: -1 a step before the meeting, 0 the meeting itself, +1 a step after it.
    """
    if workday:
        return ""
    if sign == 0:
        return f"{holiday or weekday(due)}（休息日）召开"
    off = f"{holiday or weekday(due)}休息"
    if suggested is not None:
        return f"{off}，建议提前至 {suggested.isoformat()}（{weekday(suggested)}）"
    return f"{off}，请在会后尽早完成"


# --------------------------------------------------------------------------------------------------------------
# Presentation: terminal table and calendar


def due_text(due: dt.date, day_off: str = "") -> str:
    """A due date as the outputs print it: '2026-12-13 周日', with the timeline's ``day_off`` text when given."""
    return f"{due.isoformat()} {weekday(due)}" + (f"（{day_off}）" if day_off else "")


def offset_text(offset: int) -> str:
    if offset == 0:
        return "会议当天"
    return f"会前 {-offset} 天" if offset < 0 else f"会后 {offset} 天"


def format_table(frame: pd.DataFrame) -> str:
    """The timeline as an aligned Chinese terminal table, grouped by stage, with the holiday source."""
    attrs = frame.attrs
    meeting_date: dt.date = attrs["meeting_date"]
    title = (f"{attrs['kind_label']}时间表：会议日期 {meeting_date.isoformat()}（{weekday(meeting_date)}），"
             f"{profile_label(attrs['profile'])}")
    headers = ("日期", "相对会期", "事项", "要求", "依据", "提示")
    rows: list[tuple[str, ...]] = []
    for stage in STAGES:
        part = frame[frame["stage"] == stage]
        if part.empty:
            continue
        rows.append((f"【{stage}】",) + ("",) * (len(headers) - 1))
        rows += [(_date_cell(r), offset_text(r.offset), r.step, requirement(r.relation, r.basis), cite(r.source),
                  _table_note(r)) for r in part.itertuples()]
    footer = [("* " if (frame["calendar"] == FALLBACK_SOURCE).any() else "") + attrs["holiday_note"] + "。",
              "“不晚于”为最迟日期；“建议”日期：制度未规定具体天数，按规则配置给出，仅供参考。"]
    return "\n".join([title, "", render(headers, rows, nowrap=(0, 1)), "", *footer])  # dates whole


def _date_cell(row: Any) -> str:
    mark = "*" if row.calendar == FALLBACK_SOURCE else ""  # the footer explains the fallback once
    return due_text(row.due) + mark


def _table_note(row: Any) -> str:
    fallback = FALLBACK_NOTE.format(year=row.due.year)
    return "；".join(part for part in row.note.split("；") if part != fallback)


def requirement(relation: str, basis: str) -> str:
    return relation if basis == RULED else f"{ADVISED}{relation}"


def event_uid(kind: MeetingKind | str, meeting_date: dt.date, key: str) -> str:
    """Deterministic UID: re-importing the same meeting's calendar updates events instead of duplicating them."""
    name = f"{meeting_kind(kind).value}/{meeting_date.isoformat()}/{key}"
    return f"{uuid.uuid5(_UID_NAMESPACE, name)}@orglife-nb"


def to_ics(frame: pd.DataFrame, meeting_date: dt.date, kind: MeetingKind | str,
           stamp: dt.datetime | None = None) -> bytes:
    """One all-day VEVENT per row, on the suggested working day when the due date is a day off.

    Each event has a reminder at 09:00 the day before (all-day events start at 00:00). ``stamp`` fixes DTSTAMP
    for reproducible output; it defaults to now (UTC).
    """
    from icalendar import Alarm, Calendar, Event

    kind = meeting_kind(kind)
    stamp = stamp or dt.datetime.now(dt.timezone.utc)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{kind.label} {meeting_date.isoformat()} 时间表")
    if frame.attrs.get("holiday_note"):
        calendar.add("x-wr-caldesc", frame.attrs["holiday_note"])
    for row in frame.itertuples():
        day = row.suggested or row.due
        summary = f"【{kind.label}】{row.step}"
        lines = [f"{requirement(row.relation, row.basis)} {row.due.isoformat()}"
                 f"（{row.weekday}，{offset_text(row.offset)}）",
                 f"规则：{get_rule(row.rule).title}", f"依据：{cite(row.source)}"]
        if row.note:
            lines.append(f"提示：{row.note}")
        event = Event()
        event.add("uid", event_uid(kind, meeting_date, row.key))
        event.add("dtstamp", stamp)
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("summary", summary)
        event.add("description", "\n".join(lines))
        event.add("categories", [row.stage])
        event.add("transp", "TRANSPARENT")  # a reminder, not a busy block
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", dt.timedelta(hours=-15))
        event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()


def default_ics_name(kind: MeetingKind | str, meeting_date: dt.date) -> Path:
    return Path(f"deadlines-{meeting_kind(kind).value}-{meeting_date.isoformat()}.ics")


def write_ics(frame: pd.DataFrame, meeting_date: dt.date, kind: MeetingKind | str,
              out: str | Path | None = None) -> Path:
    """Write the calendar to ``out`` (default deadlines-<kind>-<date>.ics); OrglifeError if it cannot."""
    from .outputs import write_bytes

    return write_bytes(Path(out) if out else default_ics_name(kind, meeting_date), to_ics(frame, meeting_date, kind))
