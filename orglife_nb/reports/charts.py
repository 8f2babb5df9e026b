"""Charts for reports: matplotlib, offline, Noto CJK, inlined as SVG.

Text is drawn as paths, so a report looks the same on a machine without Chinese fonts and in print; the SVG carries
no date and a fixed id salt, so the same data gives byte-identical output (report runs can be compared).
"""
from __future__ import annotations

import io
from functools import lru_cache

import pandas as pd

CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "DejaVu Sans"]
PALETTE = ["#067647", "#2e90fa", "#f79009", "#b42318", "#7a5af8", "#98a2b3", "#0e9384"]


@lru_cache(maxsize=1)
def pyplot():
    """Import and configure matplotlib once per process (the import is the expensive part)."""
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": CJK_FONTS,
        "axes.unicode_minus": False,
        "svg.fonttype": "path",
        "svg.hashsalt": "orglife",
        "figure.dpi": 96,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    })
    return plt


def to_svg(figure) -> str:
    plt = pyplot()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prolog and doctype: the SVG sits inside HTML


def stacked_bars(table: pd.DataFrame, *, title: str, xlabel: str = "", ylabel: str = "",
                 colors: list[str] | None = None, horizontal: bool = True) -> str:
    """Rows are the bars, columns the stacked parts (e.g. member × level vote counts)."""
    plt = pyplot()
    height = max(2.2, 0.32 * len(table) + 1.2) if horizontal else 3.2
    figure, axes = plt.subplots(figsize=(7.0, height))
    kind = "barh" if horizontal else "bar"
    table.plot(kind=kind, stacked=True, ax=axes, color=colors or PALETTE[: len(table.columns)], width=0.7)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if horizontal:
        axes.invert_yaxis()
    axes.legend(ncols=min(len(table.columns), 4), loc="upper center", bbox_to_anchor=(0.5, -0.12 if horizontal else -0.2),
                frameon=False)
    return to_svg(figure)


def lines(series: dict[str, pd.Series], *, title: str, ylabel: str = "", step: bool = True) -> str:
    """One line per named series over a date index (e.g. rectification burn-down: open vs. due)."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7.0, 2.8))
    for name, values in series.items():
        if step:
            axes.step(values.index, values.values, where="post", label=name)
        else:
            axes.plot(values.index, values.values, label=name)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.legend(frameon=False)
    figure.autofmt_xdate()
    return to_svg(figure)


def heatmap(table: pd.DataFrame, *, title: str, labels: dict[int, str] | None = None,
            colors: tuple[str, ...] = ("#fde8e7", "#e7f6ec")) -> str:
    """A categorical grid (e.g. branch × half-year: 0 = none held, 1 = held), one color per value."""
    from matplotlib.colors import ListedColormap

    plt = pyplot()
    figure, axes = plt.subplots(figsize=(min(10.0, 1.2 + 0.9 * len(table.columns)), max(2.0, 0.3 * len(table) + 1)))
    axes.imshow(table.to_numpy(dtype=float), cmap=ListedColormap(list(colors)), vmin=0, vmax=len(colors) - 1,
                aspect="auto")
    axes.set_xticks(range(len(table.columns)), [str(c) for c in table.columns])
    axes.set_yticks(range(len(table.index)), [str(i) for i in table.index])
    for (row, column), value in pd.DataFrame(table.to_numpy()).stack().items():
        text = (labels or {}).get(int(value), str(value))
        axes.text(column, row, text, ha="center", va="center", fontsize=8)
    axes.set_title(title)
    axes.spines[:].set_visible(False)
    return to_svg(figure)


def histogram(values: pd.Series, *, title: str, xlabel: str, bins: list[float] | None = None) -> str:
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7.0, 2.8))
    axes.hist(values.dropna(), bins=bins or 10, color=PALETTE[1], edgecolor="white")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("次数")
    return to_svg(figure)
