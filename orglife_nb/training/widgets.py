"""The interactive parts of the training notebook (ipywidgets): deadline calculator, practice case, checklists.

Each ``*_widget`` returns a ready widget; its callbacks only call the package (``deadlines``, ``practice``,
``checklists``) and put the resulting HTML on screen, so the behaviour is tested without a kernel.
"""
from __future__ import annotations

import datetime as dt
import html

import ipywidgets as w

from ..deadlines import HolidayCalendar, default_ics_name, timeline, to_ics
from ..models import MeetingKind
from ..rules.profile import bundled_profiles
from . import views
from .practice import DEFAULT_PROBLEMS, PracticeCase, make_case
from .procedures import PROCEDURES, as_profile
from .records import record_tables

KIND_OPTIONS = [(k.label, k.value) for k in MeetingKind]
_WIDE = w.Layout(width="auto")


def _html(markup: str = "") -> w.HTML:
    return w.HTML(value=markup, layout=w.Layout(width="100%"))


def walkthrough_widget(profile=None) -> w.Tab:
    """One tab per procedure (the trainer projects one at a time)."""
    pages = views.walkthrough_all(profile)
    tab = w.Tab(children=[_html(views.scoped(str(page))) for page in pages.values()])
    for index, label in enumerate(pages):
        tab.set_title(index, label)
    return tab


# ---- deadline calculator ---------------------------------------------------------------------------------------

class DeadlineCalculator:
    """Kind + date (+ profile) → ``deadlines.timeline`` table and an .ics download: what ``orglife deadlines`` does."""

    def __init__(self, kind: str = "regular", meeting_date: dt.date | None = None, profile: str = "default") -> None:
        self.kind = w.Dropdown(options=KIND_OPTIONS, value=kind, description="会议类型")
        self.date = w.DatePicker(value=meeting_date or dt.date.today(), description="会议日期")
        self.profile = w.Dropdown(options=bundled_profiles(), value=profile or "default", description="规则配置")
        self.table = _html()
        self.download = _html()
        for control in (self.kind, self.date, self.profile):
            control.observe(lambda _change: self.update(), names="value")
        self.widget = w.VBox([w.HBox([self.kind, self.date, self.profile]), self.download, self.table])
        self.widget.add_class("deadline-calculator")
        self.update()

    def update(self) -> None:
        if self.date.value is None:
            self.table.value = views.scoped("<p>请选择会议日期。</p>")
            self.download.value = ""
            return
        frame = timeline(self.kind.value, self.date.value, as_profile(self.profile.value), HolidayCalendar())
        self.frame = frame
        data = to_ics(frame, self.date.value, self.kind.value)
        name = default_ics_name(self.kind.value, self.date.value).name
        self.download.value = views.download_link(data, name, "text/calendar", "下载日历提醒（.ics）")
        self.table.value = views.scoped(str(views.timeline_html(frame)))


def deadline_widget(kind: str = "regular", meeting_date: dt.date | None = None, profile: str = "default"):
    return DeadlineCalculator(kind, meeting_date, profile).widget


# ---- practice case -------------------------------------------------------------------------------------------------

class PracticeWidget:
    """The case's records, the candidate statements to tick, 检查答案 → score and explanations."""

    def __init__(self, seed: int, problems: int = DEFAULT_PROBLEMS, profile=None) -> None:
        self.problems, self.profile = problems, profile
        self.seed = w.BoundedIntText(value=seed, min=0, max=10**9, description="案例编号", layout=w.Layout(width="14em"))
        self.new_case = w.Button(description="换一个案例", icon="refresh")
        self.new_case.on_click(lambda _b: self.load(self.seed.value))
        self.body = w.VBox()
        self.widget = w.VBox([w.HBox([self.seed, self.new_case]), self.body])
        self.widget.add_class("practice-case")
        self.load(seed)

    def load(self, seed: int) -> None:
        self.case: PracticeCase = make_case(seed, self.problems, profile=self.profile)
        tables = record_tables(self.case.frames)
        records = w.Tab(children=[_html(views.scoped(views.table(t, index=t.index.name is not None)))
                                  for t in tables.values()])
        for index, label in enumerate(tables):
            records.set_title(index, label)
        self.boxes = {}
        rows = []
        for candidate in self.case.candidates:
            box = w.Checkbox(value=False, indent=False, layout=w.Layout(width="2em"))
            box.add_class(f"candidate-{candidate.key}")
            self.boxes[candidate.key] = box
            rows.append(w.HBox([box, _html(f"<span>{html.escape(candidate.text)}</span>")]))
        candidates = w.VBox(rows)
        candidates.add_class("practice-candidates")
        self.check = w.Button(description="检查答案", button_style="primary")
        self.check.on_click(lambda _b: self.show_result())
        self.result = _html()
        self.result.add_class("practice-result")
        self.body.children = [_html(str(views.case_intro(self.case))), records,
                              _html("<h4>哪些问题确实存在？</h4>"), candidates, self.check, self.result]

    def ticked(self) -> list[str]:
        return [key for key, box in self.boxes.items() if box.value]

    def show_result(self):
        result = self.case.score(self.ticked())
        self.result.value = str(views.result_html(self.case, result))
        return result


def practice_widget(seed: int, problems: int = DEFAULT_PROBLEMS, profile=None):
    return PracticeWidget(seed, problems, profile).widget


# ---- checklists ------------------------------------------------------------------------------------------------------

class ChecklistWidget:
    """Pick a kind (and optionally the meeting date) → the checklist, with HTML and PDF downloads."""

    def __init__(self, kind: str = "regular", profile=None) -> None:
        from .checklists import file_stem

        self._stem = file_stem
        self.profile = profile
        self.kind = w.Dropdown(options=KIND_OPTIONS, value=kind, description="会议类型")
        self.date = w.DatePicker(value=None, description="会议日期")
        self.pdf = w.Button(description="生成 PDF", icon="file-pdf-o")
        self.pdf.on_click(lambda _b: self.make_pdf())
        self.links = _html()
        self.view = _html()
        for control in (self.kind, self.date):
            control.observe(lambda _change: self.update(), names="value")
        self.widget = w.VBox([w.HBox([self.kind, self.date, self.pdf]), self.links, self.view])
        self.widget.add_class("checklists")
        self.update()

    def update(self) -> None:
        from .checklists import checklist_document

        page = views.checklist_html(self.kind.value, self.profile, self.date.value)
        self.view.value = views.scoped(str(page))
        document = checklist_document(self.kind.value, self.profile, self.date.value).encode("utf-8")
        self.links.value = views.download_link(document, f"{self._stem(self.kind.value, self.date.value)}.html",
                                               "text/html", "下载清单（HTML）")

    def make_pdf(self) -> None:
        """Print with Chromium (html_to_pdf runs it off the kernel's asyncio loop)."""
        from .checklists import checklist_pdf_bytes

        self.pdf.disabled = True
        try:
            data = checklist_pdf_bytes(self.kind.value, self.profile, self.date.value)
            name = f"{self._stem(self.kind.value, self.date.value)}.pdf"
            self.links.value += " " + views.download_link(data, name, "application/pdf", "下载清单（PDF）")
        except Exception as error:  # no Chromium here: say so instead of a traceback in the page
            self.links.value += f" <span>PDF 生成失败：{html.escape(str(error))}</span>"
        finally:
            self.pdf.disabled = False


def checklist_widget(kind: str = "regular", profile=None):
    return ChecklistWidget(kind, profile).widget


__all__ = ["walkthrough_widget", "deadline_widget", "practice_widget", "checklist_widget", "DeadlineCalculator",
           "PracticeWidget", "ChecklistWidget", "PROCEDURES"]
