"""Named questions (回应): the questions the branch's unit type must answer in the meeting (000 第三篇 第二步) as a
checklist that ticks itself as answers are saved, above the generated form of the 回应 records (also where the
questions the superior named and the masses raised are answered)."""
from __future__ import annotations

from typing import Callable

import ipywidgets as w

from ..models import NAMED_QUESTIONS, Branch, Meeting, MeetingKind, QuestionSource, Response, UnitType
from ..present.html import esc
from .record import RecordForm, Scope
from .session import Session

PREFIX = "f-questions"


def checklist(unit_type: str | None, kind: str | None, responses, kinds: tuple[str, ...]) -> str:
    """The checklist's HTML: each named question of ``unit_type`` with whether ``responses`` answer it (when the
    meeting's kind is one of ``kinds``, the profile's ``unit_response_kinds``), then the superior's questions."""
    answered = set()
    superior = []
    for row in responses.itertuples() if len(responses) else ():
        done = isinstance(row.summary, str) and bool(row.summary.strip())  # a missing text may read as NaN
        if row.source == QuestionSource.required.value and done:
            answered.add(row.question)
        elif row.source == QuestionSource.superior.value:
            superior.append((row.question, done))
    parts = []
    named = NAMED_QUESTIONS.get(unit_type or "", ())
    if named and kind in kinds:
        label = UnitType.label_of(unit_type)
        parts.append(f"<p>{esc(label)}党组织在{esc(MeetingKind.label_of(kind))}上应逐一回应以下问题"
                     "（“来源”选“规定问题”，“问题”填代码）：</p><ul class='f-questions--named'>")
        for code, text in named:
            mark = "<span class='f-ok'>✓ 已回应</span>" if code in answered else "<span class='f-bad'>未回应</span>"
            parts.append(f"<li data-code='{esc(code)}'>{mark}　<b>{esc(code)}</b>：{esc(text)}</li>")
        parts.append("</ul>")
    else:
        parts.append("<p>本次会议没有本单位类型的规定问题；上级点明的问题、群众反映的问题也在这里登记回应。</p>")
    if superior:
        parts.append("<p>上级点明的问题：</p><ul class='f-questions--superior'>")
        for question, done in superior:
            mark = "<span class='f-ok'>✓ 已回应</span>" if done else "<span class='f-bad'>未回应</span>"
            parts.append(f"<li>{mark}　{esc(question)}</li>")
        parts.append("</ul>")
    return "".join(parts)


class QuestionsPanel:
    def __init__(self, session: Session, scope: Scope, on_saved: Callable[[object], None] | None = None) -> None:
        self.session, self.scope = session, scope
        self.on_saved = on_saved or (lambda form: None)
        self.list = w.HTML("")
        self.list.add_class(f"{PREFIX}--list")
        self.form = RecordForm(session, Response, scope, on_saved=self._saved)
        self.widget = w.VBox([w.HTML("<h3>回应问题</h3>"), self.list, self.form.widget])
        self.widget.add_class(PREFIX)
        self._show()

    def _saved(self, form) -> None:
        self._show()
        self.on_saved(form)

    def refresh(self) -> None:
        self.form.refresh()
        self._show()

    def _show(self) -> None:
        if not (self.scope.branch_id and self.scope.meeting_id):
            self.list.value = "<p>请先在页面上方选择会议。</p>"
            return
        branch = self.session.rows(Branch, branch_id=self.scope.branch_id)
        meeting = self.session.rows(Meeting, meeting_id=self.scope.meeting_id)
        unit_type = branch.unit_type.iloc[0] if len(branch) else None
        kind = meeting.kind.iloc[0] if len(meeting) else None
        kinds = tuple(MeetingKind(k).value for k in self.session.profile.unit_response_kinds)
        self.list.value = checklist(unit_type, kind, self.form.rows, kinds)
