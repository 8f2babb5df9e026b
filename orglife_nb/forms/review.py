"""The review bar under the page's branch / meeting choice, and the chosen meeting's record history.

The bar shows where the meeting stands in the review chain (草稿 → 已提交 → 已审核 / 退回) and offers only the steps
the logged-in account may take now; the steps themselves, their checks and refusals are ``auth.review``'s (the
same as ``orglife review``). The history panel lists the audit trail, built only when opened.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

import ipywidgets as w
import pandas as pd

from ..auth.review import ERRORS_SHOWN, NEEDS_REASON, STEPS, ChecksFailed, review
from ..errors import OrglifeError
from ..present.values import missing
from .failure import guarded
from ..present.html import esc, table
from ..store.audit import describe, headline
from ..store.review import STATES, review_frame
from ..store.scope import AccountRole
from .record import Scope
from .session import Session

log = logging.getLogger(__name__)

PREFIX = "f-review"
LABELS = {"submit": "提交审核", "approve": "审核通过", "return": "退回", "reopen": "重新打开"}
STYLES = {"submit": "primary", "approve": "success", "return": "warning", "reopen": "warning"}
HISTORY_LIMIT = 200  # entries shown; the full trail is ``orglife history --meeting``

STYLE = """<style>
.orglife-forms .f-review{border:1px solid #d0d7de;border-radius:4px;padding:6px 10px;margin:6px 0;
  background:#f6f8fa;max-width:100%;box-sizing:border-box}
.orglife-forms .f-review--state{min-width:0;flex:1 1 320px}
.orglife-forms .f-review--state p{margin:2px 0;line-height:1.5;overflow-wrap:anywhere}
.orglife-forms .r-badge{display:inline-block;padding:0 8px;border-radius:10px;font-weight:bold;white-space:nowrap}
.orglife-forms .r-draft{background:#eaeef2;color:#444}.orglife-forms .r-submitted{background:#ddf4ff;color:#0550ae}
.orglife-forms .r-approved{background:#dafbe1;color:#1a7f37}.orglife-forms .r-returned{background:#fff1e5;color:#a15c00}
.orglife-forms .f-review--actions{flex-wrap:wrap;align-items:center}
.orglife-forms .f-review--actions .widget-button{width:auto;min-width:88px}
.orglife-forms .f-review--errors ol{margin:2px 0 4px;padding-left:2.2em;font-size:12px;color:#b3261e}
.orglife-forms .f-review--errors p{margin:0 0 4px;font-size:12px}
.orglife-forms .f-locked{color:#1a7f37;font-weight:bold;background:#dafbe1;padding:4px 8px;border-radius:4px}
.orglife-forms .f-history table{border-collapse:collapse;font-size:12px}
.orglife-forms .f-history th,.orglife-forms .f-history td{border:1px solid #ccc;padding:2px 5px;text-align:left;
  vertical-align:top;overflow-wrap:anywhere}
.orglife-forms .f-history td:first-child{white-space:nowrap}
</style>"""


class ReviewBar:
    """The chosen meeting's review state and the steps the account may take; ``on_changed`` runs after a step."""

    def __init__(self, session: Session, scope: Scope, on_changed: Callable[[], None] | None = None) -> None:
        self.session, self.scope = session, scope
        self.on_changed = on_changed or (lambda: None)
        self.state = "draft"
        self.explaining = False  # the checks found errors: the secretary is asked to explain before submitting
        self.shown: str | None = None  # the meeting the bar last showed (its explanation prompt is not another's)
        self.state_html = w.HTML("")
        self.state_html.add_class(f"{PREFIX}--state")
        self.buttons: dict[str, w.Button] = {}
        for action, label in LABELS.items():
            button = w.Button(description=label, button_style=STYLES[action],
                              layout=w.Layout(display="none", width="auto"))
            button.add_class(f"{PREFIX}--{action}")
            button.on_click(guarded(self._show_failure)(lambda _, action=action: self.act(action)))
            self.buttons[action] = button
        self.text = w.Textarea(layout=w.Layout(display="none", width="100%", height="64px"))
        self.text.add_class(f"{PREFIX}--text")
        self.errors = w.HTML("")
        self.errors.add_class(f"{PREFIX}--errors")
        self.message = w.HTML("")
        self.message.add_class(f"{PREFIX}--message")
        self.history = HistoryPanel(session, scope)
        actions = w.HBox(list(self.buttons.values()), layout=w.Layout(flex_flow="row wrap"))
        actions.add_class(f"{PREFIX}--actions")
        top = w.HBox([self.state_html, actions], layout=w.Layout(flex_flow="row wrap", align_items="center"))
        # the message first: a refusal is read before the list of what caused it
        self.widget = w.VBox([w.HTML(STYLE), top, self.message, self.errors, self.text, self.history.widget])
        self.widget.add_class(PREFIX)
        self.show()

    # ---- what the account may do -----------------------------------------------------------------------------

    @property
    def role(self):
        actor = getattr(self.session.store, "actor", None)  # no store: the page is built before the login's visitor
        return None if actor is None else actor.role

    def allowed(self) -> list[str]:
        """The steps the logged-in account may take in the meeting's current state (none without an account)."""
        if not self.scope.meeting_id or self.role is None:
            return []
        return [action for action, (starts, _, roles) in STEPS.items() if self.state in starts and self.role in roles]

    def _show_failure(self, html: str) -> None:
        self.message.value = html

    # ---- showing ---------------------------------------------------------------------------------------------

    def show(self, message: str | None = None) -> None:
        """Re-read the chosen meeting's state; ``message`` (HTML) replaces the last one (None clears it)."""
        if self.scope.meeting_id != self.shown:
            self.shown, self.explaining, self.text.value = self.scope.meeting_id, False, ""
        row = self._read()
        self.state = row.get("state") or "draft"
        self.scope.locked = self.state == "approved"
        self.state_html.value = _state_html(row) if self.scope.meeting_id else "<p>审核状态：请先选择会议。</p>"
        allowed = self.allowed()
        if "submit" not in allowed:
            self.explaining = False
        for action, button in self.buttons.items():
            button.layout.display = "" if action in allowed else "none"
        reasoned = [a for a in allowed if a in NEEDS_REASON]
        needs_text = bool(reasoned) or self.explaining
        self.text.layout.display = "" if needs_text else "none"
        if reasoned:
            self.text.placeholder = "、".join(LABELS[a] for a in reasoned) + "的理由（必填）"
        elif self.explaining:
            self.text.placeholder = "说明上面的问题为什么暂未改正（必填），再点“提交审核”"
        if not needs_text:
            self.text.value = ""
        if not self.explaining:
            self.errors.value = ""
        hint = _waiting(self.state, self.role) if self.scope.meeting_id and not allowed else ""
        self.message.value = message if message is not None else hint
        self.history.refresh()

    def _read(self) -> dict:
        if not self.scope.meeting_id:
            return {}
        with self.session.store.engine.connect() as connection:
            frame = review_frame(connection, [self.scope.meeting_id])
        return {k: v for k, v in frame.iloc[0].items() if not missing(v)}

    # ---- acting ----------------------------------------------------------------------------------------------

    def act(self, action: str) -> bool:
        """Take ``action`` on the chosen meeting as the logged-in account; a refusal is shown, never raised."""
        meeting = self.scope.meeting_id
        if not meeting:
            return False
        text = self.text.value.strip()
        if action in NEEDS_REASON and not text:
            self.show(_bad(f"{LABELS[action]}须说明理由：请在文本框中填写后再点“{LABELS[action]}”。"))
            return False
        # the step (a submission runs the meeting's checks) takes seconds: say so at once, the buttons held meanwhile
        self.message.value = f"<p class='f-review--busy'>正在{esc(LABELS[action])}……</p>"
        for button in self.buttons.values():
            button.disabled = True
        try:
            label = review(self.session.store, action, meeting, reason=text or None, as_of=self.session.as_of,
                           profile=self.session.profile)
        except OrglifeError as error:
            errors = error.errors if isinstance(error, ChecksFailed) else []
            if errors:  # the checks refused it: list what is wrong and ask for the explanation
                self.explaining = True
                more = len(errors) - ERRORS_SHOWN  # the guidance beside the forms lists them all
                self.errors.value = ("<ol>" + "".join(f"<li>{esc(e)}</li>" for e in errors[:ERRORS_SHOWN])
                                     + "</ol>" + (f"<p>……另有 {more} 处，见右侧“检查结果”。</p>" if more > 0 else ""))
                self.show(_bad(f"还有 {len(errors)} 处违规，未提交。请改正后再提交，或在下面说明原因后再点“提交审核”。"))
            else:
                self.show(_bad(str(error)))  # also when the state changed meanwhile: the bar shows the new one
            return False
        except Exception as error:  # a broken connection must not leave a traceback in the page
            log.exception("review %s of meeting %s failed", action, meeting)
            self.show(_bad(f"操作未能完成（{type(error).__name__}），未作任何改动；请稍后重试或告知维护人员。"))
            return False
        finally:
            for button in self.buttons.values():
                button.disabled = False
        self.explaining = False
        self.text.value = ""
        self.show(f"<p class='f-ok'>{esc(LABELS[action])}：会议现在是“{esc(label)}”"
                  f"（{dt.datetime.now():%H:%M:%S}）。</p>")
        self.on_changed()
        return True


class HistoryPanel:
    """The chosen meeting's audit trail, newest first, read only while the panel is open."""

    def __init__(self, session: Session, scope: Scope) -> None:
        self.session, self.scope = session, scope
        self.body = w.HTML("")
        self.body.add_class("f-history")
        self.widget = w.Accordion(children=[self.body], selected_index=None)
        self.widget.set_title(0, "修改记录")
        self.widget.add_class("f-history-panel")
        self.widget.observe(lambda _: self.refresh(), "selected_index")

    @property
    def opened(self) -> bool:
        return self.widget.selected_index == 0

    def refresh(self) -> None:
        if not self.opened:
            return  # nothing read for a closed panel: the first paint and every save stay cheap
        meeting = self.scope.meeting_id
        if not meeting:
            self.body.value = "<p>请先选择会议。</p>"
            return
        try:
            rows = self.session.store.history(meeting=meeting, limit=HISTORY_LIMIT + 1)
        except OrglifeError as error:
            self.body.value = _bad(str(error))
            return
        self.body.value = history_html(rows, meeting)


def history_html(rows: pd.DataFrame, meeting: str, limit: int = HISTORY_LIMIT) -> str:
    """Audit entries (oldest first, up to ``limit`` + 1 to tell whether there are more) as a table, newest first."""
    more = len(rows) > limit
    rows = rows.iloc[::-1].head(limit)
    shown = []
    for _, row in rows.iterrows():
        words = headline(row)
        shown.append({"时间": words["at"], "账号": words["actor"], "操作": words["action"],
                      "记录": words["record"].strip(), "内容（原值 → 新值）": describe(row)})
    frame = pd.DataFrame(shown, columns=["时间", "账号", "操作", "记录", "内容（原值 → 新值）"])
    note = (f"<p>只显示最近 {limit} 条；完整记录请用命令 orglife history --meeting {esc(meeting)}。</p>"
            if more else f"<p>共 {len(frame)} 条，最新的在前。保密内容只记“已改动”。</p>")
    return note + table(frame, empty="这次会议还没有修改记录。")


def _state_html(row: dict) -> str:
    state = row.get("state", "draft")
    who = esc(row.get("updated_by", ""))
    at = esc(str(row.get("updated_at", ""))[:16])
    badge = f"<span class='r-badge r-{esc(state)}'>{esc(STATES.get(state, state))}</span>"
    lines = {"draft": "尚未提交审核。",
             "submitted": f"{who} 于 {esc(str(row.get('submitted_at', ''))[:16])} 提交。",
             "approved": f"{who} 于 {at} 审核通过，记录已锁定。",
             "returned": f"{who} 于 {at} 退回，请修改后重新提交。"}
    parts = [f"<p>审核状态：{badge} {lines.get(state, '')}</p>"]
    if state == "returned" and row.get("reason"):
        parts.append(f"<p class='f-review--reason'>退回理由：{esc(row['reason'])}</p>")
    if state in ("submitted", "approved") and row.get("explanation"):
        parts.append(f"<p class='f-review--explanation'>提交说明：{esc(row['explanation'])}</p>")
    return "".join(parts)


def _waiting(state: str, role) -> str:
    """Why an account sees no step (it is the other side's turn, or the account only reads)."""
    if role is None:
        return "<p class='f-review--hint'>审核操作须登录后进行（或用命令 orglife review）。</p>"
    if state == "submitted":
        return "<p class='f-review--hint'>已提交，等待上级党组织审核。</p>" if role is AccountRole.secretary else ""
    if state in ("draft", "returned") and role is AccountRole.superior:
        return "<p class='f-review--hint'>等待支部书记提交审核。</p>"
    return ""


def _bad(message: str) -> str:
    return f"<p class='f-bad'>{esc(message)}</p>"


__all__ = ["ReviewBar", "HistoryPanel", "history_html", "LABELS", "HISTORY_LIMIT"]
