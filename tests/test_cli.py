"""The command's error contract: bad arguments give one Chinese line on stderr and exit 2, no traceback."""
from __future__ import annotations

import subprocess

import pytest

from orglife_nb.cli import main
from clikit import cli as run


@pytest.mark.parametrize("argv, expected", [
    (["frobnicate"], "没有这个命令：frobnicate"),
    (["template"], "缺少参数"),
    (["export", "out.xlsx", "--colour", "red"], "未知选项 --colour"),
    (["demo", "--branches", "0"], "--branches 的值无效"),
    (["template", "a.xlsx", "b.xlsx"], "多余的参数"),
])
def test_bad_arguments_are_one_chinese_line(capsys, argv, expected):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("错误：") and expected in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_an_unusable_database_is_one_line_in_a_real_process(tmp_path):
    (tmp_path / "other.db").write_bytes(b"this is not a database at all" * 100)
    result = subprocess.run(["orglife", "export", str(tmp_path / "x.xlsx"), "--db", str(tmp_path / "other.db")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("错误：无法打开数据库") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_export_refuses_a_missing_store_file_like_the_other_read_commands(tmp_path, capsys):
    """``export --db typo.db`` made an empty store and exited 0; now it is refused and no file appears."""
    typo = tmp_path / "typo.db"
    code, _, err = run(capsys, "export", str(tmp_path / "out.xlsx"), "--db", str(typo))
    assert code == 2 and err.startswith("错误：数据库文件不存在") and str(typo) in err
    assert not typo.exists() and not (tmp_path / "out.xlsx").exists()


def test_a_dash_is_standard_output_for_every_file_argument(tmp_path, demo_store):
    """`-` means standard output, as everywhere: the output alone on stdout, the note on stderr, no file named -."""
    import io
    import sys

    from openpyxl import load_workbook

    def run_cli(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "orglife_nb.cli", *argv], cwd=tmp_path, capture_output=True,
                              timeout=300)

    ics = run_cli("deadlines", "--kind", "regular", "--date", "2026-12-01", "--format", "ics", "--out", "-")
    assert ics.returncode == 0 and ics.stdout.startswith(b"BEGIN:VCALENDAR") and ics.stdout.rstrip().endswith(
        b"END:VCALENDAR")
    assert "已写出日历提醒（" in ics.stderr.decode() and "标准输出" in ics.stderr.decode()
    csv = run_cli("check", "--db", demo_store, "--format", "csv", "--out", "-")
    assert csv.returncode == 0 and csv.stdout.decode("utf-8-sig").startswith("支部编号,")
    assert "条检查结果：标准输出" in csv.stderr.decode()
    template = run_cli("template", "-")
    assert template.returncode == 0 and template.stdout[:2] == b"PK"  # the .xlsx itself (a zip)
    assert "会议" in load_workbook(io.BytesIO(template.stdout)).sheetnames
    export = run_cli("export", "-", "--db", demo_store)
    assert export.returncode == 0
    exported = load_workbook(io.BytesIO(export.stdout))
    assert exported["支部"].max_row > 1  # the demo's branches, not a blank workbook
    assert not (tmp_path / "-").exists() and list(tmp_path.iterdir()) == []
