"""Group-buy rules: a deal's terms refused with the part at fault, and how `/groupbuy` and
`/groupbuy new` are read (a verb and an id, or a named mistake)."""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.coupons import parse_amount
from campaigns.groupbuys import (
    Deal,
    DealField,
    DealInputError,
    DealVerb,
    GroupBuyUsage,
    parse_deal,
    parse_groupbuy_command,
)

ENDS = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
TERMS = {"title": "奶茶三人团", "price": 3000, "group_price": 1990, "size": 3,
         "team_minutes": 60, "ends_at": ENDS}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"size": 1}, DealField.SIZE),
        ({"size": 51}, DealField.SIZE),
        ({"group_price": 3000}, DealField.GROUP_PRICE),
        ({"team_minutes": 0}, DealField.MINUTES),
        ({"stock": 0}, DealField.STOCK),
    ],
)
def test_bad_terms_name_the_field(change, field):
    with pytest.raises(DealInputError) as caught:
        Deal(**(TERMS | change))

    assert caught.value.field is field


NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("new 3 32 19.9 120 48 Mango sago", (DealVerb.NEW, None)),
        ("NEW", (DealVerb.NEW, None)),  # its words are parse_deal's to refuse
        ("list", (DealVerb.LIST, None)),
        ("list #7", (DealVerb.LIST, 7)),  # an id after list is ignored, as it always was
        ("post 7", (DealVerb.POST, 7)),
        ("End #7", (DealVerb.END, 7)),
    ],
)
def test_groupbuy_commands_are_a_verb_and_the_deal_they_name(typed: str, read: tuple):
    assert parse_groupbuy_command(typed.split()) == read


@pytest.mark.parametrize("typed", ["", "post", "post x", "end 0", "end ²", "post 7 8", "close 7"])
def test_anything_else_is_answered_with_the_usage(typed: str):
    with pytest.raises(GroupBuyUsage):
        parse_groupbuy_command(typed.split())


def test_a_new_deal_is_read_from_its_six_parts_and_the_first_wrong_one_is_named():
    deal = parse_deal(["3", "32", "19.9", "120", "48", "Mango", "sago"], NOW, parse_amount)

    with pytest.raises(DealInputError) as short:
        parse_deal(["3", "32"], NOW, parse_amount)

    assert (deal.title, deal.size, deal.price, deal.group_price) == ("Mango sago", 3, 3200, 1990)
    assert deal.ends_at == NOW + dt.timedelta(hours=48)
    assert short.value.field is DealField.ARGUMENTS
