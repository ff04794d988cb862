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


def _figure(title: str, bars: Sequence[Bar]) -> Figure:
    """A horizontal bar chart, first row at the top. Margins are fixed rather than
    measured (`tight_layout` draws the figure twice), so a chart takes milliseconds."""
    rows = max(len(bars), 1)
    height = 0.8 + 0.34 * rows
    figure = Figure(figsize=(6.4, height))
    axes = figure.add_axes((0.36, 0.12 / height, 0.6, 1 - 0.62 / height))
    top = max((bar.amount or 0 for bar in bars), default=0) or 1
    for i, bar in enumerate(bars):
        if bar.amount is not None:  # a hidden number draws no bar at all
            axes.add_patch(Rectangle((0, i - 0.3), bar.amount, 0.6, color=BAR_COLOUR))
        # The number (or why it is hidden) at the end of each bar, as words.
        axes.text((bar.amount or 0) + top * 0.02, i, bar.shown, va="center", color=TEXT_COLOUR)
    axes.set_xlim(0, top * 1.4)
    axes.set_ylim(rows - 0.5, -0.5)  # the first row at the top, as in the table
    axes.set_yticks(range(len(bars)), labels=[bar.label for bar in bars])
    axes.tick_params(axis="y", length=0)
    axes.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    figure.text(0.01, 1 - 0.3 / height, title, color=TEXT_COLOUR, fontsize=11, va="center")
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
