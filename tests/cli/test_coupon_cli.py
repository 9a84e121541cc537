"""`growthbot coupons create|post`: an offer members could never claim is refused, saying why."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from campaigns.coupons import CouponKind, Template
from campaigns.services.coupons import create_offer
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
    ],
    ids=["past-expiry", "stock-0", "empty-name", "unknown-currency", "gift-value"],
)  # fmt: skip
def test_an_offer_nobody_could_claim_is_refused_naming_the_option(
    cli: Cli, given: list[str], said: list[str]
):
    refused = cli(*CREATE, *given)
    made = cli(*CREATE, "--type", "gift", "--name", "Free cookie", "--stock", "5")

    assert refused.code == 2
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
