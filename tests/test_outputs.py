"""Where output goes: every command that writes a file refuses an unusable target with one Chinese line (exit 2,
no traceback, no "Exception ignored" noise) and never leaves a half-written file; every CSV is safe to open in
Excel/WPS (no formula injection)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orglife_nb import outputs
from orglife_nb.errors import OrglifeError

MEETING = "B001-2025-R1"


def orglife(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["orglife", *argv], capture_output=True, text=True, timeout=300, cwd=cwd)


def _commands(db: str, target: str) -> dict[str, list[str]]:
    return {
        "check": ["check", "--db", db, "--format", "csv", "--out", target],
        "export": ["export", target, "--db", db],
        "template": ["template", target],
        "deadlines": ["deadlines", "--kind", "regular", "--date", "2026-07-01", "--format", "ics", "--out", target],
        "report": ["report", "--db", db, "--out", target, "--branch", "B001"],
        "docs": ["docs", "--db", db, "--meeting", MEETING, "--out", target],
        "training": ["training", "--checklists", target, "--no-pdf"],
        "demo": ["demo", "--out", target, "--no-reports"],
    }


FILE_COMMANDS = ("check", "export", "template", "deadlines")
BAD_TARGETS = [
    # (target, expected reason, commands it applies to)
    ("{tmp}/missing/x.out", "目录不存在", FILE_COMMANDS),
    ("/dev/null/x", "路径中有一段不是目录", FILE_COMMANDS + ("report", "docs", "training", "demo")),
    ("/dev/full", "磁盘空间不足", FILE_COMMANDS),
    ("/sys/orglife-x.out", "没有写入权限", ("check", "template")),  # refused even to root
    ("{tmp}/a-file/x", "路径中有一段不是目录", ("report", "docs", "training")),
]


def test_a_directory_where_a_file_should_go_is_one_chinese_line(tmp_path):
    result = orglife("template", str(tmp_path))
    assert result.returncode == 2 and result.stderr == f"错误：out 的值无效：{tmp_path} 是目录，不是文件\n"
CASES = [pytest.param(command, target, why, id=f"{command}:{target.split('/')[-2]}")
         for target, why, commands in BAD_TARGETS for command in commands]


@pytest.mark.parametrize("command, target, why", CASES)
def test_an_unusable_output_is_one_chinese_line(demo_store, tmp_path, command, target, why):
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    target = target.format(tmp=tmp_path)
    result = orglife(*_commands(demo_store, target)[command], cwd=tmp_path)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert lines and lines[-1] == f"错误：无法写入 {target}：{why}", result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert len(lines) == 1 or command == "docs", result.stderr  # docs may first say which document it leaves out
    assert not list(tmp_path.rglob("*.part")) and not (tmp_path / "missing").exists()


def test_a_special_file_is_written_in_place(demo_store, tmp_path):
    """/dev/stdout is a device: written into, never renamed over (which would replace the device node)."""
    result = orglife("check", "--db", demo_store, "--format", "csv", "--out", "/dev/stdout", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("\ufeff支部编号,支部名称,会议编号")


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    target = tmp_path / "report.csv"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(OrglifeError, match="无法写入 .*report.csv：磁盘空间不足"):
        with outputs.replacing(target) as temp:
            temp.write_text("half", encoding="utf-8")
            raise OSError(28, "No space left on device")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]
    outputs.write_text(target, "new")
    plain = tmp_path / "plain"
    plain.write_text("x", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "new"
    assert target.stat().st_mode == plain.stat().st_mode  # an ordinary file's permissions, not mkstemp's 0600


# ---- CSV: formula injection -----------------------------------------------------------------------------------

DANGEROUS = list(outputs.FORMULA_START)


def _csv_rows(text: str) -> list[list[str]]:
    import csv
    import io

    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _assert_safe(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell or cell[0] not in outputs.FORMULA_START, (cell, row)


@pytest.fixture
def hostile_store(tmp_path, demo_store):
    """The demo store with member and branch names that a spreadsheet would read as formulas."""
    import shutil

    from sqlalchemy import text

    from orglife_nb.store import Store

    path = tmp_path / "hostile.db"
    shutil.copy(demo_store.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    with Store(url) as store, store.transaction() as connection:
        ids = [row[0] for row in connection.execute(text("select member_id from members order by member_id"))]
        for position, member in enumerate(ids):
            name = DANGEROUS[position % len(DANGEROUS)] + f"HYPERLINK(\"http://x.invalid\",\"{member}\")"
            connection.execute(text("update members set name = :n where member_id = :m"), {"n": name, "m": member})
        connection.execute(text("update branches set name = '=1+1' || branch_id"))
    return url


def test_check_csv_neutralises_every_formula_start(hostile_store, tmp_path):
    out = tmp_path / "findings.csv"
    result = orglife("check", "--db", hostile_store, "--as-of", "2026-07-15", "--format", "csv", "--out", str(out))
    assert result.returncode == 0, result.stderr
    header, *rows = _csv_rows(out.read_bytes().decode("utf-8"))  # bytes: keep a \r inside a cell
    _assert_safe([header, *rows])
    names = {row[header.index("对象")] for row in rows} | {row[header.index("支部名称")] for row in rows}
    for char in DANGEROUS:  # every dangerous start reached the CSV, each behind a quote
        assert any(name.startswith("'" + char + "HYPERLINK") for name in names), repr(char)
    assert any(name.startswith("'=1+1B") for name in names)
    days = [row[header.index("逾期天数")] for row in rows if row[header.index("逾期天数")]]
    assert days and all(day.isdigit() for day in days)  # numbers are numbers, not quoted text


def test_check_xlsx_holds_no_formula(hostile_store, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "findings.xlsx"
    result = orglife("check", "--db", hostile_store, "--as-of", "2026-07-15", "--format", "xlsx", "--out", str(out))
    assert result.returncode == 0, result.stderr
    cells = [cell for row in load_workbook(out).active.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert any(isinstance(cell.value, str) and cell.value.startswith("=HYPERLINK") for cell in cells)


def test_the_report_manifest_csv_is_neutralised(tmp_path):
    from orglife_nb.reports import runner

    outcomes = [runner.Outcome(key=char + "B1", status="failed", seconds=1.5, error=char + "cmd|' /C calc'!A0")
                for char in DANGEROUS]
    runner.write_manifest(tmp_path, outcomes, runner.Outcome("summary", "done", seconds=2.25))
    header, *rows = _csv_rows((tmp_path / "manifest.csv").read_bytes().decode("utf-8"))
    _assert_safe([header, *rows])
    assert [row[0] for row in rows] == ["'" + char + "B1" for char in DANGEROUS] + ["summary"]
    assert [row[2] for row in rows] == ["1.5"] * len(DANGEROUS) + ["2.25"]


def test_the_rules_csv_is_neutralised():
    result = orglife("rules", "--format", "csv")
    assert result.returncode == 0
    _assert_safe(_csv_rows(result.stdout))


def test_only_text_is_neutralised():
    import pandas as pd

    frame = pd.DataFrame({"text": ["-3", "+86 10", "@home", "普通", None], "number": [-3, 4, -5, 6, 7],
                          "real": [-0.5, 1.0, float("nan"), 2.0, 3.0]})
    header, *rows = _csv_rows(outputs.csv_text(frame))
    assert [row[0] for row in rows] == ["'-3", "'+86 10", "'@home", "普通", ""]
    assert [row[1] for row in rows] == ["-3", "4", "-5", "6", "7"]
    assert [row[2] for row in rows] == ["-0.5", "1.0", "", "2.0", "3.0"]


def _text_dtypes():
    import pandas as pd
    import pyarrow as pa

    return {"object": object, "str": "str", "string": "string", "string[pyarrow]": "string[pyarrow]",
            "arrow": pd.ArrowDtype(pa.string()), "arrow-large": pd.ArrowDtype(pa.large_string()),
            "category": "category"}


@pytest.mark.parametrize("kind", list(_text_dtypes()))
def test_formula_text_is_neutralised_whatever_the_text_dtype(kind):
    """The store hands back pandas ``string`` columns, reports build ``object`` or ``str`` ones, Arrow reads give
    ArrowDtype: a formula-looking cell is quoted in every one of them, and the column's other cells stay as they
    were."""
    import pandas as pd

    values = ["=HYPERLINK(\"http://x.invalid\")", "＋1", "普通", None]
    frame = pd.DataFrame({"text": pd.Series(values, dtype=_text_dtypes()[kind]), "number": [-1, 2, -3, 4]})
    assert str(frame.text.dtype) != "object" or kind == "object"  # the frame really holds the dtype named
    header, *rows = _csv_rows(outputs.csv_text(frame))
    assert [row[0] for row in rows] == ["'=HYPERLINK(\"http://x.invalid\")", "'＋1", "普通", ""]
    assert [row[1] for row in rows] == ["-1", "2", "-3", "4"]


# ---- the exchange workbook: user text is never a formula ------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x.invalid","点我")', "=1+1", "+1+1", "-1+1", "@SUM(1,1)", "＝1+1"]


def test_exported_text_that_looks_like_a_formula_stays_text(tmp_path, demo_store):
    """openpyxl turns a str starting with "=" into a formula cell: the export writes it as a string cell instead,
    so Excel/WPS/LibreOffice show the text, and importing the export gives the identical text back."""
    import csv
    import shutil

    import openpyxl
    from sqlalchemy import text

    from orglife_nb.store import Store

    path = tmp_path / "store.db"
    shutil.copy(demo_store.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    with Store(url) as store, store.transaction() as connection:
        branches = [row[0] for row in connection.execute(text("select branch_id from branches order by 1"))]
        members = [row[0] for row in connection.execute(text("select member_id from members order by 1"))]
        meetings = [row[0] for row in connection.execute(text("select meeting_id from meetings order by 1"))]
        for position, formula in enumerate(FORMULAS):
            connection.execute(text("update branches set name = :v where branch_id = :k"),
                               {"v": formula + f"#{position}", "k": branches[position]})
            connection.execute(text("update members set name = :v where member_id = :k"),
                               {"v": formula, "k": members[position]})
            connection.execute(text("update meetings set topic = :v where meeting_id = :k"),
                               {"v": formula, "k": meetings[position]})
    exported = tmp_path / "export.xlsx"
    result = orglife("export", str(exported), "--db", url)
    assert result.returncode == 0, result.stderr

    book = openpyxl.load_workbook(exported)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    values = {cell.value for cell in cells}
    assert {formula + f"#{i}" for i, formula in enumerate(FORMULAS)} | set(FORMULAS) <= values

    again = f"sqlite:///{tmp_path / 'again.db'}"
    result = orglife("import", str(exported), "--db", again)
    assert result.returncode == 0, result.stderr
    with Store(again) as store, store.engine.connect() as connection:
        names = dict(connection.execute(text("select member_id, name from members")).all())
        topics = dict(connection.execute(text("select meeting_id, topic from meetings")).all())
        branch_names = dict(connection.execute(text("select branch_id, name from branches")).all())
    for position, formula in enumerate(FORMULAS):
        assert names[members[position]] == formula and topics[meetings[position]] == formula
        assert branch_names[branches[position]] == formula + f"#{position}"

    # LibreOffice, as a user's office suite: the first sheet (支部) as CSV shows the text, not a computed value
    converted = tmp_path / "lo"
    office = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
                             "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir",
                             str(converted), str(exported)], capture_output=True, text=True, timeout=180)
    assert office.returncode == 0, office.stderr
    with open(converted / "export.csv", encoding="utf-8", newline="") as stream:
        shown = {cell for row in csv.reader(stream) for cell in row}
    assert {formula + f"#{i}" for i, formula in enumerate(FORMULAS)} <= shown
    assert "2" not in shown and "点我" not in shown


def test_a_symlinked_target_is_written_through(tmp_path):
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old", encoding="utf-8")
    link.symlink_to(real)
    outputs.write_text(link, "new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"
