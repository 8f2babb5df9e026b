"""Bounds that keep one bad branch from taking the machine: chart labels, report kernels' memory and time, report
sizes. A regression must fail, not hang the suite: risky work runs in a subprocess under RLIMIT_AS and a timeout."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

CHART_MEMORY = 1536 * 2**20  # bytes: RLIMIT_AS of the chart subprocess (a Python with pandas and pygal ≈ 0.5 GiB)


def _bounded_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter limited to CHART_MEMORY of address space and ``timeout`` seconds."""
    limit = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({CHART_MEMORY}, {CHART_MEMORY}))\n"
    try:
        return subprocess.run([sys.executable, "-c", limit + textwrap.dedent(code)], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"超过 {timeout} 秒仍未画完（pygal 的标题拆分死循环？）")


@pytest.mark.parametrize("length", [105, 200, 10_000])
def test_a_long_member_name_draws_the_evaluation_chart_quickly(length):
    result = _bounded_python(f"""
        import pandas as pd
        from orglife_nb.reports import charts

        names = ["张" * {length}, "李四", "王" * {length} + "五"]
        tally = pd.DataFrame({{"优秀": [3, 1, 0], "合格": [1, 2, 4], "基本合格": [0, 1, 0]}}, index=names)
        svg = charts.stacked_bars(tally, title="测评票分布" * {length}, xlabel="票数" * {length})
        print(len(svg), svg.count("…"))
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    size, ellipses = map(int, result.stdout.split())
    assert size < 100_000 and ellipses >= 2  # the long names are cut, visibly


def test_clip_bounds_display_width():
    from orglife_nb.textable import clip, display_width

    assert clip("张三", 24) == "张三" and clip("a" * 24, 24) == "a" * 24
    assert clip("张" * 12, 24) == "张" * 12
    assert clip("张" * 13, 24) == "张" * 11 + "…"
    assert clip("x" * 10_000_000, 24) == "x" * 23 + "…"
    for text in ("张" * 200, "ab张" * 50, "a\u0301" * 100):
        assert display_width(clip(text, 24)) <= 24
