"""Hostile or careless workbooks: each is stored whole or rejected whole with a Chinese reason, never a crash.

Cases that would crash or eat memory if the guard regressed (far cells, zip bombs) run in a child process under
RLIMIT_AS, so a regression fails the test (rc 134 / MemoryError) instead of killing pytest or the machine.
Workbooks are written with openpyxl; where openpyxl cannot produce the case, the sheet XML is edited in the zip.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import random
import re
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl.utils.cell import column_index_from_string

from orglife_nb.forms import Scope, Session, WorkbookPanel
from orglife_nb.models import DATE_MAX, DATE_MIN, MAX_TEXT, Attendance, CellError, Meeting, Member, field_of
from orglife_nb.store import Store
from orglife_nb.workbook import import_file, read_workbook
from orglife_nb.workbook.read import FORMULA_WHY, MERGED_WHY, open_workbook
from orglife_nb.workbook.archive import MAX_CELLS, MAX_FILE_BYTES, MAX_MEMBERS, MAX_ROWS

from test_workbook import base_sheets, content, run, save_xlsx, set_cell

MEMORY_LIMIT = 2 * 2**30  # a child may use this much address space; the far cell alone would ask for 512 GB
SHEETS = list(base_sheets())  # openpyxl writes sheet i (1-based, in this order) as xl/worksheets/sheet{i}.xml


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def orglife(*args, timeout: int = 300) -> subprocess.CompletedProcess:
    """``orglife ARGS`` in a child process with bounded memory."""
    return subprocess.run([sys.executable, "-m", "orglife_nb.cli", *map(str, args)], capture_output=True,
                          text=True, preexec_fn=_limit_memory, timeout=timeout)


def edit_sheet(path: Path, sheet: str, edit) -> Path:
    """Rewrite one sheet's XML inside the .xlsx with ``edit(xml text) -> xml text``."""
    member = f"xl/worksheets/sheet{SHEETS.index(sheet) + 1}.xml"
    with zipfile.ZipFile(path) as archive:
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts:
            archive.writestr(info, edit(data.decode("utf-8")).encode("utf-8") if info.filename == member else data)
    return path


def far_cell(path: Path, ref: str, sheet: str = "会议", r_last: bool = False) -> Path:
    """Append a cell at ``ref``; ``r_last``: with its r= after the other attributes (legal, unusual)."""
    row = re.match(r"[A-Z]+(\d+)", ref).group(1)
    attributes = f't="inlineStr" r="{ref}"' if r_last else f'r="{ref}" t="inlineStr"'
    cell = f'<row r="{row}"><c {attributes}><is><t>远处</t></is></c></row>'
    return edit_sheet(path, sheet, lambda xml: xml.replace("</sheetData>", cell + "</sheetData>"))


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def prefixed(xml: str) -> str:
    """Every element with a prefix (``<x:row>``, ``<x:c>``), as some writers do."""
    xml = re.sub(r"<(/?)([A-Za-z][\w.-]*)(?=[\s>/])", r"<\1x:\2", xml)
    return xml.replace(f'xmlns="{MAIN_NS}"', f'xmlns:x="{MAIN_NS}"', 1)


def default_namespaced(xml: str) -> str:
    """Prefixed elements outside the cells; <sheetData> declares the namespace again as its default."""
    xml = prefixed(xml)
    start, end = xml.index("<x:sheetData"), xml.index("</x:sheetData>") + len("</x:sheetData>")
    data = xml[start:end].replace("<x:", "<").replace("</x:", "</")
    return xml[:start] + data.replace("<sheetData", f'<sheetData xmlns="{MAIN_NS}"', 1) + xml[end:]


def by_order(xml: str) -> str:
    """r="…" left out of every row and cell that sits where it would be without one (the row after the row
    before; the cell after the cell before in its row); a cell after a gap keeps its r="…"."""
    at = {"row": 0, "column": 0}

    def strip(match: re.Match) -> str:
        tag, letters, digits = match.groups()
        if tag == "row":
            follows = int(digits) == at["row"] + 1
            at["row"], at["column"] = int(digits), 0
        else:
            column = column_index_from_string(letters)
            follows = column == at["column"] + 1 and int(digits) == at["row"]
            at["column"] = column
        return f"<{tag}" if follows else match.group(0)

    return re.sub(r'<(row|c) r="([A-Z]*)(\d+)"', strip, xml)


XML_VARIANTS = {"prefixed": prefixed, "default": default_namespaced, "by_order": by_order}


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("错误：")
    return lines[0]


@pytest.fixture
def stored(tmp_path, sqlite_url, capsys):
    """A SQLite store holding the base workbook; returns its URL."""
    assert run(capsys, "import", save_xlsx(tmp_path / "base.xlsx", base_sheets()), "--db", sqlite_url)[0] == 0
    return sqlite_url


# ---------------------------------------------------------------------------------------------------------------
# 3. Far cells and zip bombs: refused before calamine allocates (import, check FILE, the forms' upload)


@pytest.mark.parametrize("ref, why", [("XFD1048576", f"超过每表 {MAX_ROWS:,} 行的上限"),
                                      ("XFD5", "超过每表 256 列"),
                                      ("Z1048576", f"超过每表 {MAX_ROWS:,} 行的上限"),
                                      ("Z400000", f"超过每表 {MAX_CELLS:,} 个的上限")])
def test_far_cell_is_refused_by_import_and_check_in_a_bounded_child(tmp_path, stored, ref, why):
    path = far_cell(save_xlsx(tmp_path / "far.xlsx", base_sheets()), ref)
    before = content(stored, store_columns=True)
    for args in (["import", path, "--db", stored], ["check", path]):
        result = orglife(*args)
        assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
        line = one_error_line(result.stderr)
        assert "far.xlsx" in line and "“会议”" in line and ref in line and why in line
    assert content(stored, store_columns=True) == before


@pytest.mark.parametrize("variant", list(XML_VARIANTS))
def test_far_cell_in_namespace_variants_is_refused_in_a_bounded_child(tmp_path, stored, variant):
    """calamine reads <x:c> as a cell and places a cell without r="…" by order; the check before it must too
    (a prefixed far cell used to pass unseen and calamine asked for 512 GB)."""
    path = far_cell(save_xlsx(tmp_path / "far.xlsx", base_sheets()), "XFD1048576")
    edit_sheet(path, "会议", XML_VARIANTS[variant])
    before = content(stored, store_columns=True)
    result = orglife("import", path, "--db", stored)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    line = one_error_line(result.stderr)
    assert "“会议”" in line and "XFD1048576" in line and f"超过每表 {MAX_ROWS:,} 行的上限" in line
    assert content(stored, store_columns=True) == before


def test_a_cell_far_by_order_is_refused(tmp_path):
    """300 cells without r="…" in one row reach column 300 (KN): the cell is named where calamine would put it."""
    row = "<x:row>" + "<x:c/>" * 299 + '<x:c t="inlineStr"><x:is><x:t>远处</x:t></x:is></x:c></x:row>'
    path = edit_sheet(save_xlsx(tmp_path / "far.xlsx", base_sheets()), "会议",
                      lambda xml: prefixed(by_order(xml)).replace("</x:sheetData>", row + "</x:sheetData>"))
    result = orglife("check", path)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    line = one_error_line(result.stderr)
    assert "“会议”用到第 300 列（单元格 KN4）" in line and "超过每表 256 列" in line


def test_namespace_variants_read_like_the_plain_sheet(tmp_path):
    """The same values, formulas without results, merged ranges and hidden rows whatever the XML's form."""
    base = save_xlsx(tmp_path / "plain.xlsx", base_sheets())
    book = openpyxl.load_workbook(base)
    book["会议"].merge_cells("F2:F3")
    book["会议"]["G3"] = "=TODAY()"
    book["会议"].row_dimensions[3].hidden = True
    book.save(base)
    plain = read_workbook(base)
    assert {p.why for p in plain[1]} >= {MERGED_WHY, FORMULA_WHY}
    for name, variant in XML_VARIANTS.items():
        path = edit_sheet(shutil.copy(base, tmp_path / f"{name}.xlsx"), "会议", variant)
        batch, problems = read_workbook(path)
        assert [p.line() for p in problems] == [p.line() for p in plain[1]], name
        assert batch[Meeting].equals(plain[0][Meeting]), name
        opened = open_workbook(path)
        assert opened.inspection.sheets["会议"].hidden_rows == [3], name


def test_far_cell_is_found_whatever_the_order_of_its_attributes(tmp_path):
    path = far_cell(save_xlsx(tmp_path / "far.xlsx", base_sheets()), "XFD1048576", "出席", r_last=True)
    result = orglife("check", path)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "“出席”" in one_error_line(result.stderr) and "XFD1048576" in result.stderr


def test_far_cell_is_refused_by_the_forms_upload_in_a_bounded_child(tmp_path, stored):
    path = far_cell(save_xlsx(tmp_path / "far.xlsx", base_sheets()), "XFD1048576")
    script = textwrap.dedent(f"""
        from pathlib import Path
        from orglife_nb.forms import Scope, Session, WorkbookPanel
        session = Session({stored!r})
        panel = WorkbookPanel(session, Scope(branch_id="001"))
        print(panel.import_bytes("far.xlsx", Path({str(path)!r}).read_bytes()))
        print(panel.result.value)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            preexec_fn=_limit_memory, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    ok, html = result.stdout.split("\n", 1)
    assert ok == "False" and "XFD1048576" in html and "f-bad" in html


def test_zip_bomb_is_refused_before_it_is_inflated(tmp_path, stored):
    path = save_xlsx(tmp_path / "bomb.xlsx", base_sheets())
    filler = "<row><c/></row>" * (40 * 2**20 // 15)  # 40 MB of XML that deflates about 1000:1
    edit_sheet(path, "学习", lambda xml: xml.replace("</sheetData>", filler + "</sheetData>"))
    assert path.stat().st_size < 1 * 2**20
    result = orglife("import", path, "--db", stored)
    assert result.returncode == 2
    line = one_error_line(result.stderr)
    assert "压缩比异常" in line and "疑为压缩炸弹" in line


def test_a_part_larger_than_its_header_declares_is_refused(tmp_path, capsys):
    """A zip header may understate a part's size (to slip past the limits): the streaming check stops at the
    declared size and the CRC fails."""
    path = save_xlsx(tmp_path / "lying.xlsx", base_sheets())
    data = bytearray(path.read_bytes())
    name = f"xl/worksheets/sheet{SHEETS.index('会议') + 1}.xml".encode()
    # the uncompressed size sits at byte 22 of a local header (name at 30), at 24 of a central one (name at 46)
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = data.find(signature)
        while start >= 0:
            if data[start + name_at:start + name_at + len(name)] == name:
                struct.pack_into("<I", data, start + size_at, 100)
            start = data.find(signature, start + 1)
    path.write_bytes(bytes(data))
    code, _, err = run(capsys, "check", path)
    assert code == 2 and "已损坏，或解压后的大小与声明不符" in one_error_line(err)


def test_oversized_file_and_too_many_parts_are_refused(tmp_path, capsys):
    big = tmp_path / "big.xlsx"
    with big.open("wb") as out:
        out.truncate(MAX_FILE_BYTES + 1)  # sparse: the size is refused before anything is read
    code, _, err = run(capsys, "import", big, "--db", tmp_path / "s.db")
    assert code == 2 and "文件过大" in one_error_line(err)
    many = save_xlsx(tmp_path / "many.xlsx", base_sheets())
    with zipfile.ZipFile(many, "a") as archive:
        for i in range(MAX_MEMBERS):
            archive.writestr(f"customXml/item{i}.xml", "<a/>")
    code, _, err = run(capsys, "import", many, "--db", tmp_path / "s.db")
    assert code == 2 and "超过上限 1,000" in one_error_line(err)


def test_an_encrypted_workbook_says_so(tmp_path, capsys):
    path = tmp_path / "secret.xlsx"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 600)
    code, _, err = run(capsys, "check", path)
    assert code == 2 and "密码保护" in one_error_line(err)


# ---------------------------------------------------------------------------------------------------------------
# 6. Silent data loss becomes a named problem


def test_formula_without_cached_value_is_a_problem_not_an_erased_topic(tmp_path, stored, capsys):
    sheets = base_sheets()
    set_cell(sheets, "会议", 2, "主题", '="主题"&"一"')  # openpyxl writes formulas without a cached value
    set_cell(sheets, "会议", 3, "时长(小时)", "=2*2")
    before = content(stored, store_columns=True)
    code, out, _ = run(capsys, "import", save_xlsx(tmp_path / "formula.xlsx", sheets), "--db", stored)
    assert code == 2 and "发现 2 个问题" in out
    assert "会议 · 第 2 行 · 主题 · （空） · 公式没有计算结果" in out
    assert "会议 · 第 3 行 · 时长(小时) · （空） · 公式没有计算结果" in out
    assert content(stored, store_columns=True) == before


def test_formula_with_cached_value_is_read(tmp_path):
    path = save_xlsx(tmp_path / "cached.xlsx", base_sheets())
    edit_sheet(path, "会议", lambda xml: re.sub(r'<c r="F2"[^>]*>.*?</c>',
                                                '<c r="F2" t="str"><f>"主题"&amp;"一"</f><v>主题一</v></c>', xml))
    batch, problems = read_workbook(path)
    assert problems == [] and batch[Meeting].topic.iloc[0] == "主题一"


def test_merged_cells_over_data_rows_are_a_problem_naming_the_range(tmp_path):
    path = tmp_path / "merged.xlsx"
    save_xlsx(path, base_sheets())
    book = openpyxl.load_workbook(path)
    book["会议"].merge_cells("I2:I3")  # 地点 of both meetings
    book["支部"].insert_rows(1)
    book["支部"]["A1"] = "支部台账"
    book["支部"].merge_cells("A1:F1")  # a title above the header: harmless
    book.save(path)
    _, problems = read_workbook(path)
    assert [p.line() for p in problems] == [
        "会议 · 第 2 行 · 地点 · “I2:I3” · 合并单元格：只有左上角的格子有值，其余格子会被读成空；请取消合并，每行填写完整后再导入"]


def test_hidden_rows_and_sheets_are_read_and_said_in_the_summary(tmp_path, sqlite_url, capsys):
    path = tmp_path / "hidden.xlsx"
    save_xlsx(path, base_sheets())
    book = openpyxl.load_workbook(path)
    for row in (3, 4):
        book["党员"].row_dimensions[row].hidden = True
    book["批评"].sheet_state = "hidden"
    book.save(path)
    code, out, _ = run(capsys, "import", path, "--db", sqlite_url)
    assert code == 0, out
    assert "  注意：工作表“党员”有 2 行被隐藏（第 3、4 行），已一并读取" in out
    assert "  注意：工作表“批评”是隐藏的工作表，已一并读取" in out
    with Store(sqlite_url) as store:
        assert len(store.read(Member)) == 5


def test_hidden_rows_are_said_on_the_forms_upload_page(tmp_path, stored):
    path = tmp_path / "hidden.xlsx"
    save_xlsx(path, base_sheets())
    book = openpyxl.load_workbook(path)
    book["会议"].row_dimensions[3].hidden = True
    out = io.BytesIO()
    book.save(out)
    session = Session(stored)
    try:
        panel = WorkbookPanel(session, Scope(branch_id="001"))
        assert panel.import_bytes("hidden.xlsx", out.getvalue())
    finally:
        session.close()
    assert "注意：工作表“会议”有 1 行被隐藏（第 3 行），已一并读取" in panel.result.value


def long_text(path: Path, ref: str, length: int, sheet: str = "会议", varied: bool = False) -> Path:
    """Put ``length`` characters into one cell (openpyxl itself would cut them at Excel's limit); ``varied``:
    random CJK characters, which do not deflate like a zip bomb."""
    text = "".join(random.Random(1).choices([chr(c) for c in range(0x4E00, 0x9FA5)], k=length)) if varied \
        else "长" * length
    cell = f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
    return edit_sheet(path, sheet, lambda xml: re.sub(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', cell, xml, count=1))


def test_text_beyond_excels_cell_limit_is_a_problem_not_cut_on_export(tmp_path, stored, capsys):
    before = content(stored, store_columns=True)
    path = long_text(save_xlsx(tmp_path / "long.xlsx", base_sheets()), "F2", MAX_TEXT + 1)
    long_text(path, "I3", 10 * 2**20, varied=True)  # a 10 MB 地点
    code, out, _ = run(capsys, "import", path, "--db", stored)
    assert code == 2 and "发现 2 个问题" in out
    assert f"会议 · 第 2 行 · 主题 · “{'长' * 60}…” · 文字过长：{MAX_TEXT + 1:,} 个字符" in out
    assert len(out) < 2000  # the cells are quoted by their start
    assert f"文字过长：{10 * 2**20:,} 个字符，超过 Excel 单元格上限 32,767 个字符" in out
    assert content(stored, store_columns=True) == before


@pytest.mark.parametrize("header, value, why", [
    ("时长(小时)", "inf", "不能是无穷大或 NaN"),
    ("时长(小时)", "nan", "不能是无穷大或 NaN"),
    ("时长(小时)", 5000, "数值过大"),
    ("时长(小时)", -1, "不能为负数"),
    ("召开日期", dt.date(9999, 12, 31), "日期超出允许范围（1921-07-01 至 2100-12-31）"),
    ("召开日期", "0001-01-01", "日期超出允许范围"),
    ("通知日期", dt.date(1921, 6, 30), "日期超出允许范围"),
    ("年度", "99999999999999999999", "超出允许范围（1921 至 2100）"),
    ("年度", 2**63 - 1, "超出允许范围（1921 至 2100）"),
])
def test_values_that_would_break_later_commands_are_problems_on_both_stores(wb_factory, db_url, capsys, header,
                                                                             value, why):
    assert run(capsys, "import", wb_factory(base_sheets()), "--db", db_url)[0] == 0
    before = content(db_url, store_columns=True)
    sheets = base_sheets()
    set_cell(sheets, "会议", 2, header, value)
    code, out, err = run(capsys, "import", wb_factory(sheets), "--db", db_url)
    assert code == 2 and "Traceback" not in out + err
    problem = [line for line in out.splitlines() if line.startswith("  会议 · 第 2 行")]
    assert len(problem) == 1 and f"· {header} ·" in problem[0] and why in problem[0], out
    assert content(db_url, store_columns=True) == before


def test_the_range_edges_are_accepted(tmp_path):
    sheets = base_sheets()
    set_cell(sheets, "会议", 2, "召开日期", DATE_MIN)
    set_cell(sheets, "会议", 3, "召开日期", DATE_MAX)
    set_cell(sheets, "会议", 2, "年度", 1921)
    set_cell(sheets, "会议", 3, "年度", "2100年")
    batch, problems = read_workbook(long_text(save_xlsx(tmp_path / "edges.xlsx", sheets), "F2", MAX_TEXT))
    assert problems == []
    assert list(batch[Meeting].date) == [DATE_MIN, DATE_MAX] and list(batch[Meeting].year) == [1921, 2100]
    assert len(batch[Meeting].topic.iloc[0]) == MAX_TEXT


@pytest.fixture
def wb_factory(tmp_path):
    counter = iter(range(1000))
    return lambda sheets: save_xlsx(tmp_path / f"w{next(counter)}.xlsx", sheets)


# ---------------------------------------------------------------------------------------------------------------
# Tracebacks of the CLI's date and year options → one Chinese line, exit 2


@pytest.mark.parametrize("args", [
    ["check", "--as-of", "9999-12-31"], ["status", "--as-of", "0001-01-01"], ["report", "--as-of", "9999-12-31"],
    ["docs", "--meeting", "G1", "--as-of", "9999-12-31"], ["check", "--year", "99999"], ["check", "--year", "-1"],
    ["check", "--year", "99999999999999999999"], ["deadlines", "--kind", "regular", "--date", "9999-12-31"],
    ["deadlines", "--kind", "regular", "--date", "1900-01-01"],
])
def test_out_of_range_dates_and_years_on_the_command_line(stored, capsys, args):
    extra = [] if args[0] == "deadlines" else ["--db", stored]
    code, out, err = run(capsys, *args, *extra)
    assert code == 2 and out == ""
    line = one_error_line(err)
    assert "超出允许范围" in line and args[-1] in line


# ---------------------------------------------------------------------------------------------------------------
# 5. Records do not move between branches; one command's files do not overwrite each other's new ids


def test_reimporting_a_member_or_meeting_into_another_branch_is_a_problem(tmp_path, stored, capsys):
    before = content(stored, store_columns=True)
    sheets = base_sheets()
    set_cell(sheets, "党员", 3, "支部编号", "002")  # M002 of 001
    set_cell(sheets, "会议", 2, "支部编号", "002")  # G1 of 001
    code, out, _ = run(capsys, "import", save_xlsx(tmp_path / "move.xlsx", sheets), "--db", stored)
    assert code == 2
    assert "党员 · 第 3 行 · 支部编号 · “002” · 该党员（M002）在数据库中属于支部 001，不能改到支部 002" in out
    assert "会议 · 第 2 行 · 支部编号 · “002” · 该会议（G1）在数据库中属于支部 001，不能改到支部 002" in out
    assert content(stored, store_columns=True) == before


def test_the_same_new_id_in_two_files_of_one_command_rejects_the_second(tmp_path, stored, capsys):
    header = base_sheets()["党员"][0]
    first = save_xlsx(tmp_path / "甲.xlsx", {"党员": [header, ["M009", "001", "新党员甲", "党员", None, None, None, None]]})
    second = save_xlsx(tmp_path / "乙.xlsx", {"党员": [header, ["M009", "001", "新党员乙", "党员", None, None, None, None],
                                                    ["M003", "001", "王党员", "党员", "正式党员", "否", "否", "流动"]]})
    code, out, _ = run(capsys, "import", first, second, "--db", stored)
    assert code == 2
    assert "甲.xlsx：已写入" in out
    assert "乙.xlsx：发现 1 个问题" in out
    assert "党员 · 第 2 行 · 党员编号 · “M009” · 同一次导入的文件“甲.xlsx”已新增这个编号" in out
    with Store(stored) as store:
        member = store.read(Member).set_index("member_id").loc["M009"]
    assert (member["name"], member["branch_id"]) == ("新党员甲", "001")
    # ids already stored before the command may appear in several files (each file updates them)
    third = save_xlsx(tmp_path / "丙.xlsx", {"党员": [header, ["M003", "001", "王党员", "党员", "正式党员", "否", "否", "流动"]]})
    code, out, _ = run(capsys, "import", third, third, "--db", stored)
    assert code == 0, out


# ---------------------------------------------------------------------------------------------------------------
# 8. Look-alike ids are the same id


LOOK_ALIKES = ["M\u200d001", "\ufeffM001", "Ｍ００１", "M001\u200f", "\u202bM001\u202c", " M001\u3000"]


def test_look_alike_ids_are_normalised_in_id_and_reference_columns(tmp_path, stored, capsys):
    sheets = base_sheets()
    for row, look_alike in enumerate(LOOK_ALIKES[:2], start=2):
        set_cell(sheets, "出席", row, "党员编号", look_alike)
    set_cell(sheets, "党员", 2, "党员编号", LOOK_ALIKES[2])
    set_cell(sheets, "会议", 2, "主持人", LOOK_ALIKES[3])
    set_cell(sheets, "谈心谈话", 2, "谈话人", LOOK_ALIKES[4])
    set_cell(sheets, "批评", 2, "发言人", LOOK_ALIKES[5])
    set_cell(sheets, "支部", 2, "支部编号", "００１")
    # rows 2 and 3 of 出席 are one row once normalised: M001 twice in G1's attendance
    code, out, _ = run(capsys, "import", save_xlsx(tmp_path / "twice.xlsx", sheets), "--db", stored)
    assert code == 2 and "出席 · 第 3 行 · 会议编号 · “G1” · 与第 2 行完全相同" in out, out
    set_cell(sheets, "出席", 3, "出席情况", "请假")
    code, out, _ = run(capsys, "import", save_xlsx(tmp_path / "alike.xlsx", sheets), "--db", stored)
    assert code == 0, out
    with Store(stored) as store:
        assert sorted(store.read(Member).member_id) == ["M001", "M002", "M003", "M101", "M102"]
        assert sorted(store.read(Attendance).member_id) == ["M001", "M001", "M003", "M101", "M102"]
        assert store.read(Meeting).set_index("meeting_id").loc["G1", "host_id"] == "M001"


def test_the_forms_fields_share_the_normalisation():
    spec = field_of(Attendance, "member_id")
    assert [spec.parse(v) for v in LOOK_ALIKES] == ["M001"] * len(LOOK_ALIKES)
    with pytest.raises(CellError, match="含有控制字符"):  # invisible, but not a format character: refused
        spec.parse("M0\x0701")
    with pytest.raises(CellError, match="只有不可见字符"):
        spec.parse("\u200d\ufeff")


# ---------------------------------------------------------------------------------------------------------------
# The property: any workbook built on the valid base is stored whole or rejected whole, never a crash, in bounded
# memory. Examples are imported by a worker child process under RLIMIT_AS (one process for all examples).

WORKER = textwrap.dedent("""
    import json, sys, traceback
    from orglife_nb.store import Store
    from orglife_nb.workbook import import_file
    for line in sys.stdin:
        path, url = json.loads(line)
        try:
            with Store(url) as store:
                result = import_file(path, store)
            reply = {"stored": result.stored, "error": result.error, "problems": [p.line() for p in result.problems]}
        except BaseException:
            reply = {"exception": traceback.format_exc()}
        print(json.dumps(reply), flush=True)
""")

# the cells an example may change: 会议 rows of G1 and G2 (Excel rows 2, 3), columns of every kind
TARGETS = ["主题", "地点", "时长(小时)", "通知日期", "合并召开", "年度", "会议小结", "主持人"]
ODD_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cn"),
                                 include_characters="\u200d\ufeff\u200f\u202e\u3000\uff10"), max_size=30)
VALUES = st.one_of(
    ODD_TEXT, st.integers(-2**70, 2**70), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)),
    st.sampled_from(["inf", "-inf", "nan", "=1+1", "=A1", "0001-01-01", "9999-12-31", "2026年6月1日", "是", "否",
                     "M001", "Ｍ００１", "M\u200d101"]),
    st.none())
LAYOUTS = st.fixed_dictionaries({
    "merge": st.sampled_from([None, None, None, "F2:F3", "A5:C5", "K2:L2"]),
    "hide_row": st.sampled_from([None, 2, 3]),
    "hide_sheet": st.sampled_from([None, "hidden", "veryHidden"]),
    "far": st.sampled_from([None, None, None, "AB7", "IV10", "XFD1048576", "Z1048576"]),
    "long": st.sampled_from([None, MAX_TEXT, MAX_TEXT + 1]),  # characters in G1's 会议小结 (column N)
    "xml": st.sampled_from([None, None, *XML_VARIANTS]),  # the form of the 会议 and 学习 sheets' XML
})


@pytest.fixture(scope="module")
def worker():
    process = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, preexec_fn=_limit_memory)
    yield process
    process.stdin.close()
    process.wait(timeout=60)


@pytest.fixture(scope="module")
def base_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("base")
    url = f"sqlite:///{folder / 'base.db'}"
    with Store(url) as store:
        assert import_file(save_xlsx(folder / "base.xlsx", base_sheets()), store).stored
    return folder / "base.db"


def _expected(header: str, value):
    """What the parser makes of a value, or the problem it is (None when the value is valid)."""
    spec = field_of(Meeting, {"主题": "topic", "地点": "place", "时长(小时)": "hours", "通知日期": "notice_date",
                              "合并召开": "merged", "年度": "year", "会议小结": "summary", "主持人": "host_id"}[header])
    if isinstance(value, str) and value.startswith("="):
        return spec, "formula"
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value)  # a number in a cell is a double (Excel keeps 15 digits)
    try:
        parsed = spec.parse(value)
    except CellError:
        return spec, "bad"
    return spec, parsed


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(st.sampled_from([2, 3]), st.sampled_from(TARGETS), VALUES), max_size=3),
       layout=LAYOUTS)
def test_any_workbook_is_stored_whole_or_rejected_whole(worker, base_store, changes, layout):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        url = f"sqlite:///{folder / 'store.db'}"
        shutil.copy(base_store, folder / "store.db")
        sheets = base_sheets()
        final = {}
        for row, header, value in changes:
            set_cell(sheets, "会议", row, header, value)
            final[(row, header)] = value
        path = save_xlsx(folder / "example.xlsx", sheets)
        if any(layout.values()):
            book = openpyxl.load_workbook(path)
            if layout["merge"]:
                book["会议"].merge_cells(layout["merge"])
            if layout["hide_row"]:
                book["党员"].row_dimensions[layout["hide_row"]].hidden = True
            if layout["hide_sheet"]:
                book["批评"].sheet_state = layout["hide_sheet"]
            book.save(path)
            if layout["long"]:
                long_text(path, "N2", layout["long"])
                final[(2, "会议小结")] = "长" * layout["long"]
            if layout["xml"] == "by_order":  # before the far cell, which keeps its r="…"
                for sheet in ("会议", "学习"):
                    edit_sheet(path, sheet, by_order)
            if layout["far"]:
                far_cell(path, layout["far"], "学习")
            if layout["xml"] in ("prefixed", "default"):
                for sheet in ("会议", "学习"):
                    edit_sheet(path, sheet, XML_VARIANTS[layout["xml"]])
        before = content(url, store_columns=True)
        worker.stdin.write(json.dumps([str(path), url]) + "\n")
        worker.stdin.flush()
        line = worker.stdout.readline()
        assert line, f"the worker died (memory limit or crash): {worker.stderr.read()[-3000:]}"
        reply = json.loads(line)
        assert "exception" not in reply, reply.get("exception")

        rejected_for = []
        if layout["far"] in ("XFD1048576", "Z1048576"):
            rejected_for.append("far")
        if layout["merge"] in ("F2:F3", "K2:L2"):
            rejected_for.append("merge")
        expected = {}
        for (row, header), value in final.items():
            spec, parsed = _expected(header, value)
            if parsed in ("formula", "bad"):
                rejected_for.append(parsed)
            elif header == "主持人" and parsed not in (None, {2: "M001", 3: "M101"}[row]):
                rejected_for.append("reference")
            else:
                expected[(row, spec.name)] = parsed
        event("rejected: " + ", ".join(sorted(set(rejected_for))) if rejected_for else "stored")
        event(f"sheet XML: {layout['xml'] or 'plain'}")
        if rejected_for:
            assert not reply["stored"], (rejected_for, reply)
            assert reply["error"] or reply["problems"]
            assert content(url, store_columns=True) == before  # rejected whole: nothing changed
            if "far" in rejected_for:
                assert "超过每表" in reply["error"]
            return
        assert reply["stored"], reply
        with Store(url) as store:
            meetings = store.read(Meeting).set_index("meeting_id")
        for (row, name), parsed in expected.items():
            stored = meetings.loc[{2: "G1", 3: "G2"}[row], name]
            stored = None if stored is None or stored != stored else stored
            if name == "merged" and stored is not None:
                stored = bool(stored)
            assert stored == parsed, (row, name, parsed, stored)


@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(value=VALUES, far=st.sampled_from([None, "XFD1048576"]))
def test_the_command_never_shows_a_traceback(base_store, value, far):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        shutil.copy(base_store, folder / "store.db")
        sheets = base_sheets()
        set_cell(sheets, "会议", 2, "主题", value)
        path = save_xlsx(folder / "example.xlsx", sheets)
        if far:
            far_cell(path, far)
        result = orglife("import", path, "--db", folder / "store.db")
        assert result.returncode in (0, 2) and "Traceback" not in result.stdout + result.stderr, result
        if far:
            assert result.returncode == 2 and far in one_error_line(result.stderr)
