"""The exchange workbook in the browser: upload → the same all-or-nothing import as ``orglife import`` (every
problem listed in a table); export → a download link."""
from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Callable

import ipywidgets as w

from ..errors import OrglifeError
from ..present.html import esc, table
from ..workbook import ImportResult, export_store, import_file, problems_frame
from ..workbook.read import open_workbook
from .record import Scope
from .session import Session

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREFIX = "f-workbook"


class WorkbookPanel:
    def __init__(self, session: Session, scope: Scope, on_saved: Callable[[object], None] | None = None) -> None:
        self.session, self.scope = session, scope
        self.on_saved = on_saved or (lambda panel: None)
        self.upload = w.FileUpload(accept=".xlsx", multiple=False, description="选择工作簿")
        self.upload.add_class(f"{PREFIX}--upload")
        self.import_button = w.Button(description="导入", button_style="primary")
        self.import_button.add_class(f"{PREFIX}--import")
        self.import_button.on_click(lambda _: self.import_uploaded())
        self.result = w.HTML("")
        self.result.add_class(f"{PREFIX}--result")
        self.scope_choice = w.Dropdown(options=[("当前支部", "branch"), ("全部支部（本账号范围内）", "all")],
                                       value="branch",
                                       description="导出范围")
        self.scope_choice.add_class(f"{PREFIX}--scope")
        self.export_button = w.Button(description="生成导出文件")
        self.export_button.add_class(f"{PREFIX}--export")
        self.export_button.on_click(lambda _: self.export())
        self.link = w.HTML("")
        self.link.add_class(f"{PREFIX}--link")
        self.widget = w.VBox([
            w.HTML("<h3>导入交换工作簿</h3><p>整个文件校验通过才写入；有任何问题时逐条列出，不写入任何内容。</p>"),
            w.HBox([self.upload, self.import_button]), self.result,
            w.HTML("<h3>导出交换工作簿</h3>"), w.HBox([self.scope_choice, self.export_button]), self.link])
        self.widget.add_class(PREFIX)

    def refresh(self) -> None:
        pass  # nothing here depends on the page's choice until the buttons are pressed

    def import_uploaded(self) -> bool:
        if not self.upload.value:
            self.result.value = "<div class='f-bad'>请先选择一个 .xlsx 工作簿。</div>"
            return False
        item = self.upload.value[0]
        return self.import_bytes(item["name"], bytes(item["content"]))

    def import_bytes(self, name: str, content: bytes) -> bool:
        """Validate and store one workbook (all or nothing); show what was stored or every problem, and what was
        read that the user may not see (hidden sheets and rows)."""
        try:
            opened = open_workbook(content, name)  # the limits every workbook read meets (workbook/archive.py)
        except OrglifeError as error:
            result, notes = ImportResult(name, error=str(error)), ""
        else:
            result = import_file(opened, self.session.store, name=name)
            notes = "".join(f"<div class='f-note'>{esc(note)}</div>" for note in opened.notes)
        if result.error:
            self.result.value = f"<div class='f-bad'>{esc(name)}：{esc(result.error)}</div>"
        elif result.problems:
            self.result.value = (f"<div class='f-bad'>{esc(name)}：发现 {len(result.problems)} 个问题，"
                                 f"未写入任何内容。</div><div class='f-problems'>"
                                 f"{table(problems_frame(result.problems))}</div>{notes}")
        else:
            self.result.value = (f"<div class='f-ok'>{esc(name)}：已写入（{result.rows} 行）："
                                 f"{esc(result.summary.describe())}</div>{notes}")
            self.on_saved(self)
        return result.stored

    def export(self) -> bytes:
        """Write the export and offer it as a download link (the file never lands on the server's disk for long)."""
        branches = [self.scope.branch_id] if self.scope_choice.value == "branch" and self.scope.branch_id else None
        name = f"导出-{branches[0]}.xlsx" if branches else "导出-全部.xlsx"
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "export.xlsx"
            summary = export_store(path, db=self.session.store, branches=branches)  # the visitor's scope
            content = path.read_bytes()
        data = base64.b64encode(content).decode("ascii")
        self.link.value = (f"<p>{esc(summary)}</p><a class='f-download' download='{esc(name)}' "
                           f"href='data:{XLSX};base64,{data}'>下载 {esc(name)}</a>")
        return content
