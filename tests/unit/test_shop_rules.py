"""The points shop's rules: the admins' words, the make-up card, and expiry oldest first."""

import datetime as dt
import random
from dataclasses import replace

import pytest

from campaigns.checkin import PreviousCheckin
from campaigns.settings import ChatSettings
from campaigns.shop import (
    ExpiryGrace,
    NewItem,
    RedeemProblem,
    RedeemRefused,
    ShopItemKind,
    ShopProblem,
    ShopUsage,
    ShopVerb,
    Upcoming,
    cutoff_on,
    expiring,
    expiry_cutoff,
    expiry_grace,
    months_before,
    outlook_days,
    parse_shop_command,
    plan_makeup,
    upcoming_expiry,
    with_expiry_grace,
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
    assert parse_shop_command(["add", "item", "Tea", "mug", "|", "500", "|", "3"]) == (
        ShopVerb.ADD,
        NewItem(ShopItemKind.ITEM, 500, name="Tea mug", stock=3),
    )
    assert parse_shop_command(["add", "item", "Tea", "mug", "500"]) == (
        ShopVerb.ADD,
        NewItem(ShopItemKind.ITEM, 500, name="Tea mug"),
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
    ("typed", "item"),
    [
        ("iPhone 15 | 100", NewItem(ShopItemKind.ITEM, 100, name="iPhone 15")),
        ("iPhone 15|5000|3", NewItem(ShopItemKind.ITEM, 5000, name="iPhone 15", stock=3)),
        ("2026 calendar 50", NewItem(ShopItemKind.ITEM, 50, name="2026 calendar")),
        ("2026 50", NewItem(ShopItemKind.ITEM, 50, name="2026")),
        ("帆布袋 ｜ ８０ ｜ 5", NewItem(ShopItemKind.ITEM, 80, name="帆布袋", stock=5)),
        ("  Tea   mug | 30", NewItem(ShopItemKind.ITEM, 30, name="Tea mug")),
    ],
)
def test_a_name_may_hold_numbers_when_bars_separate_the_price_and_stock(typed, item):
    assert parse_shop_command(["add", "item", *typed.split()]) == (ShopVerb.ADD, item)


def test_two_numbers_at_the_end_without_bars_are_refused_with_both_readings():
    with pytest.raises(ShopUsage) as refused:
        parse_shop_command(["add", "item", "iPhone", "15", "100"])

    assert refused.value.problem is ShopProblem.AMBIGUOUS
    assert refused.value.readings == ("iPhone 15 | 100", "iPhone | 15 | 100")


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
        (["add", "item", "\u200b", "10"], ShopProblem.NO_NAME),
        (["add", "item", "|", "10"], ShopProblem.NO_NAME),
        (["add", "item", "Mug", "|", "ten"], ShopProblem.BAD_PRICE),
        (["add", "item", "Mug", "|", "10", "|", "0"], ShopProblem.BAD_STOCK),
        (["add", "item", "Mug", "|", "10", "|", "1", "|", "2"], ShopProblem.USAGE),
        (["add", "item", "Mug"], ShopProblem.USAGE),
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
    ("before", "problem", "until"),
    [
        (None, RedeemProblem.MAKEUP_TOO_LATE, None),
        (PreviousCheckin(TODAY - DAY, 3), RedeemProblem.MAKEUP_NOT_NEEDED, None),
        (PreviousCheckin(TODAY - 3 * DAY, 3), RedeemProblem.MAKEUP_TOO_LATE, TODAY - 3 * DAY),
    ],
    ids=["never checked in", "yesterday was not missed", "more than one day missed"],
)
def test_a_makeup_card_is_refused_when_yesterday_is_not_the_one_missed_day(before, problem, until):
    with pytest.raises(RedeemRefused) as refused:
        plan_makeup(TODAY, before, checked_today=False, last_makeup=None, every_days=30)

    assert (refused.value.problem, refused.value.until) == (problem, until)


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


SHANGHAI = ChatSettings(timezone="Asia/Shanghai")


def test_turning_expiry_on_or_shortening_it_gives_a_week_of_grace():
    on = with_expiry_grace(SHANGHAI, replace(SHANGHAI, points_expiry_months=12), TODAY)
    shorter = with_expiry_grace(on, replace(on, points_expiry_months=6), TODAY + 3 * DAY)
    longer = with_expiry_grace(shorter, replace(shorter, points_expiry_months=24), TODAY)
    off = with_expiry_grace(on, replace(on, points_expiry_months=0), TODAY)

    assert on.points_expire_from == TODAY + 7 * DAY
    assert shorter.points_expire_from == TODAY + 10 * DAY
    assert longer.points_expire_from == shorter.points_expire_from  # nothing new goes sooner
    assert off.points_expiry_months == 0
    assert cutoff_on(TODAY + 6 * DAY, on) is None  # nothing expires in the grace
    assert cutoff_on(TODAY + 7 * DAY, on) == expiry_cutoff(TODAY + 7 * DAY, 12, "Asia/Shanghai")
    assert cutoff_on(TODAY, off) is None
    assert expiry_grace(on, TODAY) == ExpiryGrace(dt.date(2025, 12, 7), dt.date(2026, 12, 7))
    assert expiry_grace(on, TODAY).usable_until == dt.date(2026, 12, 6)  # type: ignore[union-attr]
    assert expiry_grace(on, TODAY + 7 * DAY) is None


def _gone(pairs: dict[int, int]) -> list[tuple[dt.date, int]]:
    """Points gone by each outlook day: `pairs` day offset -> points expiring that day."""
    total, out = 0, []
    for day in outlook_days(TODAY):
        total += pairs.get((day - TODAY).days, 0)
        out.append((day, total))
    return out


def test_the_reminder_names_the_first_real_expiry_day_and_what_goes_in_the_week_after():
    up = upcoming_expiry(TODAY, _gone({4: 10, 9: 5, 12: 1}), reminded=[])

    assert up == Upcoming(TODAY + 4 * DAY, 10, more=5, more_on=TODAY + 9 * DAY)  # not 12
    assert up is not None and up.usable_until == TODAY + 3 * DAY
    assert up.more_usable_until == TODAY + 8 * DAY


def test_each_expiry_day_is_reminded_of_once():
    assert upcoming_expiry(TODAY, _gone({8: 10}), reminded=[]) is None  # not within a week
    assert upcoming_expiry(TODAY, _gone({4: 10}), reminded=[TODAY + 4 * DAY]) is None
    later = upcoming_expiry(TODAY, _gone({4: 10, 7: 3}), reminded=[TODAY - 4 * DAY])
    apart = upcoming_expiry(TODAY, _gone({4: 10}), reminded=[TODAY - 3 * DAY])

    assert later == Upcoming(TODAY + 4 * DAY, 10, more=3, more_on=TODAY + 7 * DAY)
    assert apart == Upcoming(TODAY + 4 * DAY, 10)  # a reminder's week is over


def test_points_expiring_every_day_are_announced_once_a_week_each_ahead_of_its_day():
    sent: list[tuple[int, dt.date]] = []
    for n in range(28):
        today = TODAY + n * DAY
        gone_by, total = [], 0
        for day in outlook_days(today):
            total += 10 if day > today else 0  # 10 points go every day
            gone_by.append((day, total))
        up = upcoming_expiry(today, gone_by, [day for _, day in sent])
        if up is not None:
            sent.append((n, up.expires_on))

    assert [n for n, _ in sent] == [0, 1, 8, 15, 22]
    assert [(day - TODAY).days for _, day in sent] == [1, 8, 15, 22, 29]
    for n in range(1, 29):  # every day's points fall in the week of a reminder sent before
        assert any(on <= TODAY + n * DAY < on + 7 * DAY and at < n for at, on in sent), n
