"""HTML for the training notebook (pure functions of frames, testable without a kernel). User text is escaped."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from ..deadlines import STAGES, due_text, offset_text, requirement, weekday
from ..models import MeetingKind
from ..rules.profile import profile_label
from ..present.html import Html, esc, section, table
from .practice import PracticeCase, Result
from .procedures import EVIDENCE, PROCEDURES, YEAR_STAGE, as_profile, procedure, procedure_table, seed_legend

# Voila and JupyterLab do not load the report stylesheet: the widgets carry this small one (scoped).
CSS = """<style>
.orglife-training table { border-collapse: collapse; margin: .4em 0 1em; font-size: .92rem; }
.orglife-training th, .orglife-training td { border: 1px solid #d0d7de; padding: .2em .5em; text-align: left;
  vertical-align: top; }
.orglife-training th { background: #f6f8fa; white-space: nowrap; }
.orglife-training .nowrap { white-space: nowrap; }
.orglife-training .late { background: #fde8e7; color: #b42318; }
.orglife-training .ok { color: #1a7f37; font-weight: 600; }
.orglife-training .miss { border-left: 4px solid #b42318; padding: .2em .6em; margin: .5em 0; }
.orglife-training .false-alarm { border-left: 4px solid #bf8700; padding: .2em .6em; margin: .5em 0; }
.orglife-training .score { font-size: 1.3em; font-weight: 700; }
.orglife-training .muted { color: #59636e; }
</style>"""


def scoped(markup: str) -> str:
    return f'{CSS}<div class="orglife-training">{markup}</div>'


# ---- walkthrough ---------------------------------------------------------------------------------------------

WALK_COLUMNS = {"when": "时限（相对会期）", "item": "事项", "requirement": "要求", "rule_text": "规则",
                "severity": "违反时", "source": "出处"}


def _rule_text(frame: pd.DataFrame) -> pd.Series:
    return (frame.rule + " " + frame.title).str.strip()


def walkthrough_html(key: str, profile=None) -> Html:
    """One procedure stage by stage: what to do, by when, the rule that checks it and its source (seed, section)."""
    chosen = procedure(key)
    frame = procedure_table(key, profile)
    frame = frame.assign(rule_text=_rule_text(frame))
    parts = [f'<p class="muted">出处格式为“材料编号 章节”：{esc(seed_legend())}。</p>']
    for stage in (*STAGES, YEAR_STAGE):
        part = frame[frame.stage.eq(stage)]
        if part.empty:
            if stage != YEAR_STAGE:
                parts.append(f"<h3>{esc(stage)}</h3><p>同年底组织生活会（见“组织生活会”）。</p>")
            continue
        dated = int(part.requirement.isin(["不晚于", "当天"]).sum())
        lead = f"共 {len(part)} 项" + (f"，其中 {dated} 项有制度规定的日期" if dated else "")
        shown = part[list(WALK_COLUMNS)].rename(columns=WALK_COLUMNS).reset_index(drop=True)
        parts.append(f"<h3>{esc(stage)}</h3><p class=\"muted\">{esc(lead)}</p>"
                     + table(shown, classes=_nowrap(shown, ("时限（相对会期）", "要求", "违反时"))))
    return section(chosen.label, f"{chosen.intro}（{chosen.source}）", *parts)


def walkthrough_all(profile=None) -> dict[str, Html]:
    return {p.label: walkthrough_html(p.key, profile) for p in PROCEDURES}


# ---- deadline calculator ---------------------------------------------------------------------------------------

def timeline_html(frame: pd.DataFrame) -> Html:
    """``deadlines.timeline`` as a table: days off marked, with the nearest earlier working day to aim for."""
    attrs = frame.attrs
    meeting_date: dt.date = attrs["meeting_date"]
    shown = pd.DataFrame({
        "日期": [due_text(d) for d in frame.due],
        "相对会期": frame.offset.map(offset_text),
        "阶段": frame.stage,
        "事项": frame.step,
        "要求": [requirement(r, b) for r, b in zip(frame.relation, frame.basis)],
        "规则": frame.rule,
        "出处": frame.source,
        "提示": frame.note,  # carries the timeline's day_off text, as the terminal table and the .ics do
    })
    off = ~frame.workday.astype(bool)
    classes = _nowrap(shown, ("日期", "相对会期", "阶段", "要求", "规则"))
    for column in ("日期", "提示"):
        classes.loc[off, column] += " late"
    title = (f"{attrs['kind_label']}时间表：会议日期 {meeting_date.isoformat()}（{weekday(meeting_date)}），"
             f"{profile_label(attrs['profile'])}")
    footer = f"{attrs['holiday_note']}。“不晚于”为最迟日期；“建议”日期：制度未规定具体天数，按规则配置给出，仅供参考。"
    return Html(f"<h3>{esc(title)}</h3>{table(shown, classes=classes)}<p class=\"muted\">{esc(footer)}</p>")


def _nowrap(shown: pd.DataFrame, columns) -> pd.DataFrame:
    """Cell classes keeping short columns (dates, offsets, rule ids) on one line."""
    classes = pd.DataFrame("", index=shown.index, columns=shown.columns)
    for column in columns:
        if column in classes:
            classes[column] = "nowrap"
    return classes


def download_link(data: bytes, filename: str, mime: str, label: str) -> str:
    """A link that saves ``data`` as ``filename``: works in Voila and JupyterLab without a file server."""
    import base64

    encoded = base64.b64encode(data).decode("ascii")
    return (f'<a class="jupyter-button mod-primary" style="display:inline-block;padding:.3em 1em;'
            f'text-decoration:none;" download="{esc(filename)}" href="data:{esc(mime)};base64,{encoded}">'
            f"{esc(label)}</a>")


# ---- practice ----------------------------------------------------------------------------------------------------

def case_intro(case: PracticeCase) -> Html:
    planted = len(case.real)
    return Html(f"<p>练习案例（编号 {case.seed}）：{esc(case.branch_name)}，检查日期 {case.as_of.isoformat()}。"
                f"下面是该支部 {case.as_of.year} 年的全部记录。请对照制度逐项核对，然后在列出的 "
                f"{len(case.candidates)} 条说法中勾选<strong>确实存在</strong>的问题（其中真实问题 {planted} 个，"
                f"其余是看似合理、实际并不存在的说法），最后点“检查答案”。</p>")


def _explain(candidate) -> str:
    from .practice import severity_label

    return (f"<div><strong>{esc(candidate.text)}</strong></div>"
            f"<div>规则 {esc(candidate.rule)} {esc(candidate.title)}（{esc(severity_label(candidate.severity))}），"
            f"出处：{esc(candidate.source)}</div>"
            f'<div class="muted">核对哪里：{esc(EVIDENCE[candidate.rule])}</div>')


def result_html(case: PracticeCase, result: Result) -> Html:
    """Score, then each miss with the correct finding (rule, explanation, source), then each false alarm."""
    parts = [f'<p class="score">{esc(result.summary())}</p>']
    if result.perfect:
        parts.append('<p class="ok">全部判断正确！</p>')
    if result.misses:
        parts.append("<h4>漏掉的问题</h4>")
        parts += [f'<div class="miss" data-rule="{esc(c.rule)}">{_explain(c)}</div>' for c in result.misses]
    if result.false_alarms:
        parts.append("<h4>误判（本案例中不存在的问题）</h4>")
        parts += [f'<div class="false-alarm" data-rule="{esc(c.rule)}"><div><strong>{esc(c.text)}</strong></div>'
                  f"<div>对照记录（{esc(EVIDENCE[c.rule])}）可知这一说法不成立：按规则 {esc(c.rule)} "
                  f"{esc(c.title)}（出处：{esc(c.source)}）检查，本案例没有这个问题。</div></div>"
                  for c in result.false_alarms]
    return Html(scoped("".join(parts)))


# ---- checklists --------------------------------------------------------------------------------------------------

CHECK_COLUMNS = {"box": "完成", "when": "时限", "item": "事项", "requirement": "要求", "evidence": "留存材料",
                 "source": "出处"}


def checklist_html(kind: MeetingKind | str, profile=None, meeting_date: dt.date | None = None) -> Html:
    """A printable checklist of one meeting kind: stage by stage, what to do, by when and what to keep on file."""
    from ..deadlines import meeting_kind

    kind = meeting_kind(kind)
    frame = procedure_table(kind, profile, meeting_date)
    columns = dict(CHECK_COLUMNS)
    if meeting_date:
        columns = {"box": "完成", "due_text": "日期", **{k: v for k, v in CHECK_COLUMNS.items() if k != "box"}}
    frame = frame.assign(
        box="□",
        item=[f"{item}（{note}）" if note else item for item, note in zip(frame.item, frame.note)],
        due_text=[due_text(d, off) if isinstance(d, dt.date) else "" for d, off in zip(frame.due, frame.day_off)])
    parts = []
    for stage in (*STAGES, YEAR_STAGE):
        part = frame[frame.stage.eq(stage)]
        if len(part):
            shown = part[list(columns)].rename(columns=columns).reset_index(drop=True)
            classes = _nowrap(shown, ("完成", "时限", "要求"))
            if "日期" in classes:  # a deadline on a day off is marked (its text says what to do); the meeting
                # day is a fact, not something to act on, so its mark stays plain text
                classes.loc[(part.day_off.ne("") & part.stage.ne(STAGES[1])).to_numpy(), "日期"] = "late"
            parts.append(f"<h3>{esc(stage)}</h3>" + table(shown, classes=classes))
    when = f"会议日期 {meeting_date.isoformat()}（{weekday(meeting_date)}）；" if meeting_date else ""
    reading = f"{when}时限按会议日期推算（{profile_label(as_profile(profile).name)}）。出处：{seed_legend()}。"
    # a stage's table runs longer than a page once days off are marked: let it break between rows rather than
    # leave the page under the heading blank (the report stylesheet keeps whole tables together)
    return Html(f"{CHECKLIST_PRINT}<div class=\"checklist\">{section(f'{kind.label}工作清单', reading, *parts)}</div>")


CHECKLIST_PRINT = "<style>@media print { .checklist table { break-inside: auto; } }</style>"
