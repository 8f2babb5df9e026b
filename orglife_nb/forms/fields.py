"""One input per model field, generated from ``fields_of(Record)``: header as label, note as tooltip, the
field's own parser (``FieldSpec.parse``) as the validator, enum labels (Chinese) as drop-down choices.

Every input holds text ("" = empty): drop-downs hold the code the parser accepts, so one rule validates every
kind of field, and the error shown is the parser's Chinese reason, the same words the workbook import uses.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import ipywidgets as w

from ..models import CellError, FieldSpec, blank
from ..present.html import esc

EMPTY = ""
_LONG_TEXT = ("content", "summary", "superior_comment", "problem", "goal", "measures", "handling")
_HINTS = {"date": "YYYY-MM-DD", "int": "整数", "number": "数字"}
Choices = list[tuple[str, str]]


def shown(spec: FieldSpec, value: Any) -> str:
    """A stored value as the text its input holds."""
    if blank(value):
        return EMPTY
    if spec.kind == "date":
        try:
            value = spec.parse(value)
        except CellError:  # a date stored before the range check: shown as it is (saving it is refused)
            return str(value)[:10]
        return value.isoformat() if isinstance(value, dt.date) else EMPTY
    if spec.kind == "bool":
        return "true" if bool(value) else "false"
    if spec.kind == "number":
        return f"{float(value):g}"
    if spec.kind == "int":
        return str(int(value))
    return str(value)


def css_name(spec: FieldSpec) -> str:
    return spec.name.replace("_", "-")


class FieldInput:
    """Label, input and the field's error message, side by side; ``error`` is None when the text is valid."""

    def __init__(self, spec: FieldSpec, prefix: str, choices: Choices | None = None) -> None:
        self.spec = spec
        self.error: str | None = None
        self._listeners: list[Callable[[], None]] = []
        mark = "<span class='f-required' title='必填'>*</span>" if spec.required else ""
        self.input = self._make_input(choices)
        # the header is the input's own description: ipywidgets renders it as a <label for=…> of the input, so the
        # field has an accessible name (screen readers; Playwright's get_by_label) and a click on it focuses it
        self.input.description = f"{esc(spec.header)}{mark}"
        self.input.description_allow_html = True
        self.input.tooltip = spec.note or None
        self.input.style.description_width = "130px"
        self.input.add_class(f"{prefix}-{css_name(spec)}")
        self.input.add_class("f-input")
        self.message = w.HTML("", layout=w.Layout(min_width="160px"))
        self.message.add_class("f-error")
        self.message.add_class(f"{prefix}-{css_name(spec)}-error")
        self.box = w.HBox([self.input, self.message])
        self.input.observe(self._changed, "value")
        self.validate()

    def _make_input(self, choices: Choices | None) -> w.DOMWidget:
        spec = self.spec
        if choices is None:
            if spec.kind == "enum":
                choices = [(member.label, member.value) for member in spec.enum]
            elif spec.kind == "bool":
                choices = [("是", "true"), ("否", "false")]
        if choices is not None:
            empty = "（请选择）" if spec.required else "（未填）"
            return w.Dropdown(options=[(empty, EMPTY)] + list(choices), value=EMPTY,
                              layout=w.Layout(width="390px"))
        layout = w.Layout(width="390px")  # the 130px label now sits inside the widget, before its 260px input
        if spec.kind == "text" and spec.name in _LONG_TEXT:
            return w.Textarea(value=EMPTY, continuous_update=True, layout=w.Layout(width="390px", height="60px"))
        return w.Text(value=EMPTY, placeholder=_HINTS.get(spec.kind, ""), continuous_update=True, layout=layout)

    # ---- value ------------------------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.input.value or EMPTY

    @text.setter
    def text(self, value: str) -> None:
        if isinstance(self.input, w.Dropdown) and value not in {v for _, v in self.input.options}:
            # a stored value that is not among the choices (e.g. a member since moved): keep it selectable
            self.input.options = list(self.input.options) + [(value, value)]
        self.input.value = value

    def set(self, value: Any) -> None:
        self.text = shown(self.spec, value)

    def set_choices(self, choices: Choices) -> None:
        keep = self.text
        empty = self.input.options[0]
        self.input.options = [empty] + list(choices)
        self.text = keep

    def parsed(self) -> Any:
        """The typed value (None when empty); raises CellError like the workbook import."""
        return self.spec.parse(self.text)

    def validate(self) -> str | None:
        try:
            value = self.parsed()
            self.error = "必填" if value is None and self.spec.required else None
        except CellError as error:
            self.error = str(error)
        self.message.value = f"<span class='f-bad'>{esc(self.error)}</span>" if self.error else ""
        return self.error

    def on_change(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def _changed(self, _change=None) -> None:
        self.validate()
        for callback in self._listeners:
            callback()

    def disable(self, disabled: bool) -> None:
        self.input.disabled = disabled
