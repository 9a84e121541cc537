"""How a campaign report names the broadcasts attached to it, in English and Chinese."""

from __future__ import annotations

import pytest

from campaigns.campaign import AttachKind, Response
from handlers.campaign_texts import CampaignTexts


@pytest.mark.parametrize(
    ("language", "named"),
    [
        ("en", "#7 A/B test of 2 texts, A: We miss you …!: 3/4 (75%)"),
        ("zh", "#7 A/B 测试（2 个版本），A：We miss you …!: 3/4 (75%)"),
    ],
)
def test_an_ab_broadcast_is_named_as_a_test_not_as_its_first_variant(language, named):
    ab = Response(AttachKind.BROADCAST, 7, "We miss you …!", sent=4, responded=3, variants=2)
    plain = Response(AttachKind.BROADCAST, 8, "News &amp; <b>", sent=2, responded=0)

    [block] = CampaignTexts(language).responses([ab, plain])

    assert named in block
    assert "#8 News &amp;amp; &lt;b&gt;: 0/2 (0%)" in block  # a plain one: its line, escaped
