"""Terminal text that fits: wrapping never breaks a date, a number and its unit or an id, never loses a character,
and a table too narrow for its columns becomes blocks instead of ribbons of single characters."""
from __future__ import annotations

import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from orglife_nb.textable import display_width, fit, render, units, wrap

PIECES = st.sampled_from(["应不晚于", " 2026-12-04", "，", "还剩 13 天", "（周五）", "《基层组织生活会制度》二.1",
                          "PREP-SUPERIOR-NOTICE", "会议方案报上级党组织审核", " ", "；", "B001-2026-R2", "书记"])


@settings(max_examples=200, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=30), st.integers(min_value=26, max_value=90))  # the widest piece fits a line
def test_wrapping_keeps_every_character_and_every_date_whole(pieces, width):
    text = "".join(pieces)
    assume(all(len(run) <= width - 4 for run in re.findall(r"[!-~]+", text)))  # each unbreakable run fits a line
    lines = wrap(text, width, indent="  ", hang="    ")
    assert all(display_width(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for pattern in (r"\d{4}-\d\d-\d\d", r"\d+ 天", r"[A-Z]+(?:-[A-Z0-9]+)+"):
        assert re.findall(pattern, "\n".join(lines)) == re.findall(pattern, text)


def test_closing_marks_never_start_a_line_and_numbers_keep_their_unit():
    assert units("还剩 13 天，") == ["还", "剩", " ", "13 天，"]
    assert all(not line.lstrip().startswith(("，", "）", "。")) for line in wrap("甲乙丙丁（戊），己庚。" * 5, 9))


def test_fit_keeps_each_line_under_its_own_indent():
    out = fit(["  会议 B001-2026-R2", "    情况报告报送（向上级报送会议情况报告和会议记录）：应不晚于 2026-12-17，还剩 13 天"], 40)
    lines = out.splitlines()
    assert all(display_width(line) <= 40 for line in lines)
    assert lines[2].startswith("      ") and "2026-12-17" in out and "13 天" in out


def test_a_table_fits_drops_empty_columns_and_stacks_when_too_narrow():
    headers = ["日期", "规则", "成员", "事项"]
    rows = [["2026-12-04 周五", "PREP-NOTICE", "", "会前 10 天应将会议日期和议题通知应到会人员，尚无通知日期"]]
    table = render(headers, rows, nowrap=(0, 1), width=80)
    assert "成员" not in table  # empty everywhere: left out
    assert all(display_width(line) <= 80 for line in table.splitlines())
    assert table.splitlines()[0].startswith("日期") and "2026-12-04 周五" in table
    blocks = render(headers, rows, nowrap=(0, 1), width=30)
    lines = blocks.splitlines()
    assert lines[0] == "2026-12-04 周五  PREP-NOTICE"  # the unbroken cells lead the block
    assert lines[1].startswith("  事项：会前 10 天") and all(display_width(line) <= 30 for line in lines)
