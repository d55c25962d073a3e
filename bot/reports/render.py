"""Charts as PNG (Slack, WeCom) and SVG (the console), drawn with matplotlib's Agg backend.

Following matplotlib's "Embedding in a web application server" guide: every chart is its
own `Figure` with an explicit `FigureCanvasAgg`, never pyplot (whose global figure
registry is neither thread- nor process-safe), and no rcParams are changed. Every text
names its font explicitly: the bundled Noto Sans CJK subset (assets/fonts), so Chinese
activity and employee names are drawn, not shown as boxes. Characters the subset lacks
(emoji, Hangul, rare hanzi) are left out rather than drawn as boxes, as on share cards.

Every word on a chart is in the viewer's language: `render(chart, fmt, locale=...)` draws
under `bot.i18n.use_locale`, so titles, series names, funnel steps, push sources and "No
data yet" go through the catalogues, and dates and numbers through Babel ("Dec 4" /
"12月4日"). The locale is part of the pool's cache key (bot/reports/pool.py).

This module is imported only in the chart workers (bot/reports/pool.py): importing
matplotlib costs ~60 MB, which the landing server's process must not pay.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Transform

from assets import FONTS_DIR
from bot import i18n
from bot.i18n import N_, _, ngettext
from bot.reports.series import Chart, DailySeries, Funnel, SourceSplit, TopEmployees

REGULAR_FONT = "NotoSansCJKsc-Regular-subset.otf"
BOLD_FONT = "NotoSansCJKsc-Bold-subset.otf"
FORMATS = ("png", "svg")

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 5.6, 100  # 1000 x 560 px: sharp in Slack's preview
INK = "#0f172a"
MUTED = "#64748b"
GRID = "#e2e8f0"
SERIES_COLOURS = ("#4f46e5", "#0ea5e9", "#10b981")  # views, unique visitors, sign-ups
FUNNEL_COLOURS = ("#4f46e5", "#6366f1", "#0ea5e9", "#10b981", "#059669")
NO_DATA = N_("No data yet")
VIEWS, UNIQUE_VISITORS, SIGNUPS = N_("Views"), N_("Unique visitors"), N_("Sign-ups")
UNTITLED = N_("Activity")
KEY_SWATCH, KEY_CHAR, KEY_GAP = 0.012, 0.0068, 0.022  # figure fractions (10 pt text)
MAX_LABEL = 28  # characters of a name on an axis before it is cut with "…"


class Fonts:
    """The bundled font as FontProperties, and the characters it can draw."""

    def __init__(self, fonts_dir: Path = FONTS_DIR) -> None:
        regular, bold = fonts_dir / REGULAR_FONT, fonts_dir / BOLD_FONT
        self.regular = FontProperties(fname=regular, size=11)
        self.bold = FontProperties(fname=bold, size=11)
        self._drawable = frozenset(FT2Font(str(regular)).get_charmap())

    def sized(self, size: float, *, bold: bool = False) -> FontProperties:
        font = (self.bold if bold else self.regular).copy()
        font.set_size(size)
        return font

    def clean(self, text: str, limit: int | None = None) -> str:
        """`text` with only characters the font has, on one line, cut at `limit`."""
        kept = "".join(c if ord(c) in self._drawable else " " for c in text)
        kept = " ".join(kept.split())
        if limit is not None and len(kept) > limit:
            kept = kept[: limit - 1].rstrip() + "…"
        return kept


@functools.cache
def default_fonts() -> Fonts:
    """One Fonts per process: loading the charmap takes a few milliseconds."""
    return Fonts()


def text_width(text: str) -> int:
    """Columns the text takes: a hanzi (East Asian wide or fullwidth) is two Latin letters."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render(
    chart: Chart,
    fmt: str = "png",
    fonts: Fonts | None = None,
    *,
    locale: str = i18n.DEFAULT_LOCALE,
) -> bytes:
    """The chart as PNG or SVG bytes, its words in `locale`."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown chart format {fmt!r}")
    figure = draw(chart, fonts, locale=locale)
    buffer = io.BytesIO()
    # No creation date in the file: equal data gives equal bytes.
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def draw(chart: Chart, fonts: Fonts | None = None, *, locale: str = i18n.DEFAULT_LOCALE) -> Figure:
    """The chart as a matplotlib Figure (not yet saved), its words in `locale`."""
    with i18n.use_locale(locale):
        return _figure(chart, fonts or default_fonts())


def _figure(chart: Chart, fonts: Fonts) -> Figure:
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.07, 0.12, 0.9, 0.68))
    _titles(figure, fonts, chart)
    if chart.empty:
        _no_data(axes, fonts)
    elif isinstance(chart, DailySeries):
        _daily(figure, axes, fonts, chart)
    elif isinstance(chart, Funnel):
        _funnel(figure, axes, fonts, chart)
    elif isinstance(chart, SourceSplit):
        _sources(figure, axes, fonts, chart)
    else:
        _top(figure, axes, fonts, chart)
    return figure


def subtitle(chart: Chart) -> str:
    """The line under the title, in the current locale."""
    if isinstance(chart, DailySeries):
        days = len(chart.days)
        return ngettext(
            "Per day · last %(num)d day · %(zone)s", "Per day · last %(num)d days · %(zone)s", days
        ) % {"num": days, "zone": i18n.zone_label(chart.tz)}
    if isinstance(chart, Funnel):
        return _("From views to customers")
    if isinstance(chart, SourceSplit):
        return _("Views and sign-ups by where the link was shared")
    if not chart.rows:
        return _("Top employees by points")
    count = len(chart.rows)
    return ngettext("Top %(num)d employee by points", "Top %(num)d employees by points", count) % {
        "num": count
    }


def number(value: float) -> str:
    """A count with the locale's grouping."""
    return i18n.format_number(value)


def _titles(figure: Figure, fonts: Fonts, chart: Chart) -> None:
    figure.text(
        0.07,
        0.93,
        fonts.clean(chart.title, 60) or _(UNTITLED),
        fontproperties=fonts.sized(18, bold=True),
        color=INK,
        va="center",
        parse_math=False,
    )
    figure.text(
        0.07,
        0.865,
        subtitle(chart),
        fontproperties=fonts.sized(11),
        color=MUTED,
        va="center",
        parse_math=False,
    )


def _plain(axes: Axes) -> None:
    """No frame but the baseline, and no tick machinery: labels are plain texts.

    matplotlib's Tick objects (five artists each, laid out several times per draw) were
    most of a chart's drawing time; a few texts and one line collection cost a fraction."""
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(GRID)
    axes.set_xticks([])
    axes.set_yticks([])


def _label(
    axes: Axes,
    fonts: Fonts,
    x: float,
    y: float,
    text: str,
    *,
    transform: Transform,
    size: float = 10,
    colour: str = MUTED,
    **align: str,
) -> None:
    axes.text(
        x,
        y,
        text,
        transform=transform,
        fontproperties=fonts.sized(size),
        color=colour,
        parse_math=False,
        **align,  # type: ignore[arg-type]
    )


def _no_data(axes: Axes, fonts: Fonts) -> None:
    axes.set_axis_off()
    _label(
        axes,
        fonts,
        0.5,
        0.5,
        _(NO_DATA),
        transform=axes.transAxes,
        size=20,
        ha="center",
        va="center",
    )


def _count_axis(axes: Axes, fonts: Fonts, top: int, *, axis: Literal["x", "y"] = "y") -> None:
    """Whole-number gridlines from 0, labelled in the bundled font."""
    ticks = [t for t in MaxNLocator(nbins=5, integer=True).tick_values(0, max(top, 1)) if t >= 0]
    if axis == "y":
        axes.set_ylim(0, max(ticks[-1], 1))
        along = axes.get_yaxis_transform()  # x in axes fractions, y in data
        axes.hlines(ticks, 0, 1, transform=along, colors=GRID, linewidth=0.8, zorder=0)
        for tick in ticks:
            _label(
                axes,
                fonts,
                -0.012,
                tick,
                number(int(tick)),
                transform=along,
                ha="right",
                va="center",
            )
    else:
        axes.set_xlim(0, max(ticks[-1], 1))
        along = axes.get_xaxis_transform()  # x in data, y in axes fractions
        axes.vlines(ticks, 0, 1, transform=along, colors=GRID, linewidth=0.8, zorder=0)
        for tick in ticks:
            _label(
                axes, fonts, tick, -0.02, number(int(tick)), transform=along, ha="center", va="top"
            )


def day_label(day: date) -> str:
    """A day on the axis in the current locale: "Dec 4", "12月4日" (CLDR skeleton MMMd)."""
    return i18n.format_skeleton("MMMd", datetime.combine(day, time(), UTC), UTC)


def _day_labels(days: Sequence[date]) -> tuple[list[int], list[str]]:
    """At most ~15 labels along the axis, the last day always labelled."""
    step = max(1, -(-len(days) // 15))
    positions = list(range(len(days) - 1, -1, -step))[::-1]
    return positions, [day_label(days[i]) for i in positions]


def _key(figure: Figure, fonts: Fonts, entries: Sequence[tuple[str, str]]) -> None:
    """The series' names and colours at the right of the subtitle's line (no Legend: its
    layout costs more than the whole chart). Widths are estimated, generously, so the
    entries never overlap; only the gaps vary."""
    widths = [KEY_SWATCH + 0.006 + KEY_CHAR * text_width(label) for label, _colour in entries]
    x = 0.97 - sum(widths) - KEY_GAP * (len(entries) - 1)
    for (label, colour), width in zip(entries, widths, strict=True):
        figure.patches.append(
            Rectangle(
                (x, 0.857),
                KEY_SWATCH,
                0.016,
                transform=figure.transFigure,
                figure=figure,
                color=colour,
            )
        )
        figure.text(
            x + KEY_SWATCH + 0.006,
            0.865,
            label,
            va="center",
            fontproperties=fonts.sized(10),
            color=INK,
            parse_math=False,
        )
        x += width + KEY_GAP


def _daily(figure: Figure, axes: Axes, fonts: Fonts, chart: DailySeries) -> None:
    _plain(axes)
    x = list(range(len(chart.days)))
    series = (
        (_(VIEWS), chart.views),
        (_(UNIQUE_VISITORS), chart.unique_visitors),
        (_(SIGNUPS), chart.signups),
    )
    if chart.style == "bar":
        width = 0.8 / len(series)
        for i, ((_name, values), colour) in enumerate(zip(series, SERIES_COLOURS, strict=True)):
            offset = (i - (len(series) - 1) / 2) * width
            axes.bar([p + offset for p in x], values, width, color=colour)
    else:
        for (_name, values), colour in zip(series, SERIES_COLOURS, strict=True):
            axes.plot(x, values, color=colour, linewidth=2.2, marker="o", markersize=4)
    axes.set_xlim(-0.6, len(x) - 0.4)
    _count_axis(axes, fonts, max(max(values) for _name, values in series))
    along = axes.get_xaxis_transform()
    for position, label in zip(*_day_labels(chart.days), strict=True):
        _label(axes, fonts, position, -0.025, label, transform=along, ha="center", va="top")
    names = [label for label, _values in series]
    _key(figure, fonts, list(zip(names, SERIES_COLOURS, strict=True)))


def _bar_labels(axes: Axes, fonts: Fonts, labels: list[str]) -> None:
    """Category names left of their bars, best first at the top; room made for the longest."""
    axes.set_ylim(len(labels) - 0.5, -0.5)  # first row at the top
    along = axes.get_yaxis_transform()
    for i, label in enumerate(labels):
        _label(axes, fonts, -0.012, i, label, transform=along, size=11, ha="right", va="center")
    longest = max((text_width(label) for label in labels), default=0)
    left = min(0.3, 0.05 + 0.011 * longest)
    axes.set_position((left, 0.08, 0.93 - left, 0.72))


def _funnel(figure: Figure, axes: Axes, fonts: Fonts, chart: Funnel) -> None:
    _plain(axes)
    axes.spines["bottom"].set_visible(False)
    labels = [_(label) for label, _count in chart.steps]
    counts = [count for _label, count in chart.steps]
    top = max(counts)
    # Centred bars, widest first: the funnel's shape.
    axes.barh(
        range(len(counts)),
        counts,
        left=[(top - c) / 2 for c in counts],
        color=FUNNEL_COLOURS[: len(counts)],
        height=0.72,
    )
    axes.set_xlim(0, top)
    _bar_labels(axes, fonts, labels)
    for i, count in enumerate(counts):
        note = number(count)
        if i and counts[i - 1]:
            note = _("%(count)s  (%(percent)s of %(step)s)") % {
                "count": note,
                "percent": i18n.format_percent(round(count / counts[i - 1], 2)),
                "step": labels[i - 1].lower(),
            }
        inside = count >= top * 0.4  # else the note goes right of the bar, in ink
        axes.text(
            top / 2 if inside else (top + count) / 2 + top * 0.015,
            i,
            note,
            ha="center" if inside else "left",
            va="center",
            fontproperties=fonts.sized(12, bold=True),
            color="white" if inside else INK,
            parse_math=False,
        )


def _sources(figure: Figure, axes: Axes, fonts: Fonts, chart: SourceSplit) -> None:
    _plain(axes)
    labels = [fonts.clean(_(label), MAX_LABEL) for label, _v, _s in chart.rows]
    positions = list(range(len(labels)))
    views = [v for _label, v, _s in chart.rows]
    signups = [s for _label, _v, s in chart.rows]
    axes.barh([p - 0.2 for p in positions], views, 0.4, color=SERIES_COLOURS[0])
    axes.barh([p + 0.2 for p in positions], signups, 0.4, color=SERIES_COLOURS[2])
    _count_axis(axes, fonts, max(views + signups), axis="x")
    _bar_labels(axes, fonts, labels)
    _key(figure, fonts, [(_(VIEWS), SERIES_COLOURS[0]), (_(SIGNUPS), SERIES_COLOURS[2])])


def _top(figure: Figure, axes: Axes, fonts: Fonts, chart: TopEmployees) -> None:
    _plain(axes)
    labels = [fonts.clean(name, MAX_LABEL) or "?" for name, _p, _v, _s in chart.rows]
    points = [p for _name, p, _v, _s in chart.rows]
    axes.barh(range(len(points)), points, 0.7, color=SERIES_COLOURS[0])
    top = max(max(points), 1)
    _count_axis(axes, fonts, int(top * 1.35), axis="x")
    _bar_labels(axes, fonts, labels)
    for i, (_name, pts, views, signups) in enumerate(chart.rows):
        numbers = " · ".join(
            (
                ngettext("%(num)s pt", "%(num)s pts", pts) % {"num": number(pts)},
                ngettext("%(num)s view", "%(num)s views", views) % {"num": number(views)},
                ngettext("%(num)s sign-up", "%(num)s sign-ups", signups) % {"num": number(signups)},
            )
        )
        _label(
            axes,
            fonts,
            pts + top * 0.01,
            i,
            " " + numbers,
            transform=axes.transData,
            colour=INK,
            va="center",
        )
