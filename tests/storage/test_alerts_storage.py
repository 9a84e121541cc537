"""Alerts in storage: each condition found from the stored rows, each key sent once even
when two runners race, and again the next local day while still true; on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

from campaigns.alerts import AlertKey, AlertKind, LeaveAlert, PaceAlert, StockAlert
from campaigns.campaign import Campaign
from campaigns.services.alerts import due_alerts
from campaigns.services.campaigns import create_campaign
from campaigns.stats import Kpi
from storage.models import CouponTemplateRow, DailyStatsRow, DealRow
from tests.storage.test_rule_prefilters import seed_chat

NOW = dt.datetime(2026, 11, 5, 12, tzinfo=dt.UTC)
D = dt.timedelta(days=1)
GROUP = -100901


async def seed(uow_factory) -> dict[str, int]:
    """A group with a low offer, a plenty offer, an unlimited one, a sold-out ended one, a
    low deal, a campaign behind its pace and a day of many leaves."""
    async with uow_factory() as uow:
        session = uow.session
        pk = (await seed_chat(session, GROUP)).id

        def offer(name: str, stock: int | None, issued: int, active: bool = True):
            return CouponTemplateRow(
                chat_id=pk, name=name, kind="fixed", value=3000, currency="CNY",
                stock=stock, issued=issued, active=active, created_at=NOW - 9 * D,
            )  # fmt: skip

        low, plenty = offer("low", 100, 90), offer("plenty", 100, 50)
        session.add_all([low, plenty, offer("unlimited", None, 500), offer("ended", 10, 10, False)])
        await session.flush()
        deal = DealRow(
            chat_id=pk, title="Tea", price=1000, group_price=800, currency="CNY", size=2,
            team_minutes=60, ends_at=NOW + 3 * D, stock=20, taken=19, offer_id=plenty.id,
            created_at=NOW - D,
        )  # fmt: skip
        session.add(deal)
        start = NOW.date() - 3 * D
        session.add_all(
            [DailyStatsRow(chat_id=pk, day=start + i * D, joins=10) for i in range(3)]
            + [DailyStatsRow(chat_id=pk, day=NOW.date(), leaves=7)]
        )
        await session.flush()
        ids = {"pk": pk, "low": low.id, "deal": deal.id}
        await uow.commit()
    made = await create_campaign(
        uow_factory(),
        chat_id=GROUP,
        campaign=Campaign("双11", start, start + 9 * D, targets={Kpi.JOINS: 1000}),
        by=None,
        at=NOW - 4 * D,
    )
    ids["campaign"] = made.id
    return ids


def keys(runs) -> list[tuple[AlertKind, int]]:
    return sorted((due.alert.kind, due.alert.object_id) for run in runs for due in run)


async def test_each_alert_is_sent_once_a_day_even_by_two_runners(uow_factory):
    ids = await seed(uow_factory)

    both = await asyncio.gather(
        due_alerts(uow_factory, now=NOW), due_alerts(uow_factory, now=NOW + dt.timedelta(hours=1))
    )
    again = await due_alerts(uow_factory, now=NOW + dt.timedelta(hours=2))
    next_day = await due_alerts(uow_factory, now=NOW + D)

    expected = sorted(
        [
            (AlertKind.OFFER_STOCK, ids["low"]),
            (AlertKind.DEAL_STOCK, ids["deal"]),
            (AlertKind.CAMPAIGN_PACE, ids["campaign"]),
            (AlertKind.LEAVE_SPIKE, 0),
        ]
    )
    assert keys(both) == expected
    assert again == []
    # the next day: stock and pace still true; the leaves were yesterday's
    assert keys([next_day]) == [k for k in expected if k[0] is not AlertKind.LEAVE_SPIKE]


async def test_the_alerts_say_what_and_how_much(uow_factory):
    await seed(uow_factory)

    found = {due.alert.kind: due for due in await due_alerts(uow_factory, now=NOW)}

    offer, deal = found[AlertKind.OFFER_STOCK].alert, found[AlertKind.DEAL_STOCK].alert
    assert isinstance(offer, StockAlert) and (offer.name, offer.remaining, offer.stock) == (
        "low",
        10,
        100,
    )
    assert isinstance(deal, StockAlert) and (deal.name, deal.remaining) == ("Tea", 1)
    pace = found[AlertKind.CAMPAIGN_PACE].alert
    assert isinstance(pace, PaceAlert)
    [line] = pace.behind
    assert (line.actual, line.expected) == (30, 300)  # 3 of 10 days: 300 due, 30 came
    leaves = found[AlertKind.LEAVE_SPIKE].alert
    assert isinstance(leaves, LeaveAlert) and leaves.leaves == 7
    assert {due.chat_id for due in found.values()} == {GROUP}


async def test_two_claims_of_one_key_in_parallel_transactions_give_one_send(uow_factory):
    ids = await seed(uow_factory)
    key = AlertKey(ids["pk"], AlertKind.LEAVE_SPIKE, 0, NOW.date())

    async def claim() -> bool:
        async with uow_factory() as uow:
            won = await uow.alerts.claim(key, NOW)
            await uow.commit()
        return won

    assert sorted(await asyncio.gather(claim(), claim())) == [False, True]
