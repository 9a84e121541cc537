"""Charts as PNG bytes: growth, activity, the retention heatmap and the funnels.

Pure functions from plain data and a language to a PNG, drawn with matplotlib's object API
(`Figure` on an Agg canvas; pyplot keeps global figures and is not for servers). They live
with the handlers, not in bot/, because they are presentation like the texts (no state, no
lifecycle: nothing to start or stop). A handler runs them in a worker thread (drawing takes
tens of milliseconds of CPU) and imports this module there, on first use: matplotlib takes
about a second to import, which the bot's and every CLI command's start no longer pays.

Chinese needs a CJK font: without one matplotlib draws empty boxes (and warns "Glyph …
missing from font(s) …"). The first of FONTS that is installed is used (scripts/_setup.sh
installs fonts-wqy-microhei); without any, charts still render, with a logged warning.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from io import BytesIO

import numpy as np
from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from campaigns.cohorts import CohortTable
from campaigns.funnels import Funnel, shown
from campaigns.services.stats import StatsReport
from handlers.analytics_texts import AnalyticsTexts, percent

log = logging.getLogger(__name__)

FONTS = (
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
)
FONT_DIRS = ("/usr/share/fonts/truetype/wqy", "/usr/share/fonts/opentype/noto")
DPI = 100
COLOURS = ("#2e7d32", "#c62828", "#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037")
_drawing = threading.Lock()  # rcParams are global: one chart is drawn at a time


@cache
def cjk_font() -> str | None:
    """The first installed font of FONTS (fonts installed after matplotlib built its cache
    are added from FONT_DIRS), or None with a warning: Chinese will show as boxes."""
    for attempt in range(2):
        installed = {f.name for f in font_manager.fontManager.ttflist}
        for name in FONTS:
            if name in installed:
                return name
        if attempt == 0:
            for folder in FONT_DIRS:
                for path in font_manager.findSystemFonts([folder]):
                    font_manager.fontManager.addfont(path)
    log.warning("no CJK font found (%s): Chinese chart labels will show as boxes", FONTS[0])
    return None


@contextmanager
def _style() -> Iterator[None]:
    """The CJK font first (it has Latin letters too), DejaVu Sans for anything it lacks."""
    families = [f for f in (cjk_font(), "DejaVu Sans") if f is not None]
    with _drawing, rc_context({"font.family": families, "axes.unicode_minus": False}):
        yield


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _day_axis(ax: Axes, days: Sequence[dt.date]) -> list[int]:
    """Days as positions 0..n-1, labelled month-day (the same in every language), at most
    about ten labels."""
    step = max(1, -(-len(days) // 10))
    ax.set_xticks(range(0, len(days), step), [f"{d:%m-%d}" for d in days[::step]])
    return list(range(len(days)))


def _empty(ax: Axes, texts: AnalyticsTexts) -> None:
    ax.text(0.5, 0.5, texts.no_data(), ha="center", va="center", transform=ax.transAxes)


def growth_chart(
    days: Sequence[dt.date], joins: Sequence[int], leaves: Sequence[int], *, language: str
) -> bytes:
    """Joins up, leaves down, and the net change per day as a line."""
    t = AnalyticsTexts(language)
    with _style():
        figure = Figure(figsize=(8, 4.5), dpi=DPI, layout="constrained")
        ax = figure.add_subplot()
        ax.set_title(t.growth_title())
        if days:
            x = _day_axis(ax, days)
            ax.bar(x, joins, color=COLOURS[0], label=t.joined())
            ax.bar(x, [-n for n in leaves], color=COLOURS[1], label=t.left())
            net = [a - b for a, b in zip(joins, leaves, strict=True)]
            ax.plot(x, net, color=COLOURS[2], marker="o", label=t.net())
            ax.axhline(0, color="#888888", linewidth=0.8)
            ax.legend(loc="upper left")
        else:
            _empty(ax, t)
        ax.set_ylabel(t.members_axis())
        return _png(figure)


def activity_chart(
    days: Sequence[dt.date], dau: Sequence[int], messages: Sequence[int], *, language: str
) -> bytes:
    """Messages per day as bars, active members (DAU) as a line on its own scale."""
    t = AnalyticsTexts(language)
    with _style():
        figure = Figure(figsize=(8, 4.5), dpi=DPI, layout="constrained")
        ax = figure.add_subplot()
        ax.set_title(t.activity_title())
        if days:
            x = _day_axis(ax, days)
            ax.bar(x, messages, color="#90caf9", label=t.messages())
            ax.set_ylabel(t.messages())
            right = ax.twinx()
            right.plot(x, dau, color=COLOURS[3], marker="o", label=t.dau())
            right.set_ylabel(t.dau())
            right.set_ylim(bottom=0)
            handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
            ax.legend(handles=handles, loc="upper left")
        else:
            _empty(ax, t)
        return _png(figure)


def cohort_heatmap(table: CohortTable, *, language: str) -> bytes:
    """One row per join week (its size in brackets), one column per week after joining;
    each cell the share of the cohort active then, blank where the week has not begun."""
    t = AnalyticsTexts(language)
    n = len(table.weeks)
    rates = np.full((n, n), np.nan)
    for i in range(n):
        for k in range(n):
            rate = table.rate(i, k)
            if rate is not None:
                rates[i, k] = rate
    with _style():
        figure = Figure(figsize=(1.6 + 0.75 * n, 1.4 + 0.5 * n), dpi=DPI, layout="constrained")
        ax = figure.add_subplot()
        ax.set_title(t.cohort_title())
        ax.imshow(np.ma.masked_invalid(rates), cmap="YlGn", vmin=0, vmax=1, aspect="auto")
        for i in range(n):
            for k in range(n):
                if not np.isnan(rates[i, k]):
                    colour = "white" if rates[i, k] > 0.6 else "black"
                    ax.text(k, i, percent(rates[i, k]), ha="center", va="center", color=colour,
                            fontsize=9)  # fmt: skip
        ax.set_xticks(range(n), [str(k) for k in range(n)])
        ax.set_yticks(range(n), [t.cohort_row(table, i) for i in range(n)])
        ax.set_xlabel(t.weeks_after())
        ax.set_ylabel(t.join_week())
        return _png(figure)


def funnel_chart(funnels: Sequence[Funnel], *, language: str) -> bytes:
    """Every funnel's steps as bars, as a share of its first step, with the counts."""
    t = AnalyticsTexts(language)
    labels: list[str] = []
    rows: list[tuple[float, int, float | None, int]] = []  # share, count, from first, colour
    for f, funnel in enumerate(shown(funnels)[0]):
        labels.append(_short(t.funnel(funnel)))
        rows.append((0.0, -1, None, f))
        for i, step in enumerate(funnel.steps):
            labels.append("  " + t.step(step.key))
            share = funnel.from_first(i) or 0.0
            rows.append((share, step.count, funnel.from_first(i), f))
    with _style():
        height = 1.0 + 0.24 * max(len(labels), 3)
        figure = Figure(figsize=(8, height), dpi=DPI)
        # fixed margins: constrained layout would take as long again as the drawing
        figure.subplots_adjust(left=0.24, right=0.97, top=1 - 0.45 / height, bottom=0.3 / height)
        ax = figure.add_subplot()
        ax.set_title(t.funnel_title())
        if not funnels:
            _empty(ax, t)
            return _png(figure)
        y = np.arange(len(labels))
        colours = [COLOURS[f % len(COLOURS)] for *_, f in rows]
        ax.barh(y, [share for share, *_ in rows], color=colours, height=0.7)
        for row, (share, count, first, _) in enumerate(rows):
            if count >= 0:
                ax.text(share + 0.01, row, f"{count} · {percent(first)}", va="center",
                        fontsize=8)  # fmt: skip
        ax.set_yticks(y, labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1.2)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0%", "25%", "50%", "75%", "100%"])
        return _png(figure)


LABEL = 28  # characters of a funnel's name on the chart (the text has it whole)


def _short(label: str) -> str:
    return label if len(label) <= LABEL else label[: LABEL - 1] + "…"


def stats_charts(report: StatsReport, *, language: str) -> list[tuple[bytes, str]]:
    """/stats's four charts, each with its caption: growth and activity over the card's
    days, the retention cohorts, and the period's funnels."""
    t = AnalyticsTexts(language)
    days = report.card.days
    dates = [d.day for d in days]
    return [
        (
            growth_chart(dates, [d.joins for d in days], [d.leaves for d in days],
                         language=language),
            t.growth_title(),
        ),
        (
            activity_chart(dates, [d.active for d in days], [d.messages for d in days],
                           language=language),
            t.activity_title(),
        ),
        (cohort_heatmap(report.cohorts.table, language=language), t.cohorts(report.cohorts)),
        (
            funnel_chart(report.funnels.funnels, language=language),
            t.funnels_caption(report.card.period.days),
        ),
    ]  # fmt: skip
