"""`growthbot campaign report ID [--format md|json]`: a campaign's 复盘 (retrospective) at
any time; `growthbot campaign list --chat ID [--json]`: a group's campaigns. Money is in
minor units in JSON and in major units (¥) in Markdown."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from bot import arguments
from bot.coupon_cli import print_json
from bot.settings import Settings
from campaigns.campaign import CampaignRefused, Retro, TargetLine
from campaigns.channels import ChannelStats
from campaigns.ports.campaigns import CampaignRecord
from campaigns.stats import KIND, SURVEY_KPIS, KpiKind
from campaigns.surveys import Score, SurveyKind

T = TypeVar("T")


def add_parsers(sub: Any) -> None:
    campaign = sub.add_parser("campaign", help="campaigns and their 复盘 (retrospective)")
    actions = campaign.add_subparsers(dest="action", required=True)
    report = actions.add_parser("report", help="a campaign's 复盘, at any time")
    report.add_argument(
        "id", type=arguments.record_id, help="the campaign's id (see `campaign list`)"
    )
    report.add_argument("--format", choices=["md", "json"], default="md")
    listing = actions.add_parser("list", help="a group's campaigns")
    listing.add_argument("--chat", type=arguments.chat_id, required=True, help="group chat id")
    listing.add_argument("--json", action="store_true")


async def _with_uow(settings: Settings, work: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    engine = create_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        return await work(lambda: SqlUnitOfWork(sessions))
    finally:
        await engine.dispose()


def _value(kind: KpiKind, value: float | None) -> float | int | None:
    if value is None:
        return None
    return round(value) if kind in (KpiKind.COUNT, KpiKind.SIGNED, KpiKind.MONEY) else value


def retro_json(r: Retro) -> dict[str, Any]:
    """Every figure of the 复盘, money in minor units, rates as fractions."""
    c = r.campaign
    return {
        "id": r.campaign_id,
        "name": c.name,
        "group": r.title,
        "timezone": r.timezone,
        "as_of": r.as_of.isoformat(),
        "stage": str(r.stage),
        "start": c.start.isoformat(),
        "end": c.end.isoformat(),
        "phases": [
            {"name": p.name, "start": p.start.isoformat(), "end": p.end.isoformat()}
            for p in c.phases
        ],
        "targets": {str(x.kpi): _target(x) for x in r.lines},
        "budget": c.budget,
        "cost": {
            "total": r.cost,
            "coupon_discounts": r.discount,
            "referral_points": r.points,
            "point_value": c.point_value,
            "points_cost": r.points_cost,
            "channel_placements": r.channel_cost,
        },
        "attributed_gmv": {
            "total": r.gmv,
            "with_coupons": r.gmv_coupons,
            "by_reached_members": r.gmv_reached,
            "by_channel_members": r.gmv_channels,
            "orders": r.orders,
            "window_days": c.window_days,
            "still_open": r.attribution_open,
        },
        "roi": None if r.roi is None else round(r.roi, 4),
        "top_inviters": [
            {"user_id": i.user_id, "name": i.name, "invites": i.invites} for i in r.inviters
        ],
        "responses": [
            {
                "kind": str(x.kind),
                "id": x.object_id,
                "label": x.label,
                "sent": x.sent,
                "responded": x.responded,
            }
            for x in r.responses
        ],
        "surveys": [
            {
                "id": x.survey.id,
                "kind": str(x.survey.kind),
                "question": x.survey.question,
                "created_at": x.survey.created_at.isoformat(),
                "open": x.survey.open,
                "answers": x.score.answers,
                "score": None if x.score.value is None else round(x.score.value, 2),
            }
            for x in r.surveys
        ],
        "channels": [channel_json(c) for c in r.channels],
    }


def channel_json(c: ChannelStats) -> dict[str, Any]:
    """A channel's figures, money in minor units, ROI as a fraction (None without a cost)."""
    return {
        "id": c.link_id,
        "name": c.name,
        "joins": c.joins,
        "confirmed": c.confirmed,
        "first_orders": c.first_orders,
        "orders": c.orders,
        "gmv": c.gmv,
        "cost": c.cost,
        "roi": None if c.roi is None else round(c.roi, 4),
    }


def _target(x: TargetLine) -> dict[str, Any]:
    """One target line; a CSAT or NPS one also says how many answers it rests on (None: no
    survey of its kind attached)."""
    kind = KIND[x.kpi]
    line = {
        "target": _value(kind, x.target),
        "actual": _value(kind, x.actual),
        "achieved_pct": None if x.achieved_pct is None else round(x.achieved_pct, 2),
        "expected_by_now": _value(kind, x.expected),
        "pace": None if x.pace is None else str(x.pace),
    }
    if x.kpi in SURVEY_KPIS:
        line["answers"] = x.answers
    return line


def _money(minor: float | None) -> str:
    return "–" if minor is None else f"¥{minor / 100:,.2f}"


def _pct(fraction: float | None) -> str:
    return "–" if fraction is None else f"{fraction * 100:,.0f}%"


def _shown(kind: KpiKind, value: float | None) -> str:
    if value is None:
        return "–"
    if kind is KpiKind.MONEY:
        return _money(value)
    if kind is KpiKind.RATIO:
        return f"{value * 100:.1f}%"
    return f"{value:,.1f}" if kind is KpiKind.AVERAGE else f"{round(value):,}"


def _score(score: Score) -> str:
    """CSAT in %, NPS signed; a poll (or no answers) has none."""
    if score.value is None:
        return "–"
    return f"{score.value:.0f}%" if score.kind is SurveyKind.CSAT else f"{score.value:+.0f}"


def retro_markdown(r: Retro) -> str:
    """The 复盘 as a Markdown document (tables a chat or a wiki renders)."""
    c = r.campaign
    out = [f"# 复盘 · {c.name} (#{r.campaign_id})", "",
           f"{r.title or ''} · {c.start} – {c.end} ({c.days} days) · {r.stage} · as of "
           f"{r.as_of:%Y-%m-%d %H:%M} UTC · days in {r.timezone}"]  # fmt: skip
    if c.phases:
        out += ["", "Phases: " + " · ".join(f"{p.name} {p.start}–{p.end}" for p in c.phases)]
    if r.lines:
        out += ["", "## Targets", "", "| KPI | target | actual | achieved | pace |",
                "|---|---:|---:|---:|---|"]  # fmt: skip
        for x in r.lines:
            kind = KIND[x.kpi]
            pct = "–" if x.achieved_pct is None else f"{x.achieved_pct:.0f}%"
            pace = "" if x.pace is None else f"{x.pace} ({_shown(kind, x.expected)} by now)"
            out.append(f"| {x.kpi} | {_shown(kind, x.target)} | {_shown(kind, x.actual)} | "
                       f"{pct} | {pace} |")  # fmt: skip
    roi = "–" if r.roi is None else f"{r.roi * 100:,.0f}%"
    out += ["", "## Money", "",
            f"- Cost {_money(r.cost)} = coupon discounts {_money(r.discount)} + {r.points:,} "
            f"referral points × {_money(c.point_value)}"
            + (f" + channel placements {_money(r.channel_cost)}" if r.channels else ""),
            f"- Budget {_money(c.budget) if c.budget else '–'}"
            + ("" if r.budget_used_pct is None else f", {r.budget_used_pct:.0f}% used"),
            f"- Attributed GMV {_money(r.gmv)} ({r.orders} orders): with its coupons "
            f"{_money(r.gmv_coupons)}, by members it reached within {c.window_days} days "
            f"{_money(r.gmv_reached)}"
            + (f", by members its channels brought {_money(r.gmv_channels)}" if r.channels else "")
            + (" (window still open)" if r.attribution_open else ""),
            f"- ROI {roi} = (attributed GMV − cost) / cost"]  # fmt: skip
    if r.inviters:
        out += ["", "## Top inviters", "", "| # | member | invites confirmed |", "|---|---|---:|"]
        out += [f"| {i} | {x.name} | {x.invites} |" for i, x in enumerate(r.inviters, 1)]
    if r.responses:
        out += [
            "",
            "## Response",
            "",
            "Broadcasts: recipients active in the group within 3 days. Posts: coupons "
            "claimed from their buttons (– without one).",
            "",
            "| kind | id | first line | sent | responded |",
            "|---|---:|---|---:|---:|",
        ]
        out += [
            f"| {x.kind} | {x.object_id} | {x.label.replace('|', '/')} | {x.sent} | "
            f"{'–' if x.responded is None else x.responded} |"
            for x in r.responses
        ]
    if r.channels:
        out += ["", "## Channels", "",
                "Members who joined through them in its days; their orders until the "
                "attribution window closes.", "",
                "| channel | joins | confirmed | first orders | GMV | cost | ROI |",
                "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        out += [
            f"| {x.name.replace('|', '/')} | {x.joins} | {x.confirmed} | {x.first_orders} | "
            f"{_money(x.gmv)} | {_money(x.cost)} | {_pct(x.roi)} |"
            for x in r.channels
        ]
    if r.surveys:
        out += ["", "## Surveys", "", "CSAT and NPS targets pool the answers of these.", "",
                "| id | kind | date | question | answers | score |",
                "|---:|---|---|---|---:|---:|"]  # fmt: skip
        out += [
            f"| {x.survey.id} | {x.survey.kind} | {x.survey.created_at:%Y-%m-%d} | "
            f"{x.survey.question.replace('|', '/')} | {x.score.answers} | {_score(x.score)} |"
            for x in r.surveys
        ]
    return "\n".join(out)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from campaigns.services.campaigns import list_campaigns, report

    now = dt.datetime.now(dt.UTC)
    if args.action == "list":
        today, found = asyncio.run(
            _with_uow(settings, lambda uow: list_campaigns(uow(), chat_id=args.chat, now=now))
        )
        rows = [_row(r, today) for r in found]
        if args.json:
            print_json(rows)
        else:
            for row in rows:
                print(f"{row['id']}\t{row['name']}\t{row['start']}..{row['end']}\t{row['stage']}")
        return 0
    try:
        retro = asyncio.run(
            _with_uow(settings, lambda uow: report(uow(), campaign_id=args.id, now=now))
        )
    except CampaignRefused:
        print(f"growthbot: no campaign with id {args.id}", file=sys.stderr)
        return 1
    if args.format == "json":
        print_json(retro_json(retro))
    else:
        print(retro_markdown(retro))
    return 0


def _row(r: CampaignRecord, today: dt.date) -> dict[str, Any]:
    """Its stage on the group's today, as /campaign list shows it (upcoming, running,
    ended), and the stored status (`finished` once its 复盘 went out)."""
    c = r.campaign
    return {"id": r.id, "name": c.name, "start": c.start.isoformat(), "end": c.end.isoformat(),
            "stage": str(c.stage(today)), "status": str(r.status)}  # fmt: skip
