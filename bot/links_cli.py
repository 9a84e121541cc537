"""`growthbot links --chat ID [--period 7d|30d|90d | --since YYYY-MM-DD] [--format
table|json|csv]`: a group's channels (渠道) and what each brought, as /link list counts it
(campaigns/channels.py); with a period, also the members each brought in those days (the
/stats block). Money is in minor units in JSON and CSV, in ¥ in the table; ROI is a
fraction in JSON and CSV (none without a cost)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from typing import Any

from bot import arguments
from bot.coupon_cli import print_json
from bot.settings import Settings
from bot.spreadsheet import write_csv
from bot.stats_cli import _day
from campaigns.channels import ChannelPeriod, ChannelStats
from campaigns.services.channels import ChannelOverview
from campaigns.stats import Asked, BadPeriod, Period

FIGURES = ("joins", "confirmed", "first_orders", "orders", "gmv")
CSV_FIELDS = ["group", "channel_id", "name", "url", "revoked", "cost", *FIGURES, "roi"]
PERIOD_FIELDS = ["period_start", "period_end", *(f"period_{f}" for f in FIGURES)]


def add_parsers(sub: Any) -> None:
    links = sub.add_parser("links", help="a group's channels (渠道): joins, GMV, cost and ROI")
    links.add_argument("--chat", type=arguments.chat_id, required=True, help="group chat id")
    when = links.add_mutually_exclusive_group()
    when.add_argument(
        "--period", type=arguments.period, metavar="7d|30d|90d",
        help="also the members each channel brought in the last 7, 30 or 90 days",
    )  # fmt: skip
    when.add_argument("--since", type=_day, help="... from this day (the group's) to today")
    links.add_argument("--format", choices=["table", "json", "csv"], default="table")


async def _read(settings: Settings, chat_id: int, asked: Asked | None) -> ChannelOverview:
    from campaigns.services.channels import channel_overview
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    now = dt.datetime.now(dt.UTC)
    engine = create_engine(settings.database_url)
    try:
        uow = SqlUnitOfWork(session_factory(engine))
        return await channel_overview(uow, chat_id=chat_id, asked=asked, now=now)
    finally:
        await engine.dispose()


def _figures(s: ChannelStats) -> dict[str, int]:
    return {f: int(getattr(s, f)) for f in FIGURES}


def _roi(s: ChannelStats) -> float | None:
    return None if s.roi is None else round(s.roi, 4)


def links_json(
    chat_id: int, title: str | None, to_date: list[ChannelStats], period: Period | None,
    shown: list[ChannelPeriod],
) -> dict[str, Any]:  # fmt: skip
    """Each channel with its figures to date, and with a period its figures of the period."""
    in_period = {c.period.link_id: c.period for c in shown}
    channels = []
    for s in to_date:
        row: dict[str, Any] = {
            "id": s.link_id, "name": s.name, "url": s.channel.url, "revoked": s.channel.revoked,
            "cost": s.cost, "to_date": {**_figures(s), "roi": _roi(s)},
        }  # fmt: skip
        if period is not None:
            found = in_period.get(s.link_id)
            row["period"] = _figures(found) if found is not None else None
        channels.append(row)
    return {
        "chat_id": chat_id,
        "title": title,
        "period": None if period is None else _period(period),
        "channels": channels,
    }


def _period(p: Period) -> dict[str, str]:
    return {"start": p.start.isoformat(), "end": p.end.isoformat()}


def _money(minor: int | None) -> str:
    return "–" if minor is None else f"{minor / 100:,.2f}"


def links_table(
    title: str | None, to_date: list[ChannelStats], period: Period | None,
    shown: list[ChannelPeriod],
) -> str:  # fmt: skip
    """A row per channel: its figures to date (and with a period, the period's joins and
    GMV), cost and ROI."""
    in_period = {c.period.link_id: c.period for c in shown}
    header = ["channel", "joins", "confirmed", "first_orders", "orders", "gmv", "cost", "roi"]
    if period is not None:
        header += [f"joins {period.start}..{period.end}", "gmv (period)"]
    rows = []
    for s in to_date:
        roi = "–" if s.roi is None else f"{s.roi * 100:,.0f}%"
        name = s.name + (" (revoked)" if s.channel.revoked else "")
        row = [name, *(f"{getattr(s, f):,}" for f in FIGURES[:4]), _money(s.gmv),
               _money(s.cost), roi]  # fmt: skip
        if period is not None:
            found = in_period.get(s.link_id)
            row += ["–", "–"] if found is None else [f"{found.joins:,}", _money(found.gmv)]
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [title or ""]
    if not to_date:
        lines.append("no channels yet: /link new <name> in the group makes one")
        return "\n".join(lines)
    lines += ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(r, widths, strict=True))).rstrip()
              for r in [header, *rows]]  # fmt: skip
    return "\n".join(lines)


def _csv_rows(
    title: str | None, to_date: list[ChannelStats], period: Period | None,
    shown: list[ChannelPeriod],
) -> list[dict[str, Any]]:  # fmt: skip
    in_period = {c.period.link_id: c.period for c in shown}
    rows = []
    for s in to_date:
        row: dict[str, Any] = {
            "group": title or "", "channel_id": s.link_id, "name": s.name, "url": s.channel.url,
            "revoked": s.channel.revoked, "cost": s.cost, **_figures(s), "roi": _roi(s),
        }  # fmt: skip
        if period is not None:
            found = in_period.get(s.link_id)
            row |= {"period_start": period.start.isoformat(), "period_end": period.end.isoformat()}
            row |= {f"period_{f}": (getattr(found, f) if found else 0) for f in FIGURES}
        rows.append(row)
    return rows


def run(settings: Settings, args: argparse.Namespace) -> int:
    asked = None
    if args.since:
        asked = Asked(since=args.since)
    elif args.period:
        asked = args.period
    try:
        seen = asyncio.run(_read(settings, args.chat, asked))
    except BadPeriod:
        print("growthbot: --since must be a day within the last year, not after today",
              file=sys.stderr)  # fmt: skip
        return 2
    view = (seen.title, seen.to_date, seen.period, seen.shown)
    if args.format == "json":
        print_json(links_json(args.chat, *view))
    elif args.format == "csv":
        fields = CSV_FIELDS + (PERIOD_FIELDS if seen.period is not None else [])
        write_csv(sys.stdout, fields, _csv_rows(*view))
    else:
        print(links_table(*view))
    return 0
