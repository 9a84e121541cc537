"""`growthbot coupons create|post`: an offer members could never claim is refused, saying why."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from campaigns.coupon_variants import arm_of
from campaigns.coupons import CouponKind, Template
from campaigns.services.coupons import create_offer, issue_coupon
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWork
from tests.cli.conftest import CLI_GROUP, Cli

CREATE = ["coupons", "create", "--chat", str(CLI_GROUP), "--json"]
FIXED = ["--type", "fixed", "--value", "5"]


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ([*FIXED, "--name", "Spring", "--valid-until", "2020-01-01T00:00+08:00"],
         ["--valid-until: 2020-01-01T00:00:00+08:00 is already past", "e.g. --valid-until 20"]),
        ([*FIXED, "--name", "Spring", "--stock", "0"], ["--stock: 0", "e.g. --stock 100"]),
        ([*FIXED, "--name", " "], ["--name: empty", "e.g. --name"]),
        ([*FIXED, "--name", "Spring", "--currency", "XYZ"],
         ["--currency: XYZ is not an ISO 4217 currency code", "e.g. --currency CNY"]),
        (["--type", "gift", "--value", "10", "--name", "Cookie"],
         ["--value: a gift takes no money off", "e.g. --type gift --name"]),
        ([*FIXED, "--name", "Spring", "--valid-days", "99999999"],
         ["--valid-days: 99999999; give 1 to 3650", "e.g. --valid-days 30"]),
        ([*FIXED, "--name", "Spring", "--valid-days", "-5"], ["--valid-days: -5; give 1 to 3650"]),
        ([*FIXED, "--name", "Spring", "--valid-until", "9999-12-31T23:59:59+00:00"],
         ["--valid-until: 9999-12-31T23:59:59+00:00 is more than 3650 days away"]),
        ([*FIXED, "--name", "Spring", "--stock", "1000000001"], ["--stock: 1000000001", "1 to"]),
        ([*FIXED, "--name", "Spring", "--per-member", "101"], ["--per-member: 101; give 1 to 100"]),
    ],
    ids=["past-expiry", "stock-0", "empty-name", "unknown-currency", "gift-value",
         "valid-days-huge", "valid-days-negative", "valid-until-9999", "stock-huge",
         "per-member-huge"],
)  # fmt: skip
def test_an_offer_nobody_could_claim_is_refused_naming_the_option(
    cli: Cli, given: list[str], said: list[str]
):
    refused = cli(*CREATE, *given)
    made = cli(*CREATE, "--type", "gift", "--name", "Free cookie", "--stock", "5")

    assert refused.code == 2 and refused.err.count("\n") == 1
    assert all(part in refused.err for part in said), refused.err
    assert json.loads(made.out)["id"] == 1  # the refused offer was never stored


def test_an_expired_offer_is_not_posted(cli: Cli, database_url: str):
    ends = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)

    async def made_while_live() -> int:
        engine = create_engine(database_url)
        offer = await create_offer(
            SqlUnitOfWork(session_factory(engine)), chat_id=CLI_GROUP, name="Flash",
            template=Template(CouponKind.FIXED, 500, valid_until=ends), stock=None,
            per_member=1, at=ends - dt.timedelta(hours=1),
        )  # fmt: skip
        await engine.dispose()
        return offer.id

    offer_id = asyncio.run(made_while_live())

    posted = cli("coupons", "post", "--chat", str(CLI_GROUP), "--template", str(offer_id))

    assert posted.code == 1
    assert f"coupon offer {offer_id} expired at" in posted.err and "not posted" in posted.err
    assert cli.world.delivered(CLI_GROUP) == []


def test_an_offer_with_variants_and_a_holdout_is_created_from_the_command_line(cli: Cli):
    made = cli(*CREATE, "--name", "周末券", "--variant", "满100减10", "--variant", "B: 85折",
               "--holdout", "10", "--plan", "300", "--valid-days", "7")  # fmt: skip

    offer = json.loads(made.out)
    assert made.code == 0, made.err
    assert (offer["type"], offer["value"], offer["min_spend"]) == ("fixed", 1000, 10000)
    assert offer["variants"] == [
        {"arm": "A", "type": "fixed", "value": 1000, "min_spend": 10000, "cap": None},
        {"arm": "B", "type": "percent", "value": 1500, "min_spend": 0, "cap": None},
    ]
    assert (offer["holdout"], offer["plan"], offer["valid_days"]) == (10, 300, 7)


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (["--variant", "满100减10", "--variant", "lots off"],
         "--variant B: cannot read 'lots off' as a discount; write e.g. 满100减10"),
        (["--variant", "¥5", "--variant", "$5"], "--variant/--currency: different currencies"),
        (["--variant", "5", "--currency", "USD", "--variant", "¥5"], "different currencies"),
        (["--variant", "5", "--variant", "C: 6"], "the variant for B is labelled C"),
        (["--variant", "5", "--holdout", "60"], "--holdout: 60; give a percent from 0 to 50"),
        (["--variant", "5", "--plan", "0"], "--plan: 0; give the members per arm"),
        (["--variant", "5", *FIXED], "leave out --type, --value, --min-spend and --cap"),
        ([], "--type or --variant: give the terms"),
        (["--variant", "1", "--variant", "2", "--variant", "3", "--variant", "4", "--variant",
          "5"], "--variant: at most 4 (A-D), given 5"),
    ],
    ids=["unreadable", "two-currencies", "currency-option", "label", "holdout", "plan",
         "type-too", "no-terms", "five"],
)  # fmt: skip
def test_bad_variants_are_refused_naming_the_option(cli: Cli, given: list[str], said: str):
    refused = cli(*CREATE, "--name", "Test", *given)
    made = cli(*CREATE, "--name", "Plain", *FIXED)

    assert refused.code == 2 and said in refused.err, refused.err
    assert json.loads(made.out)["id"] == 1  # nothing was stored


def test_the_report_of_an_offers_test_is_the_chats_or_its_numbers(cli: Cli, database_url: str):
    cli(*CREATE, "--name", "Test", "--variant", "¥5", "--variant", "8折", "--holdout", "20")
    cli(*CREATE, "--name", "Plain", *FIXED)

    async def issue() -> None:
        engine = create_engine(database_url)
        async with SqlUnitOfWork(session_factory(engine)) as uow:
            offer = await uow.coupons.template(1)
            for member in range(100, 110):
                await issue_coupon(uow, offer, member, source="claim", at=dt.datetime.now(dt.UTC))
            await uow.coupons.hold_out(offer, 200, dt.datetime.now(dt.UTC))
            await uow.commit()
        await engine.dispose()

    asyncio.run(issue())
    report = ["coupons", "report", "--chat", str(CLI_GROUP), "--template"]
    text = cli(*report, "1")
    numbers = cli(*report, "1", "--json")
    plain = cli(*report, "2")
    unknown = cli(*report, "99")
    exported = cli("export", "coupons", "--chat", str(CLI_GROUP), "--format", "json")

    arms = {m: arm_of(1, m, 2, 20, may_hold_out=False) for m in range(100, 110)}
    data = json.loads(numbers.out)
    assert text.code == 0 and "📊 Offer #1 Test: A/B test" in text.out and "<b>" not in text.out
    assert "Held out (no coupon): 1 member" in text.out and "B against A" in text.out
    assert data["arms"]["A"]["members"] == sum(a == "A" for a in arms.values())
    assert data["arms"]["holdout"]["members"] == 1
    assert "redeemed_rate" not in data["arms"]["holdout"]
    assert [(t["arm"], t["control"], t["measure"]) for t in data["tests"]] == [
        ("B", "A", "redeemed"), ("B", "A", "ordered_14d"),
        ("A", "holdout", "ordered_14d"), ("B", "holdout", "ordered_14d"),
    ]  # fmt: skip
    assert data["still_counting"] is True
    assert data["tests"][0]["needed_per_arm"] is None  # nobody redeemed: no lift to detect
    assert {(c["member"], c["arm"]) for c in json.loads(exported.out)} == set(arms.items())
    assert plain.code == 1 and "has one set of terms and no holdout" in plain.err
    assert unknown.code == 1 and "is not an offer of group" in unknown.err


HUGE = "99999999999999999999"  # over a 64-bit signed integer


@pytest.mark.parametrize(
    "argv",
    [
        ["links", "--chat", HUGE],
        ["stats", "--chat", HUGE],
        ["segments", "--chat", HUGE],
        ["audience", "list", "--chat", HUGE],
        ["posts", "list", "--chat", HUGE],
        ["export", "coupons", "--chat", HUGE],
        ["coupons", "report", "--chat", str(CLI_GROUP), "--template", HUGE],
        ["coupons", "end", "--chat", str(CLI_GROUP), "--template", HUGE],
        ["coupons", "post", "--chat", str(CLI_GROUP), "--template", HUGE],
        [*CREATE, *FIXED, "--name", "Spring", "--stock", HUGE],
        ["campaign", "report", HUGE],
    ],
    ids=lambda argv: " ".join(argv[:2]) + (" --stock" if "--stock" in argv else ""),
)
def test_an_id_or_count_too_large_for_the_database_is_one_line_and_exit_2(
    cli: Cli, argv: list[str]
):
    with pytest.raises(SystemExit) as exited:  # argparse's own error, before the database
        cli(*argv)

    err = cli.capsys.readouterr().err
    assert exited.value.code == 2
    assert "to 9223372036854775807, e.g." in err.splitlines()[-1], err
    assert HUGE in err and "Traceback" not in err
