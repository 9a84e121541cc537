"""A deal's terms are refused with the part at fault, as a code."""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.groupbuy import Deal, DealField, DealInputError

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
