"""A form for one record kind, generated from the model: pick a stored record (or 新建), edit, save.

The form reads each record with its ``version`` and saves with that version as the expected one, so a record
somebody else changed in the meantime is never overwritten: the conflict message shows the current values.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

import ipywidgets as w
import pandas as pd

from ..errors import OrglifeError
from ..models import Record, fields_of
from ..present.html import esc, table
from .fields import FieldInput, shown
from .session import Edit, Session, VersionConflict

NEW = "__new__"
# what a form of an approved meeting says (the store refuses the change anyway: store.review.check_unlocked)
LOCKED = "<p class='f-locked'>本次会议已审核，记录已锁定；如需修改，请上级党组织重新打开。</p>"


@dataclass
class Scope:
    """What the visitor has chosen at the top of the page."""

    branch_id: str | None = None
    meeting_id: str | None = None
    locked: bool = False  # the chosen meeting is approved (set by the page's review bar)


def _scope_fields(record: type[Record]) -> tuple[str, ...]:
    """Fields the page's branch / meeting choice fills in (not shown in the form). 任职 rows hang on a member,
    chosen in the form among the branch's."""
    if record.parent == "meeting_id":
        return (record.parent,)
    names = record.model_fields
    return ("branch_id",) if "branch_id" in names and record.key != ("branch_id",) else ()


def _within(record: type[Record]) -> tuple[str, ...]:
    """The page's choices the form's rows are read within: its scope fields, else (任职) the branch."""
    return _scope_fields(record) or (("branch_id",) if record.parent == "member_id" else ())


class RecordForm:
    """Generated form of ``record`` within ``scope``; ``on_saved`` runs after every successful save."""

    def __init__(self, session: Session, record: type[Record], scope: Scope,
                 on_saved: Callable[["RecordForm"], None] | None = None) -> None:
        self.session, self.record, self.scope = session, record, scope
        self.on_saved = on_saved or (lambda form: None)
        self.prefix = f"f-{record.table}"
        self.fixed = _scope_fields(record)
        self.within = _within(record)
        self.inputs: dict[str, FieldInput] = {}
        for spec in fields_of(record):
            if spec.name in self.fixed:
                continue
            choices = [] if spec.ref == "members" else None
            field = FieldInput(spec, self.prefix, choices)
            field.on_change(self._update_buttons)
            self.inputs[spec.name] = field
        self.rows = pd.DataFrame()
        self.names: dict[str, str] = {}
        self.version: int | None = None
        self.row_id: int | None = None
        self.current: dict[str, Any] | None = None  # the latest stored values after a conflict
        self.chooser = w.Dropdown(options=[("（新建）", NEW)], value=NEW, description="选择记录",
                                  layout=w.Layout(width="420px"))
        self.chooser.add_class(f"{self.prefix}--chooser")
        self._muted = False  # while refresh() replaces the choices, the chooser's resets are not choices
        self.chooser.observe(lambda change: self._muted or self.load(change["new"]), "value")
        self.save_button = w.Button(description="保存", button_style="primary", icon="save")
        self.save_button.add_class(f"{self.prefix}--save")
        self.save_button.on_click(lambda _: self.save())
        self.delete_button = w.Button(description="删除", button_style="danger")
        self.delete_button.add_class(f"{self.prefix}--delete")
        self.delete_button.on_click(lambda _: self.save(delete=True))
        self.reload_button = w.Button(description="载入当前内容", layout=w.Layout(display="none"))
        self.reload_button.add_class(f"{self.prefix}--reload")
        self.reload_button.on_click(lambda _: self.reload_current())
        self.status = w.HTML("")
        self.status.add_class("f-status")
        self.status.add_class(f"{self.prefix}--status")
        buttons = [self.save_button] + ([self.delete_button] if self.deletable else []) + [self.reload_button]
        self.notice = w.HTML("")
        self.lock_note = w.HTML("")
        self.lock_note.add_class(f"{self.prefix}--locked")
        self.widget = w.VBox([w.HTML(f"<h3>{esc(record.label)}</h3>"), self.notice, self.lock_note, self.chooser]
                             + [field.box for field in self.inputs.values()]
                             + [w.HBox(buttons), self.status])
        self.widget.add_class(self.prefix)
        self.refresh()

    # ---- what the form may do --------------------------------------------------------------------------------

    @property
    def deletable(self) -> bool:
        # branches and meetings carry everything else; they are corrected, not deleted, from a form
        return self.record.table not in ("branches", "meetings")

    @property
    def ready(self) -> bool:
        """The page's choice the form depends on is made."""
        return all(getattr(self.scope, name, None) for name in self.within)

    @property
    def locked(self) -> bool:
        """The shown record belongs to the approved meeting chosen at the top (or is that meeting)."""
        if not self.scope.locked:
            return False
        if "meeting_id" in self.fixed:
            return True
        return self.record.key == ("meeting_id",) and self.chooser.value == self.scope.meeting_id

    def errors(self) -> dict[str, str]:
        return {name: field.error for name, field in self.inputs.items() if field.error}

    def _update_buttons(self) -> None:
        locked = self.locked
        self.save_button.disabled = bool(self.errors()) or not self.ready or locked
        self.delete_button.disabled = self.version is None or not self.ready or locked
        self.lock_note.value = LOCKED if locked else ""

    # ---- reading ---------------------------------------------------------------------------------------------

    def _where(self) -> dict[str, str]:
        return {name: getattr(self.scope, name) for name in self.fixed}

    def refresh(self, select: Any = None) -> None:
        """Re-read the scope's rows and choices; keep (or move to ``select``) the chosen record."""
        if not self.ready:
            self.rows = pd.DataFrame()
            self.notice.value = "<p>请先在页面上方选择" + ("会议" if "meeting_id" in self.fixed else "支部") + "。</p>"
        else:
            self.notice.value = ""
            self.rows = self.session.rows(self.record, **{name: getattr(self.scope, name) for name in self.within})
        members = self.session.members(self.scope.branch_id) if self.scope.branch_id else pd.DataFrame()
        self.names = dict(zip(members.get("member_id", []), members.get("name", [])))
        member_choices = [(f"{name}（{mid}）", mid) for mid, name in self.names.items()]
        for field in self.inputs.values():
            if field.spec.ref == "members":
                extra = [(field.spec.ref_or, field.spec.ref_or)] if field.spec.ref_or else []
                field.set_choices(member_choices + extra)
        options = [("（新建）", NEW)] + [(self.row_label(row), self.row_key(row)) for _, row in self.rows.iterrows()]
        wanted = self.chooser.value if select is None else select
        keys = [key for _, key in options]
        self._muted = True
        try:
            self.chooser.options = options
            self.chooser.value = wanted if wanted in keys else NEW
        finally:
            self._muted = False
        self.load(self.chooser.value)

    def row_key(self, row: pd.Series) -> str:
        return str(row[self.record.key[0]] if self.record.key else row["row_id"])

    def row_label(self, row: pd.Series) -> str:
        """A readable line for the chooser, from the first few shown fields (member ids as names)."""
        parts = []
        for name, field in list(self.inputs.items())[:4]:
            text = self._readable(field.spec, shown(field.spec, row[name]))
            if text:
                parts.append(text[:30])
        return " · ".join(parts) or "（空）"

    def _readable(self, spec, code: str) -> str:
        """An input's text as people read it: names for member ids, labels for codes, 是/否."""
        if not code:
            return code
        if spec.ref == "members":
            return self.names.get(code, code)
        if spec.kind == "enum":
            return spec.enum(code).label
        if spec.kind == "bool":
            return "是" if code == "true" else "否"
        return code

    def load(self, key: str) -> None:
        """Show the stored record ``key`` (or empty inputs for a new one)."""
        row = None
        if key != NEW and len(self.rows):
            match = self.rows[self.rows[self.record.key[0] if self.record.key else "row_id"].astype(str) == key]
            row = match.iloc[0] if len(match) else None
        for name, field in self.inputs.items():
            field.set(None if row is None else row[name])
            if self.record.key and name == self.record.key[0]:
                field.disable(row is not None)  # the id names the record; a new id is a new record
        self.version = None if row is None else int(row["version"])
        self.row_id = None if row is None or self.record.key else int(row["row_id"])
        self.current = None
        self.reload_button.layout.display = "none"
        self._update_buttons()

    def set_values(self, **values: Any) -> None:
        """Fill inputs from Python values (tests, defaults)."""
        for name, value in values.items():
            self.inputs[name].set(value)

    # ---- saving ----------------------------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        values = {name: field.parsed() for name, field in self.inputs.items()}
        values.update(self._where())
        return values

    def save(self, delete: bool = False) -> bool:
        """Save (or delete) the shown record in one transaction; True when stored. Refuses while invalid."""
        if delete and self.version is None:
            return False
        if self.errors() or not self.ready:
            self._say("f-bad", "还有填写不正确的项目（见各项旁的提示），未保存。")
            return False
        values = self.values()
        refusal = None if delete else self._refusal(values)
        if refusal:
            self._say("f-bad", f"{refusal}，未保存。")
            return False
        edit = Edit(self.record, values, version=self.version, row_id=self.row_id, delete=delete)
        try:
            summary = self.session.save([edit])
        except VersionConflict as conflict:
            self._conflict(conflict)
            return False
        except OrglifeError as error:
            self._say("f-bad", str(error))
            return False
        # a record with an id stays shown; a row without one (a talk, an attendance…) was one of many: the form
        # is ready for the next, so that changing it and saving again cannot overwrite the row just entered
        key = str(values[self.record.key[0]]) if self.record.key and not delete else NEW
        self.refresh(select=key)
        # the time tells a repeated save apart from the previous message
        self._say("f-ok", f"{'已删除' if delete else '已保存'}（{dt.datetime.now():%H:%M:%S}）：{summary.describe()}")
        self.on_saved(self)
        return True

    def _refusal(self, values: dict[str, Any]) -> str | None:
        """What the import would refuse in a 任职 row, checked against the branch's other rows (the workbook's
        ``tenure_problems``): 终止 before 起始, an overlap with the member's other periods, a second 书记."""
        if self.record.parent != "member_id":
            return None
        from ..workbook.read import tenure_problems

        names = ("member_id", "role", "start_date", "end_date")
        others = self.rows if self.row_id is None else self.rows[self.rows.row_id.ne(self.row_id)]
        terms = [tuple(None if pd.isna(v) else v for v in row) for row in others[list(names)].itertuples(
            index=False, name=None)] if len(others) else []
        terms.append(tuple(values.get(name) for name in names))
        branch = {member: self.scope.branch_id for member in self.names}
        found = [why for i, _, _, why in tenure_problems(terms, branch, {}, lambda j: "已登记的一行")
                 if i == len(terms) - 1]
        return found[0] if found else None

    def _say(self, css: str, message: str, extra: str = "") -> None:
        self.status.value = f"<div class='{css}'>{esc(message)}</div>{extra}"

    def _conflict(self, conflict: VersionConflict) -> None:
        self.current = conflict.current
        if conflict.current is None:
            self._say("f-conflict", str(conflict))
            return
        headers = {spec.name: spec for spec in fields_of(self.record)}
        rows = []
        for name, value in conflict.current.items():
            spec = headers[name]
            code = shown(spec, value)
            mine = self.inputs[name].text if name in self.inputs else code
            rows.append((spec.header, self._readable(spec, code), "" if mine == code else "不同"))
        frame = pd.DataFrame(rows, columns=["项目", "当前内容", "与您填写的比较"])
        self._say("f-conflict", str(conflict) + "。数据库中的当前内容如下；请“载入当前内容”后重新修改再保存。",
                  f"<div class='f-current'>{table(frame)}</div>")
        self.reload_button.layout.display = ""

    def reload_current(self) -> None:
        """After a conflict: show the stored record (the user's unsaved text is replaced on purpose)."""
        self.refresh()
        self._say("f-ok", "已载入当前内容。")
