"""`growthbot campaign` in process: the 复盘 as Markdown and JSON (CSAT and NPS targets with
their attached surveys too), the list, an unknown id."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from bot.campaign_cli import retro_json, retro_markdown
from campaigns.campaign import Campaign, RetroFacts, retro
from campaigns.services.campaigns import create_campaign
from campaigns.stats import Kpi
from campaigns.surveys import Survey, SurveyKind, survey_result
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWork
from tests.cli.conftest import CLI_GROUP, Cli
from tests.cli.test_stats_cli import seed


def a_campaign(url: str) -> int:
    """A running campaign from two days ago to tomorrow over the stats seed (two joins, two
    orders of Ann worth ¥20 an hour ago), with targets on orders and GMV."""
    today = dt.datetime.now(dt.UTC).date()
    made = Campaign(
        "周年庆", today - dt.timedelta(days=2), today + dt.timedelta(days=1),
        targets={Kpi.ORDERS: 4, Kpi.GMV: 10_000}, budget=5_000,
    )  # fmt: skip

    async def run() -> int:
        engine = create_engine(url)
        uow = SqlUnitOfWork(session_factory(engine))
        record = await create_campaign(
            uow, chat_id=CLI_GROUP, campaign=made, by=None, at=dt.datetime.now(dt.UTC)
        )
        await engine.dispose()
        return record.id

    return asyncio.run(run())


def test_the_report_as_markdown_has_targets_money_and_definitions(cli: Cli, database_url: str):
    seed(database_url)
    campaign_id = a_campaign(database_url)

    done = cli("campaign", "report", str(campaign_id))

    assert done.code == 0, done.err
    assert done.out.startswith(f"# 复盘 · 周年庆 (#{campaign_id})")
    assert "| orders | 4 | 2 | 50% |" in done.out and "| gmv | ¥100.00 | ¥20.00 | 20% |" in done.out
    assert "- Cost ¥0.00 = coupon discounts ¥0.00 + 0 referral points × ¥0.01" in done.out
    assert "- ROI – = (attributed GMV − cost) / cost" in done.out


def test_the_report_as_json_and_the_list(cli: Cli, database_url: str):
    seed(database_url)
    campaign_id = a_campaign(database_url)

    report = cli("campaign", "report", str(campaign_id), "--format", "json")
    listing = cli("campaign", "list", "--chat", str(CLI_GROUP), "--json")

    assert report.code == 0 and listing.code == 0, report.err + listing.err
    r = json.loads(report.out)
    assert r["stage"] == "running" and r["budget"] == 5_000
    assert r["targets"]["orders"]["actual"] == 2 and r["targets"]["orders"]["achieved_pct"] == 50
    assert r["targets"]["gmv"] == {
        "target": 10_000, "actual": 2_000, "achieved_pct": 20.0,
        "expected_by_now": 7_500, "pace": "behind",
    }  # fmt: skip
    assert r["attributed_gmv"]["total"] == 0 and r["roi"] is None
    listed = [(c["name"], c["stage"], c["status"]) for c in json.loads(listing.out)]
    assert listed == [("周年庆", "running", "active")]  # its stage, as /campaign list says
    text = cli("campaign", "list", "--chat", str(CLI_GROUP))
    assert text.out.rstrip().endswith("\trunning"), text.out  # once "active", even upcoming


def test_an_unknown_campaign_is_refused_with_an_exit_code(cli: Cli, database_url: str):
    done = cli("campaign", "report", "4242")

    assert done.code == 1 and "no campaign with id 4242" in done.err


def test_the_report_has_its_channels_in_markdown_and_json(cli: Cli, database_url: str):
    from campaigns.campaign import AttachKind
    from campaigns.services.campaigns import attach
    from tests.cli.test_links_cli import seed as seed_channels

    seed_channels(database_url)  # Ann (40 days ago) and Ben (2 days ago) joined via 小红书
    today = dt.datetime.now(dt.UTC).date()
    made = Campaign("秋季", today - dt.timedelta(days=45), today + dt.timedelta(days=1))

    async def run() -> int:
        engine = create_engine(database_url)
        uow = lambda: SqlUnitOfWork(session_factory(engine))  # noqa: E731
        record = await create_campaign(uow(), chat_id=CLI_GROUP, campaign=made, by=None,
                                       at=dt.datetime.now(dt.UTC))  # fmt: skip
        await attach(uow(), chat_id=CLI_GROUP, campaign_id=record.id, kind=AttachKind.CHANNEL,
                     ref="小红书", at=dt.datetime.now(dt.UTC))  # fmt: skip
        await engine.dispose()
        return record.id

    campaign_id = asyncio.run(run())

    md = cli("campaign", "report", str(campaign_id))
    js = cli("campaign", "report", str(campaign_id), "--format", "json")

    assert md.code == 0 and js.code == 0, md.err + js.err
    # Ann's ¥20 and Ben's ¥5.50 after joining (Ben's ¥3 came before he joined); cost ¥100
    assert "+ channel placements ¥100.00" in md.out
    assert "by members its channels brought ¥25.50" in md.out
    assert "| 小红书 | 2 | 2 | 1 | ¥25.50 | ¥100.00 | -74% |" in md.out
    r = json.loads(js.out)
    assert r["cost"]["channel_placements"] == 10_000 and r["cost"]["total"] == 10_000
    assert r["attributed_gmv"]["by_channel_members"] == 2_550 and r["roi"] == -0.745
    assert r["channels"] == [{
        "id": r["channels"][0]["id"], "name": "小红书", "joins": 2, "confirmed": 2,
        "first_orders": 1, "orders": 2, "gmv": 2_550, "cost": 10_000, "roi": -0.745,
    }]  # fmt: skip


def test_survey_targets_and_attached_surveys_in_json_and_markdown():
    t0 = dt.datetime(2026, 11, 2, 4, 0, tzinfo=dt.UTC)
    made = Campaign("满意度周", t0.date(), t0.date() + dt.timedelta(days=6),
                    targets={Kpi.CSAT: 0.8, Kpi.NPS: 30})  # fmt: skip
    rated = Survey(5, 1, SurveyKind.CSAT, "How | was it?", t0, None)
    facts = RetroFacts(surveys=[survey_result(rated, {5: 2, 2: 2})])
    r = retro(1, made, facts, timezone="UTC", now=t0, today=t0.date())

    data = retro_json(r)
    text = retro_markdown(r)

    assert data["targets"]["csat"] == {
        "target": 0.8, "actual": 0.5, "achieved_pct": 62.5, "expected_by_now": None,
        "pace": None, "answers": 4,
    }  # fmt: skip
    assert data["targets"]["nps"]["actual"] is None and data["targets"]["nps"]["answers"] is None
    assert data["surveys"] == [{
        "id": 5, "kind": "csat", "question": "How | was it?", "created_at": t0.isoformat(),
        "open": True, "answers": 4, "score": 50.0,
    }]  # fmt: skip
    assert "| csat | 80.0% | 50.0% | 62% |  |" in text
    assert "| 5 | csat | 2026-11-02 | How / was it? | 4 | 50% |" in text
