"""Charts for reports: pygal, offline, inline SVG with Chinese text in Noto CJK.

pygal writes SVG straight from the data (no drawing pass): a chart costs ~15 ms where the same chart in matplotlib
took 90–180 ms (measured on this machine), which at thousands of branch reports per batch was the largest single
part of a report. Charts carry no script (pygal's interactive tooltips would load JavaScript from the web: off),
no date and an id derived from their content, so the same data gives byte-identical output (report runs can be
compared) and two charts on one page never share styles by accident.

Every text handed to pygal is bounded here (``label``, ``heading``): pygal's own truncation is off (it cuts at a
character count, mid-name, and its ellipsis hides which member a bar is), and an unbounded label is dangerous: a
long enough axis label pushes the plot's width below zero, and pygal's title splitting (``util.split_title``) then
loops for ever, appending empty lines (a 105-character name took 11.6 GB in five minutes).
"""
from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
import pandas as pd

from ..textable import clip, display_width

CJK_FONTS = "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'WenQuanYi Zen Hei', sans-serif"
PALETTE = ("#067647", "#2e90fa", "#f79009", "#b42318", "#7a5af8", "#98a2b3", "#0e9384")
WIDTH = 700
# Printed, a chart spans the A4 body (210 mm less report.css's 14 mm margins) and is at most PRINT_HEIGHT_MM tall
# (report.css: figure svg max-height), so a tall one is scaled down: its text is sized, and a bar chart's rows
# counted (``rows_per_chart``), for at least MIN_PRINT_PT at that scale
PX_PER_MM = 96 / 25.4
PRINT_WIDTH_MM = 182
PRINT_HEIGHT_MM = 115
MIN_PRINT_PT = 8
FONT_PX = {"title": 15, "label": 12, "major_label": 12, "legend": 12, "value": 12, "value_label": 12, "tooltip": 12}
BAR_ROW = 18         # pixels a bar (a member) takes
BAR_OVERHEAD = 130   # title, axis, axis title and legend of a horizontal bar chart
LABEL_WIDTH = 24  # display columns (12 Chinese characters) of an axis label or legend entry: a name, a level
TITLE_WIDTH = 60  # of a chart or axis title (a chart title fits on one line of the 700-pixel chart)


def label(value) -> str:
    """An axis label or series name as drawn: text, at most LABEL_WIDTH columns."""
    return clip(str(value), LABEL_WIDTH)


def heading(value) -> str:
    """A chart or axis title as drawn."""
    return clip(str(value), TITLE_WIDTH)


@lru_cache(maxsize=None)
def _style(colors: tuple[str, ...] = PALETTE):
    from pygal.style import Style

    return Style(font_family=CJK_FONTS, background="white", plot_background="white", foreground="#1f2328",
                 foreground_strong="#1f2328", foreground_subtle="#d0d7de", colors=colors,
                 **{f"{part}_font_size": size for part, size in FONT_PX.items()},
                 guide_stroke_color="#d0d7de", major_guide_stroke_color="#d0d7de", guide_stroke_dasharray="2,3",
                 major_guide_stroke_dasharray="2,3")


def print_scale(height: float, width: float = WIDTH) -> float:
    """How much a chart of ``width`` × ``height`` pixels is scaled when printed (never enlarged)."""
    return min(1.0, PRINT_WIDTH_MM * PX_PER_MM / width, PRINT_HEIGHT_MM * PX_PER_MM / height)


def rows_per_chart() -> int:
    """The most bars a horizontal bar chart takes while it prints unscaled by its height: more rows go into
    further charts (``split``), so a 30-member vote chart prints as two, its names still readable."""
    return int((PRINT_HEIGHT_MM * PX_PER_MM / print_scale(1) - BAR_OVERHEAD) // BAR_ROW)


def split(count: int, most: int) -> list[slice]:
    """``count`` rows in balanced parts of at most ``most`` (30 with 17: 15 and 15, not 17 and 13)."""
    parts = -(-count // most) if count else 1
    size = -(-count // parts) if count else 0
    return [slice(start, min(count, start + size)) for start in range(0, count, size)] if count else [slice(0, 0)]


def _static(root):
    """Only the drawing: pygal always writes a script with its config (for tooltips; it would never run in a
    report) and stamps the day into a comment (the chart would change with the calendar)."""
    for node in list(root):
        if not isinstance(node.tag, str):
            root.remove(node)
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _render(chart, *key) -> str:
    chart.uuid = hashlib.sha1(repr(key).encode()).hexdigest()[:12]
    chart.add_xml_filter(_static)
    return chart.render(is_unicode=True)


def _options(title: str, height: float, colors=None, **more) -> dict:
    for axis in ("x_title", "y_title"):
        if more.get(axis):
            more[axis] = heading(more[axis])
    return dict(style=_style(tuple(colors or PALETTE)), js=[], disable_xml_declaration=True, width=WIDTH,
                height=int(height), title=heading(title), legend_at_bottom=True, truncate_legend=-1, truncate_label=-1,
                margin=8, margin_bottom=28, **more)  # room under the legend: pygal's own leaves it clipped


def stacked_bars(table: pd.DataFrame, *, title: str, xlabel: str = "", ylabel: str = "",
                 colors: list[str] | None = None, horizontal: bool = True) -> str:
    """Rows are the bars (top to bottom), columns the stacked parts (e.g. member × level vote counts)."""
    import pygal

    kind = pygal.HorizontalStackedBar if horizontal else pygal.StackedBar
    height = max(220, BAR_ROW * len(table) + BAR_OVERHEAD) if horizontal else 320
    labels = [label(name) for name in table.index]
    columns = [(label(name), [int(v) for v in table[name].to_numpy()]) for name in table.columns]
    if horizontal:  # pygal draws the first label at the bottom; a table reads from the top
        labels = labels[::-1]
        columns = [(name, values[::-1]) for name, values in columns]
    chart = kind(**_options(title, height, colors, x_title=xlabel, y_title=ylabel, **_room(labels if horizontal else []),
                            legend_at_bottom_columns=min(len(columns), 4) or 1, print_values=False,
                            show_x_guides=False))
    chart.x_labels = labels
    for name, values in columns:
        chart.add(name, values)
    return _render(chart, "bars", title, labels, columns)


def _room(labels: list[str]) -> dict:
    """A left margin wide enough for Chinese axis labels: pygal reckons 0.6 em a character, a Chinese one is 1."""
    missing = max((display_width(text) / 2 - 0.6 * len(text) for text in labels), default=0)
    return {"margin_left": 8 + int(missing * FONT_PX["label"]) + 2} if missing > 0 else {}


def _steps(values: pd.Series) -> list[tuple]:
    """A step line (the value holds until the next change) as plain points: only the changes are kept."""
    values = values.astype(float)
    change = values.ne(values.shift()).to_numpy(copy=True)
    change[-1:] = True
    points = []
    for when, value in zip(values.index[change], values.to_numpy()[change]):
        if points:
            points.append((when.to_pydatetime(), points[-1][1]))
        points.append((when.to_pydatetime(), value))
    return points


def lines(series: dict[str, pd.Series], *, title: str, ylabel: str = "", step: bool = True) -> str:
    """One line per named series over a date index (e.g. rectification burn-down: open vs. due)."""
    import pygal

    chart = pygal.DateTimeLine(**_options(title, 320, y_title=ylabel, show_dots=False, fill=False,
                                          x_value_formatter=lambda when: when.strftime("%Y-%m-%d"),
                                          legend_at_bottom_columns=4, min_scale=2, margin_right=40,
                                          max_scale=8))
    start = min(values.index.min() for values in series.values())
    end = max(values.index.max() for values in series.values())
    chart.x_labels = [when.to_pydatetime() for when in pd.date_range(start, end, periods=6).normalize()]
    data = []
    for name, values in series.items():
        points = _steps(values) if step else [(w.to_pydatetime(), float(v)) for w, v in values.items()]
        chart.add(label(name), points)
        data.append((label(name), points))
    return _render(chart, "lines", title, data)


MAX_BARS = 31  # bars of a day-count chart; a longer span is counted in bins of whole days


def day_counts(days: pd.Series, *, title: str, xlabel: str, zero: str = "") -> str:
    """How many values fall on each whole day from 0 up (a bar per day, or per bin of whole days when the span is
    long); ``zero`` names the day-0 bar (e.g. 按时)."""
    import pygal

    values = np.floor(days.dropna().to_numpy(dtype=float)).astype(int)
    last = int(values.max()) if len(values) else 0
    width = -(-(last + 1) // MAX_BARS)  # whole days per bar
    counts = np.bincount(values // width, minlength=last // width + 1) if len(values) else np.zeros(1, int)
    labels = [str(lo) if width == 1 else f"{lo}–{lo + width - 1}" for lo in range(0, len(counts) * width, width)]
    if zero and width == 1:
        labels[0] = f"0（{zero}）"
    bars = [int(count) for count in counts]
    # every fifth day labelled when there are many bars: each label then has room at the print size
    many = dict(x_labels_major_every=5, show_minor_x_labels=False) if len(bars) > 12 else {}
    chart = pygal.Bar(**_options(title, 300, x_title=xlabel, y_title="次数", show_legend=False, **many))
    chart.x_labels = [label(text) for text in labels]
    chart.add(label(xlabel), bars)
    return _render(chart, "days", title, labels, bars)
