"""Coupon math in minor units, validity, and codes that catch typos."""

import datetime as dt

import pytest

from campaigns.coupons import (
    AmountError,
    AmountProblem,
    CouponCommand,
    CouponKind,
    CouponRejected,
    CouponState,
    CouponUsage,
    OfferProblem,
    OfferRefused,
    OfferState,
    OfferVerb,
    Reason,
    Template,
    check_offer,
    check_usable,
    coupon_state,
    discount,
    format_amount,
    new_code,
    normalize,
    offer_state,
    parse_amount,
    parse_money,
    parse_offer_command,
    parse_redeem,
    reminder_due,
    used_at,
)

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
MANJIAN = Template(CouponKind.FIXED, value=3000, min_spend=19900)  # 满199减30
NO_THRESHOLD = Template(CouponKind.FIXED, value=500)  # 无门槛 5 元
TEN_PERCENT_CAP_50 = Template(CouponKind.PERCENT, value=1000, cap=5000)
GIFT = Template(CouponKind.GIFT, value=0, min_spend=10000)


@pytest.mark.parametrize(
    ("template", "order", "off"),
    [
        (MANJIAN, 19900, 3000),  # exactly the threshold counts
        (MANJIAN, 50000, 3000),
        (NO_THRESHOLD, 1, 1),  # never more than the order
        (NO_THRESHOLD, 500, 500),
        (NO_THRESHOLD, 12345, 500),
        (TEN_PERCENT_CAP_50, 19999, 1999),  # 199.99 * 10% = 19.999 -> 19.99, rounded down
        (TEN_PERCENT_CAP_50, 50000, 5000),  # at the cap
        (TEN_PERCENT_CAP_50, 99999, 5000),  # over the cap
        (Template(CouponKind.PERCENT, value=1250), 333, 41),  # 12.5% of 3.33 = 0.41625
        (GIFT, 10000, 0),
    ],
)
def test_discounts(template, order, off):
    assert discount(template, order) == off


@pytest.mark.parametrize(("template", "order"), [(MANJIAN, 19899), (GIFT, 9999)])
def test_below_the_minimum_spend_is_refused_with_the_threshold(template, order):
    with pytest.raises(CouponRejected) as err:
        discount(template, order)
    assert err.value.reason is Reason.BELOW_MIN_SPEND
    assert err.value.detail == template.min_spend


@pytest.mark.parametrize(
    ("raw", "minor"),
    [("199", 19900), ("199.9", 19990), ("199.90", 19990), ("0.01", 1), ("1,299", 129900),
     ("¥30", 3000)],
)  # fmt: skip
def test_amounts_are_typed_in_major_units_and_kept_exact(raw, minor):
    assert parse_amount(raw) == minor


@pytest.mark.parametrize(
    "raw",
    ["abc", "-5", "1.999", "nan", "inf", "", "1e20", "1e999999999", "-1e999999999",
     "1e-999999999", "0e999999999", "Infinity", "sNaN", "-0", "٣", "1_000", "$5 USD",
     "1." + "0" * 40 + "1"],
)  # fmt: skip
def test_bad_amounts_are_refused_with_a_value_error_only(raw):
    with pytest.raises(ValueError):
        parse_amount(raw)


@pytest.mark.parametrize(
    ("raw", "money"),
    [("199", (19900, None)), ("¥30", (3000, "CNY")), ("￥30", (3000, "CNY")),
     ("$5", (500, "USD")), ("12.50 usd", (1250, "USD")), ("１９９", (19900, None))],
)  # fmt: skip
def test_an_amount_may_name_its_currency(raw, money):
    assert parse_money(raw) == money


def test_a_zero_order_a_zero_discount_and_another_currency_are_refused():
    args = {"status": "active", "issued_at": NOW, "expires_at": None, "now": NOW}
    tenth = Template(CouponKind.PERCENT, value=1000)

    for template, order, currency, reason in (
        (NO_THRESHOLD, 0, "CNY", Reason.NOTHING_TO_PAY),
        (tenth, 5, "CNY", Reason.NO_DISCOUNT),  # 10% of 0.05 rounds down to nothing
        (NO_THRESHOLD, 1000, "USD", Reason.CURRENCY),
    ):
        with pytest.raises(CouponRejected) as err:
            check_usable(template, order=order, currency=currency, **args)
        assert err.value.reason is reason
    assert check_usable(GIFT, order=10000, currency="CNY", **args) == 0  # a gift is no money


def test_a_coupon_is_never_used_before_it_was_issued():
    later = NOW + dt.timedelta(hours=1)

    assert used_at(later, NOW) == later
    with pytest.raises(CouponRejected) as err:  # judged at issue, when it had already expired
        check_usable(
            NO_THRESHOLD,
            status="active",
            issued_at=later,
            expires_at=NOW + dt.timedelta(minutes=30),
            order=1000,
            currency="CNY",
            now=NOW,
        )
    assert err.value.reason is Reason.EXPIRED


def test_amounts_are_shown_in_major_units():
    assert format_amount(19990, "CNY") == "¥199.90"
    assert format_amount(123456, "USD") == "1,234.56 USD"


def test_validity_is_the_earlier_of_the_window_and_days_after_issue():
    window_end = NOW + dt.timedelta(days=3)
    both = Template(CouponKind.FIXED, value=100, valid_until=window_end, valid_days=7)
    days = Template(CouponKind.FIXED, value=100, valid_days=7)

    assert both.expires_at(NOW) == window_end
    assert days.expires_at(NOW) == NOW + dt.timedelta(days=7)
    assert NO_THRESHOLD.expires_at(NOW) is None


def test_used_expired_and_early_coupons_are_refused():
    early = Template(CouponKind.FIXED, value=100, valid_from=NOW + dt.timedelta(hours=1))
    args = {"issued_at": NOW, "order": 1000, "currency": "CNY", "now": NOW}

    for template, status, expires, reason in (
        (NO_THRESHOLD, "used", None, Reason.USED),
        (NO_THRESHOLD, "active", NOW, Reason.EXPIRED),  # expiry is exclusive
        (early, "active", None, Reason.NOT_YET),
    ):
        with pytest.raises(CouponRejected) as err:
            check_usable(template, status=status, expires_at=expires, **args)
        assert err.value.reason is reason
    assert check_usable(NO_THRESHOLD, status="active", expires_at=None, **args) == 500


def test_invalid_templates_are_refused():
    bad = [(CouponKind.PERCENT, 0), (CouponKind.PERCENT, 10_001), (CouponKind.FIXED, 0)]
    for kind, value in bad:
        with pytest.raises(ValueError):
            Template(kind, value)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("abc", AmountProblem.NOT_AN_AMOUNT),
        ("$5 USD", AmountProblem.NOT_AN_AMOUNT),
        ("1e20", AmountProblem.TOO_LARGE),
        ("1.999", AmountProblem.TOO_PRECISE),
    ],
)
def test_bad_amounts_are_refused_with_a_code_and_what_was_typed(raw, problem):
    with pytest.raises(AmountError) as caught:
        parse_amount(raw)

    assert (caught.value.problem, caught.value.raw) == (problem, raw)


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ({"kind": CouponKind.PERCENT, "value": 10_001}, OfferProblem.PERCENT),
        ({"kind": CouponKind.FIXED, "value": 0}, OfferProblem.FIXED),
        ({"kind": CouponKind.FIXED, "value": 500, "min_spend": -1}, OfferProblem.MIN_SPEND),
        ({"kind": CouponKind.PERCENT, "value": 1000, "cap": 0}, OfferProblem.CAP),
    ],
)
def test_invalid_templates_name_the_problem(template, problem):
    with pytest.raises(OfferRefused) as caught:
        Template(**template)

    assert caught.value.problem is problem


def test_codes_are_readable_and_survive_look_alikes_and_spacing():
    code = new_code()
    typed = code.replace("-", " ").lower().replace("0", "o").replace("1", "l")

    assert len(code) == 12 and code.count("-") == 2
    assert normalize(typed) == code


@pytest.mark.parametrize("attempt", range(20))
def test_every_single_typo_and_swap_of_neighbours_is_caught(attempt):
    code = new_code().replace("-", "")
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    typos = [
        code[:i] + ch + code[i + 1 :] for i in range(len(code)) for ch in alphabet if ch != code[i]
    ]
    swaps = [
        code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        for i in range(len(code) - 1)
        if code[i] != code[i + 1]
    ]

    for wrong in typos + swaps:
        with pytest.raises(CouponRejected):
            normalize(wrong)


YEAR_9999 = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
TEN_YEARS_ON = NOW + dt.timedelta(days=3651)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"name": "  "}, OfferProblem.NAME),
        ({"template": Template(CouponKind.FIXED, 500, valid_until=NOW)}, OfferProblem.EXPIRED),
        ({"stock": 0}, OfferProblem.STOCK),
        ({"per_member": 0}, OfferProblem.PER_MEMBER),
        ({"audience_joined_days": 0}, OfferProblem.AUDIENCE),
        ({"audience_joined_days": 3651}, OfferProblem.AUDIENCE),
        ({"stock": 10**9 + 1}, OfferProblem.STOCK),
        ({"per_member": 101}, OfferProblem.PER_MEMBER),
        ({"template": Template(CouponKind.FIXED, 500, valid_days=10**8)}, OfferProblem.VALID_DAYS),
        ({"template": Template(CouponKind.FIXED, 500, valid_days=-5)}, OfferProblem.VALID_DAYS),
        ({"template": Template(CouponKind.FIXED, 500, valid_days=0)}, OfferProblem.VALID_DAYS),
        (
            {"template": Template(CouponKind.FIXED, 500, valid_until=YEAR_9999)},
            OfferProblem.TOO_LATE,
        ),
        (
            {"template": Template(CouponKind.FIXED, 500, valid_until=TEN_YEARS_ON)},
            OfferProblem.TOO_LATE,
        ),
        ({"template": Template(CouponKind.FIXED, 500, currency="XYZ")}, OfferProblem.CURRENCY),
        ({"template": Template(CouponKind.GIFT, 500)}, OfferProblem.GIFT_VALUE),
    ],
)
def test_an_offer_nobody_could_claim_as_made_is_refused_with_its_problem(change, problem):
    offer = {"name": "满199减30", "template": MANJIAN, "stock": 100, "per_member": 1,
             "audience_joined_days": None, "now": NOW} | change  # fmt: skip

    with pytest.raises(OfferRefused) as refused:
        check_offer(**offer)

    assert refused.value.problem is problem


def test_a_claimable_offer_passes_its_rules():
    later = NOW + dt.timedelta(days=1)

    check_offer(name="Free cookie", template=Template(CouponKind.GIFT, 0, valid_until=later),
                stock=None, per_member=1, audience_joined_days=7, now=NOW)  # fmt: skip


def test_an_offer_at_the_validity_bounds_is_accepted_and_every_expiry_fits_a_datetime():
    longest = Template(CouponKind.FIXED, 500, valid_days=3650,
                       valid_until=NOW + dt.timedelta(days=3650))  # fmt: skip

    check_offer(name="十年券", template=longest, stock=10**9, per_member=100,
                audience_joined_days=3650, now=NOW)  # fmt: skip

    assert longest.expires_at(NOW + dt.timedelta(days=3650)) == NOW + dt.timedelta(days=3650)


def test_an_offer_stored_with_unusable_dates_reads_as_ended_not_live():
    forever = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    states = [
        offer_state(active=True, valid_until=None, stock=None, issued=0, now=NOW,
                    valid_days=99999999),
        offer_state(active=True, valid_until=None, stock=None, issued=0, now=NOW,
                    valid_days=-5),
        offer_state(active=True, valid_until=forever, stock=None, issued=0, now=NOW),
        offer_state(active=True, valid_until=None, stock=None, issued=0, now=NOW, valid_days=7),
    ]  # fmt: skip

    assert states == [OfferState.ENDED] * 3 + [OfferState.LIVE]


def test_a_coupon_is_used_or_expires_at_its_expiry_exactly():
    hour = dt.timedelta(hours=1)

    states = [
        coupon_state("used", NOW - hour, NOW),
        coupon_state("active", NOW, NOW),
        coupon_state("active", NOW + hour, NOW),
        coupon_state("active", None, NOW),
    ]

    assert states == [CouponState.USED, CouponState.EXPIRED, CouponState.ACTIVE, CouponState.ACTIVE]
    assert reminder_due("active", NOW + hour, NOW, NOW + hour)
    assert not reminder_due("active", None, NOW, NOW + hour)


def test_an_offer_is_live_sold_out_or_ended_by_one_rule():
    from campaigns.coupons import OfferState, offer_state

    now = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    later = now + dt.timedelta(days=1)

    live = offer_state(active=True, valid_until=later, stock=5, issued=4, now=now)
    sold = offer_state(active=True, valid_until=later, stock=5, issued=5, now=now)
    past = offer_state(active=True, valid_until=now, stock=None, issued=0, now=now)
    ended = offer_state(active=False, valid_until=None, stock=5, issued=5, now=now)

    assert (live, sold, past, ended) == (
        OfferState.LIVE, OfferState.SOLD_OUT, OfferState.ENDED, OfferState.ENDED
    )  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("7KQ2-M9XD-4T 199", ("7KQ2-M9XD-4T", 19900, None)),
        ("7kq2 m9xd 4t ¥199.90", ("7kq2 m9xd 4t", 19990, "CNY")),  # a code typed with spaces
        ("7KQ2-M9XD-4T $5", ("7KQ2-M9XD-4T", 500, "USD")),
    ],
)
def test_redeem_reads_the_code_and_the_order_amount_last(typed: str, read: tuple):
    assert parse_redeem(typed.split()) == read


@pytest.mark.parametrize("typed", ["", "199", "7KQ2-M9XD-4T", "7KQ2-M9XD-4T 1e999999999"])
def test_redeem_without_a_code_or_an_amount_is_answered_with_its_usage(typed: str):
    with pytest.raises(CouponUsage) as usage:
        parse_redeem(typed.split())

    assert usage.value.command is CouponCommand.REDEEM


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("list", (OfferVerb.LIST, None)),
        ("LIST", (OfferVerb.LIST, None)),
        ("post 12", (OfferVerb.POST, 12)),
        ("grant #12", (OfferVerb.GRANT, 12)),
        ("End 12", (OfferVerb.END, 12)),
    ],
)
def test_coupon_commands_are_a_verb_and_the_offer_they_name(typed: str, read: tuple):
    assert parse_offer_command(typed.split()) == read


@pytest.mark.parametrize("typed", ["", "list 1", "post", "post ²", "post 0", "post 1 2", "give 1"])
def test_other_coupon_commands_are_answered_with_the_usage(typed: str):
    with pytest.raises(CouponUsage) as usage:
        parse_offer_command(typed.split())

    assert usage.value.command is CouponCommand.COUPON


@pytest.mark.parametrize("name", ["", "   ", "券" * 65])
def test_an_offer_name_is_not_empty_and_fits_what_buttons_and_reports_show(name):
    with pytest.raises(OfferRefused) as caught:
        check_offer(
            name=name, template=Template(kind=CouponKind.FIXED, value=500), stock=None,
            per_member=1, audience_joined_days=None, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        )  # fmt: skip

    assert caught.value.problem is OfferProblem.NAME
    check_offer(
        name="券" * 64, template=Template(kind=CouponKind.FIXED, value=500), stock=None,
        per_member=1, audience_joined_days=None, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )  # fmt: skip
