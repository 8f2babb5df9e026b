"""Live guidance beside the forms: the meeting's talk and criticism coverage, its findings and its open steps.

Everything here is computed by the same functions the CLI and the reports use (coverage, run_checks,
open_steps); this module only picks the meeting's rows and renders them as escaped HTML.
"""
from __future__ import annotations

import logging

import pandas as pd

from ..present.html import esc, table
from ..reports.html import criticism_coverage_tables, is_planned, severity_badge, talk_coverage_table
from ..rules.engine import make_context, run_checks
from ..rules.recheck import Rechecker
from ..rules.standing import standing
from ..rules.status import open_steps

log = logging.getLogger(__name__)

STYLE = """<style>
.orglife-guidance table{border-collapse:collapse;font-size:12px;margin:4px 0 10px}
.orglife-guidance th,.orglife-guidance td{border:1px solid #ccc;padding:2px 5px;text-align:center}
.orglife-guidance td.missing{background:#fde2e1;color:#b3261e;font-weight:bold}
.orglife-guidance td.late{color:#b3261e}
.orglife-guidance h4{margin:10px 0 4px}
.orglife-guidance .sev-error{color:#b3261e}.orglife-guidance .sev-warning{color:#a15c00}
.orglife-forms .f-bad{color:#b3261e;font-size:12px}.orglife-forms .f-required{color:#b3261e}
.orglife-forms .f-ok{color:#1b6e20}.orglife-forms .f-conflict{color:#b3261e}
.orglife-forms .f-status table{border-collapse:collapse;font-size:12px}
.orglife-forms .f-status th,.orglife-forms .f-status td{border:1px solid #ccc;padding:2px 5px}
.orglife-forms .lm-TabBar-content{flex-wrap:wrap}
.orglife-forms .lm-TabBar-tab{flex:0 0 auto !important;min-width:0 !important;max-width:none !important}
/* a phone (below 700px): one column; pickers, fields and hints full width with labels above; wide tables scroll in
   their own box, never the page (the widgets' sizes are inline styles: hence !important) */
@media (max-width:700px){
.orglife-forms{max-width:100vw;overflow-x:hidden}
.orglife-forms .f-choice,.orglife-forms .f-main{flex-direction:column !important;align-items:stretch !important}
.orglife-forms .f-main>.f-main--form,.orglife-forms .f-main>.f-main--side,
.orglife-forms .widget-tab,.orglife-forms .lm-TabPanel-stackedpanel,.orglife-forms .lm-TabPanel-stackedpanel>*{
  width:100% !important;max-width:100% !important;min-width:0 !important;box-sizing:border-box}
.orglife-forms .widget-hbox{flex-wrap:wrap;max-width:100%}
.orglife-forms .widget-inline-hbox{flex-direction:column !important;align-items:stretch !important;
  width:auto !important;max-width:100% !important;height:auto !important;margin-right:0 !important}
.orglife-forms .widget-inline-hbox>.widget-label{width:auto !important;max-width:none !important;
  text-align:left !important;line-height:1.4;height:auto}
.orglife-forms .widget-inline-hbox>input,.orglife-forms .widget-inline-hbox>select,
.orglife-forms .widget-inline-hbox>textarea{width:100% !important;min-width:0 !important;box-sizing:border-box;
  flex:0 0 auto !important}
.orglife-forms .widget-inline-hbox>select,.orglife-forms .widget-inline-hbox>input{height:32px !important}
.orglife-forms .widget-html,.orglife-forms .widget-html-content{max-width:100%;min-width:0 !important}
.orglife-forms .orglife-guidance,.orglife-forms .f-status,.orglife-forms .f-history,.orglife-forms .g-talks{
  max-width:100%;overflow-x:auto}
.orglife-forms .widget-button{max-width:100%}
}
</style>"""


def meeting_guidance(frames, meeting_id: str, profile=None, as_of=None, rechecker: Rechecker | None = None) -> str:
    """HTML for one meeting of ``frames`` (the branch's frames, read after the last save). ``rechecker``: the
    forms' own (its profile and day), which runs again only the rules the frames' changes since its last run can
    affect: what makes the hints follow a save at once."""
    if meeting_id not in set(frames.meetings.meeting_id.astype(str)):
        return "<div class='orglife-guidance'><p>请先选择会议。</p></div>"
    ctx = make_context(frames, profile, as_of) if rechecker is None else \
        make_context(frames, rechecker.profile, rechecker.as_of)

    def name(member_id) -> str:
        return ctx.names.get(member_id, member_id)

    # the reports' coverage tables (names on the axes, “缺” highlighted): one look for reports and forms
    talks, gaps, pending = talk_coverage_table(ctx, meeting_id, name)
    state = f"会议计划召开，待谈 {pending} 对" if is_planned(ctx, meeting_id) else f"缺 {gaps} 对"
    parts = [f"<h4>谈心谈话覆盖（{state}）</h4><div class='g-talks'>{talks}</div>"]
    for stage, html, missing in criticism_coverage_tables(ctx, meeting_id, name):
        parts.append(f"<h4>批评与自我批评 · {esc(stage.label)}（缺 {missing} 项）</h4>"
                     f"<div class='g-criticism g-criticism-{esc(stage.value)}'>{html}</div>")
    try:
        parts.append(_findings(ctx, frames, meeting_id, rechecker) + _steps(ctx, meeting_id))
    except Exception as error:  # a failing rule must not take the forms down with it: entry goes on
        log.exception("checks failed for meeting %s", meeting_id)
        parts.append(f"<h4>检查结果</h4><p class='f-bad'>检查未能完成（{esc(type(error).__name__)}："
                     f"{esc(error)}），请把此信息告知维护人员；录入不受影响。</p>")
    return "<div class='orglife-guidance'>" + "".join(parts) + "</div>"


def _findings(ctx, frames, meeting_id: str, rechecker: Rechecker | None) -> str:
    # the meeting's standing: the same findings its 情况报告 and the branch report state
    found = run_checks(frames, context=ctx) if rechecker is None else rechecker.run(frames, ctx)[1]
    findings = standing(found, meeting_id).findings
    shown = pd.DataFrame({"级别": findings.severity, "规则": findings.rule, "问题": findings.message})
    return (f"<h4>检查结果（{len(shown)} 条）</h4><div class='g-findings'>"
            f"{table(shown, formatters={'级别': severity_badge}, empty='没有发现问题。')}</div>")


def _steps(ctx, meeting_id: str) -> str:
    steps = open_steps(ctx)
    steps = steps[steps.meeting_id == meeting_id]
    days = steps.days_left.astype("Int64")
    shown = pd.DataFrame({"事项": steps.step, "期限": steps.due.dt.date,
                          "剩余": [("逾期 %d 天" % -d) if d < 0 else f"{d} 天" for d in days.fillna(0)]})
    classes = pd.DataFrame("", index=shown.index, columns=shown.columns)
    classes.loc[steps.overdue.to_numpy(), "剩余"] = "late"
    return (f"<h4>时间节点（未完成 {len(shown)} 项）</h4><div class='g-steps'>"
            f"{table(shown, classes=classes, empty='各环节均已完成。')}</div>")
