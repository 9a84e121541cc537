"""The points shop's rules: the admins' words, the make-up card, and expiry oldest first."""

import datetime as dt
import random

import pytest

from campaigns.checkin import PreviousCheckin
from campaigns.shop import (
    NewItem,
    RedeemProblem,
    RedeemRefused,
    ShopItemKind,
    ShopProblem,
    ShopUsage,
    ShopVerb,
    expiring,
    expiry_cutoff,
    months_before,
    parse_shop_command,
    plan_makeup,
)

TODAY = dt.date(2026, 11, 30)
DAY = dt.timedelta(days=1)


def test_shop_alone_lists_and_orders_lists_redemptions():
    assert parse_shop_command([]) == (ShopVerb.LIST, None)
    assert parse_shop_command(["orders"]) == (ShopVerb.ORDERS, None)
    assert parse_shop_command(["end", "#7"]) == (ShopVerb.END, 7)


def test_add_reads_a_coupon_an_item_with_a_name_of_several_words_and_a_makeup_card():
    assert parse_shop_command(["add", "coupon", "12", "300"]) == (
        ShopVerb.ADD,
        NewItem(ShopItemKind.COUPON, 300, offer_id=12),
    )
    assert parse_shop_command(["add", "item", "Tea", "mug", "500", "3"]) == (
        ShopVerb.ADD,
        NewItem(ShopItemKind.ITEM, 500, name="Tea mug", stock=3),
    )
    assert parse_shop_command(["add", "item", "帆布袋", "８０"]) == (
        ShopVerb.ADD,
        NewItem(ShopItemKind.ITEM, 80, name="帆布袋"),
    )
    assert parse_shop_command(["add", "makeup", "50", "7"])[1] == NewItem(
        ShopItemKind.MAKEUP, 50, makeup_every_days=7
    )
    assert parse_shop_command(["add", "makeup", "50"])[1].makeup_every_days == 30  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        (["add", "item", "Mug", "0"], ShopProblem.BAD_PRICE),
        (["add", "item", "Mug", "-5"], ShopProblem.BAD_PRICE),
        (["add", "item", "Mug", "²"], ShopProblem.BAD_PRICE),
        (["add", "item", "100"], ShopProblem.USAGE),
        (["add", "coupon", "x", "100"], ShopProblem.BAD_ID),
        (["add", "makeup", "50", "0"], ShopProblem.BAD_DAYS),
        (["end", "abc"], ShopProblem.BAD_ID),
        (["sell", "1"], ShopProblem.USAGE),
        (["add", "item", "x" * 65, "10"], ShopProblem.NO_NAME),
    ],
)
def test_a_bad_shop_command_names_what_is_wrong(words, problem):
    with pytest.raises(ShopUsage) as refused:
        parse_shop_command(words)

    assert refused.value.problem is problem


def test_a_makeup_card_restores_yesterday_after_a_streak():
    plan = plan_makeup(
        TODAY, PreviousCheckin(TODAY - 2 * DAY, 5), checked_today=False, last_makeup=None,
        every_days=30,
    )  # fmt: skip

    assert (plan.day, plan.streak, plan.today_streak) == (TODAY - DAY, 6, None)


def test_a_makeup_card_after_todays_check_in_carries_the_streak_on_to_today():
    plan = plan_makeup(
        TODAY, PreviousCheckin(TODAY - 2 * DAY, 5), checked_today=True, last_makeup=None,
        every_days=30,
    )  # fmt: skip

    assert (plan.streak, plan.today_streak) == (6, 7)


@pytest.mark.parametrize(
    "before",
    [None, PreviousCheckin(TODAY - DAY, 3), PreviousCheckin(TODAY - 3 * DAY, 3)],
    ids=["never checked in", "yesterday was not missed", "more than one day missed"],
)
def test_a_makeup_card_is_refused_when_yesterday_is_not_the_one_missed_day(before):
    with pytest.raises(RedeemRefused) as refused:
        plan_makeup(TODAY, before, checked_today=False, last_makeup=None, every_days=30)

    assert refused.value.problem is RedeemProblem.MAKEUP_NOT_NEEDED


def test_a_makeup_card_works_once_in_n_days():
    before = PreviousCheckin(TODAY - 2 * DAY, 5)

    with pytest.raises(RedeemRefused) as refused:
        plan_makeup(TODAY, before, checked_today=False, last_makeup=TODAY - 6 * DAY, every_days=7)
    plan = plan_makeup(
        TODAY, before, checked_today=False, last_makeup=TODAY - 7 * DAY, every_days=7
    )

    assert refused.value.problem is RedeemProblem.MAKEUP_TOO_SOON
    assert refused.value.until == TODAY + DAY
    assert plan.streak == 6


def test_months_before_keeps_the_day_or_takes_the_months_last():
    assert months_before(dt.date(2026, 11, 30), 12) == dt.date(2025, 11, 30)
    assert months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2028, 3, 31), 1) == dt.date(2028, 2, 29)
    assert months_before(dt.date(2026, 1, 15), 3) == dt.date(2025, 10, 15)


def test_the_cutoff_is_local_midnight_of_the_day_months_before():
    cutoff = expiry_cutoff(dt.date(2026, 11, 30), 12, "Asia/Shanghai")

    assert cutoff == dt.datetime(2025, 11, 29, 16, 0, tzinfo=dt.UTC)


def test_expiry_takes_the_oldest_points_first_after_what_was_spent():
    assert expiring(earned_before=100, debits=30, balance=200) == 70
    assert expiring(earned_before=100, debits=130, balance=50) == 0
    assert expiring(earned_before=100, debits=0, balance=40) == 40  # never below zero


def _simulate(entries: list[tuple[int, int]], cutoff: int) -> int:
    """The long way: lots of points, each debit eating the oldest first; what is left of the
    lots earned before `cutoff` expires."""
    lots: list[list[int]] = []  # [time, amount left]
    for at, delta in entries:
        if delta > 0:
            lots.append([at, delta])
            continue
        owed = -delta
        for lot in lots:
            take = min(lot[1], owed)
            lot[1] -= take
            owed -= take
    return sum(left for at, left in lots if at < cutoff)


def test_the_rule_agrees_with_spending_lot_by_lot_oldest_first():
    rng = random.Random(15)
    for _ in range(500):
        entries, balance = [], 0
        for at in range(rng.randint(1, 30)):
            if balance and rng.random() < 0.4:
                delta = -rng.randint(1, balance)
            else:
                delta = rng.randint(1, 50)
            balance += delta
            entries.append((at, delta))
        cutoff = rng.randint(0, len(entries))
        earned = sum(d for at, d in entries if d > 0 and at < cutoff)
        debits = sum(-d for _, d in entries if d < 0)

        assert expiring(earned_before=earned, debits=debits, balance=balance) == _simulate(
            entries, cutoff
        )


def test_points_expiry_is_a_group_setting_in_months_zero_for_never():
    from campaigns.errors import InvalidSetting
    from campaigns.settings import ChatSettings, apply_setting

    set_to = apply_setting(ChatSettings(), "points_expiry_months", "12")
    off = apply_setting(set_to, "points_expiry_months", "0")

    assert set_to.points_expiry_months == 12
    assert ("points_expiry_months", "12") in set_to.as_pairs()
    assert off.points_expiry_months == 0
    with pytest.raises(InvalidSetting) as refused:
        apply_setting(ChatSettings(), "points_expiry_months", "121")
    assert refused.value.reason == "out_of_range"
