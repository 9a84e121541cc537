"""How `/groupbuy` and `/groupbuy new` are read: a verb and an id, or a named mistake."""

import datetime as dt

import pytest

from campaigns.coupons import parse_amount
from campaigns.groupbuy import (
    DealField,
    DealInputError,
    DealVerb,
    GroupBuyUsage,
    parse_deal,
    parse_groupbuy_command,
)

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
