"""Charts render as PNG photos, in Chinese with a real CJK font (no missing-glyph boxes)."""

from __future__ import annotations

import datetime as dt
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from campaigns.cohorts import cohort_table, week_start
from campaigns.funnels import Funnel, FunnelKind
from handlers import charts

ROOT = Path(__file__).resolve().parents[2]

PNG = b"\x89PNG\r\n\x1a\n"
MISSING_GLYPH = r"Glyph \d+ .* missing from font\(s\)"
DAYS = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(30)]
NOW = dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def missing_glyphs_fail():
    """Matplotlib warns when a font lacks a character (it draws an empty box): an error here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=MISSING_GLYPH, category=UserWarning)
        yield


def size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    return width, height


def table():
    joins = {u: NOW - dt.timedelta(days=u % 50) for u in range(200)}
    active = [(u, week_start((NOW - dt.timedelta(days=(u * 7) % 40)).date())) for u in range(200)]
    return cohort_table(joins, active, timezone="Asia/Shanghai", weeks=8, now=NOW)


FUNNELS = [
    Funnel.of(FunnelKind.REFERRAL, [40, 20, 15, 5]),
    Funnel.of(FunnelKind.COUPON, [100, 30], title="满199减30"),
    Funnel.of(FunnelKind.NEW_MEMBER, [60, 40, 20, 0]),
]
CHARTS = {
    "growth": lambda lang: charts.growth_chart(
        DAYS, [i % 7 for i in range(30)], [i % 3 for i in range(30)], language=lang
    ),
    "activity": lambda lang: charts.activity_chart(
        DAYS, [i % 9 for i in range(30)], [i * 4 for i in range(30)], language=lang
    ),
    "cohorts": lambda lang: charts.cohort_heatmap(table(), language=lang),
    "funnels": lambda lang: charts.funnel_chart(FUNNELS, language=lang),
}


def test_a_cjk_font_is_installed_and_chosen():
    assert charts.cjk_font() in charts.FONTS


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_each_chart_is_a_png_with_every_glyph_drawn(chart, language):
    width, height = size(CHARTS[chart](language))

    assert 400 <= width <= 1600 and 200 <= height <= 1600


def test_empty_data_still_gives_a_chart_saying_so():
    for png in (
        charts.growth_chart([], [], [], language="zh"),
        charts.activity_chart([], [], [], language="zh"),
        charts.funnel_chart([], language="zh"),
    ):
        assert size(png)[0] > 0


def test_a_label_in_a_script_the_font_lacks_fails_the_check():
    tamil = Funnel.of(FunnelKind.COUPON, [3, 1], title="கூப்பன்")

    with pytest.raises(UserWarning, match=MISSING_GLYPH):
        charts.funnel_chart([tamil], language="zh")


def test_starting_the_bot_does_not_import_matplotlib():
    """The charts module (and matplotlib, about a second) is imported by the first chart, in
    its worker thread; starting the bot or a CLI command does not pay for it."""
    code = "import sys, bot.app, bot.cli; print('matplotlib' in sys.modules)"

    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout

    assert loaded.strip() == "False"


def test_a_group_with_many_long_offers_still_gets_a_chart_telegram_accepts():
    """150 offers with long names: the chart draws the most claimed (the text says how many
    more), short labels, within Telegram's photo limits (width + height at most 10,000)."""
    name = "双十一狂欢节全场满199减30元超级优惠券（限新会员）Double Eleven mega coupon"
    offers = [
        Funnel.of(FunnelKind.COUPON, [i, i // 2], title=f"{name} {i}", offer_id=i)
        for i in range(150)
    ]
    width, height = size(charts.funnel_chart(offers, language="zh"))

    assert width + height <= 10_000 and height < 1_500
