"""/link list, the /stats block and the 复盘's channels fit one Telegram message however many
channels a group makes: the most joins first, then a line saying how many were left out."""

from __future__ import annotations

import datetime as dt

from campaigns.channels import Channel, ChannelPeriod, ChannelStats
from campaigns.content import visible_length
from handlers.channel_texts import ChannelTexts

T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def many(n: int) -> list[ChannelStats]:
    """n channels with the longest names and large figures; channel i has i joins."""
    return [
        ChannelStats(
            Channel(i, f"{i:02d}" + "渠" * 30, f"https://t.me/+{'x' * 16}{i:04d}", 10**9,
                    T0 if i % 2 else None),
            joins=i, confirmed=i, first_orders=i, orders=10**6, gmv=10**11,
        )
        for i in range(1, n + 1)
    ]  # fmt: skip


def test_a_long_list_keeps_the_channels_with_the_most_joins_and_fits_a_message():
    for language in ("en", "zh"):
        text = ChannelTexts(language).listing(many(40))

        assert visible_length(text, "HTML") <= 4096
        assert "<b>40" in text and "<b>26" in text and "<b>25" not in text  # 15 kept
    assert "…and 25 more channels with fewer joins" in ChannelTexts("en").listing(many(40))
    assert "more channels" not in ChannelTexts("en").listing(many(15))


def test_the_stats_block_keeps_eight():
    shown = [ChannelPeriod(s, s) for s in many(12)]

    block = ChannelTexts("en").period_block(shown) or ""

    assert block.count("ROI to date") == 8 and "…and 4 more channels" in block
    assert ChannelTexts("en").period_block([]) is None
