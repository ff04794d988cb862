"""Charts drawn on the server, from plain data: one bar chart as SVG (for the web) and as
PNG (for chat doors, later), the same figure either way.

Matplotlib's Agg and SVG backends need no system libraries. The SVG is deterministic (the
same data gives the same bytes: `svg.hashsalt` is fixed and no date is written) and its
text stays text (`svg.fonttype: none`), so it is small and a browser can zoom it. A bar
whose number is hidden to protect a small group is not drawn at all: its label says why,
exactly as the table beside it does.

Nothing here reads the database or knows a feature: callers pass labels, amounts (None
when hidden) and the words shown for each.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import matplotlib

# The canvases are used directly (never pyplot), so no display or GUI backend is touched.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

matplotlib.rcParams.update(
    {
        "svg.hashsalt": "convene-dashboard",
        "svg.fonttype": "none",
        "font.family": "sans-serif",
        "font.size": 10,
    }
)

#: Dark blue bars with strong contrast on white (GOV.UK's blue); text is near-black.
BAR_COLOUR = "#1d70b8"
TEXT_COLOUR = "#0b0c0c"
#: The PNG's resolution: sharp enough for a chat client, small enough to send.
PNG_DPI = 100
#: How many drawn SVGs are kept (a few kilobytes each).
KEPT = 512


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its amount (None when hidden) and the words shown for it."""

    label: str
    amount: float | None
    shown: str


@dataclass(frozen=True)
class ChartImages:
    svg: bytes
    png: bytes


#: The layout, in inches: the figure's width, the room for the title, each row's height,
#: the bar's share of it and the room below the last row.
WIDTH = 6.4
TOP = 0.5
ROW = 0.34
BAR = 0.6
BOTTOM = 0.3
#: Across the figure, as a share of its width: where the labels end and the bars start,
#: and how much of the width the longest bar's number can reach.
LABELS_END = 0.34
BARS_START = 0.36
BARS_WIDTH = 0.6


def _figure(title: str, bars: Sequence[Bar]) -> Figure:
    """A horizontal bar chart, first row at the top, drawn straight onto the figure: no
    axes, ticks or tick labels (matplotlib lays those out at every draw, and they were
    most of a chart's time), only rectangles, one line and text placed by arithmetic.
    Margins are fixed rather than measured (`tight_layout` draws the figure twice)."""
    rows = max(len(bars), 1)
    height = TOP + ROW * rows + BOTTOM
    figure = Figure(figsize=(WIDTH, height))
    top = max((bar.amount or 0 for bar in bars), default=0) or 1
    # One unit of amount, as a share of the figure's width: the longest bar takes 1/1.4
    # of the room, leaving space for its number.
    unit = BARS_WIDTH / (top * 1.4)

    def y(inches_from_top: float) -> float:
        return 1 - inches_from_top / height

    for i, bar in enumerate(bars):
        middle = y(TOP + ROW * (i + 0.5))
        if bar.amount is not None:  # a hidden number draws no bar at all
            figure.add_artist(
                Rectangle(
                    (BARS_START, middle - ROW * BAR / 2 / height),
                    bar.amount * unit,
                    ROW * BAR / height,
                    color=BAR_COLOUR,
                    transform=figure.transFigure,
                )
            )
        figure.text(LABELS_END, middle, bar.label, ha="right", va="center", color=TEXT_COLOUR)
        # The number (or why it is hidden) at the end of each bar, as words.
        figure.text(
            BARS_START + ((bar.amount or 0) + top * 0.02) * unit,
            middle,
            bar.shown,
            va="center",
            color=TEXT_COLOUR,
        )
    # The line the bars start from, as the axis was drawn before.
    figure.add_artist(
        Line2D(
            (BARS_START, BARS_START),
            (y(TOP + ROW * rows + 0.05), y(TOP - 0.05)),
            color=TEXT_COLOUR,
            linewidth=0.8,
            transform=figure.transFigure,
        )
    )
    figure.text(0.01, y(0.3), title, color=TEXT_COLOUR, fontsize=11, va="center")
    return figure


def svg_of(title: str, bars: Sequence[Bar]) -> bytes:
    """The chart as SVG bytes, the same for the same data. Drawing takes matplotlib some
    milliseconds, so a chart whose data has not changed is drawn once and kept: the same
    data gives the same bytes, so a kept chart is exactly the one that would be drawn."""
    return _svg(title, tuple(bars))


@lru_cache(maxsize=KEPT)
def _svg(title: str, bars: tuple[Bar, ...]) -> bytes:
    out = io.BytesIO()
    FigureCanvasSVG(_figure(title, bars)).print_svg(out, metadata={"Date": None})
    return out.getvalue()


def png_of(title: str, bars: Sequence[Bar]) -> bytes:
    """The same chart as PNG bytes, for doors that show pictures, not SVG."""
    out = io.BytesIO()
    figure = _figure(title, bars)
    figure.set_dpi(PNG_DPI)
    FigureCanvasAgg(figure).print_png(out, metadata={"Software": None})
    return out.getvalue()


def chart_images(title: str, bars: Sequence[Bar]) -> ChartImages:
    """SVG and PNG of one chart."""
    return ChartImages(svg=svg_of(title, bars), png=png_of(title, bars))


def forget_drawn() -> None:
    """Forget the kept SVGs (the bench times pages with every chart drawn afresh)."""
    _svg.cache_clear()
