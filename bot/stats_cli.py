"""`growthbot stats --chat ID [--period 7d|30d|90d | --since YYYY-MM-DD] [--format
table|json|csv]`: the /stats card on the command line; `--rebuild` counts the daily rollup
afresh from the raw tables first (after a timezone change, or once after upgrading to it)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from bot import arguments
from bot.coupon_cli import print_json
from bot.settings import Settings
from bot.spreadsheet import write_csv
from campaigns.stats import (
    DEFAULT_DAYS,
    PERIOD_DAYS,
    Asked,
    BadPeriod,
    KpiCard,
    KpiKind,
    KpiLine,
    Period,
    Value,
)

CSV_FIELDS = ["group", "start", "end", "kpi", "value", "previous", "change", "change_pct"]
REBUILD_DAYS = 2 * max(PERIOD_DAYS)  # what --rebuild recounts without --since: two 90d periods


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-01") from None


def add_parsers(sub: Any) -> None:
    stats = sub.add_parser("stats", help="a group's KPI card against the period before")
    stats.add_argument("--chat", type=arguments.chat_id, required=True, help="group chat id")
    when = stats.add_mutually_exclusive_group()
    when.add_argument(
        "--period", type=arguments.period, default=f"{DEFAULT_DAYS}d", metavar="7d|30d|90d",
        help="the last 7, 30 (default) or 90 days, today included (read as /stats reads it: "
        "7, 7d, 7天)",
    )  # fmt: skip
    when.add_argument("--since", type=_day, help="from this day (the group's) to today")
    stats.add_argument("--format", choices=["table", "json", "csv"], default="table")
    stats.add_argument(
        "--png", type=Path, metavar="DIR",
        help="also draw the four charts of /stats there (growth, activity, cohorts, funnels), "
        "in the group's language",
    )  # fmt: skip
    stats.add_argument(
        "--rebuild", action="store_true",
        help=f"recount the daily rollup from the raw tables first (from --since, else the "
        f"last {REBUILD_DAYS} days)",
    )  # fmt: skip


async def _card(
    settings: Settings, args: argparse.Namespace, asked: Asked
) -> tuple[KpiCard, list[Path]]:
    from campaigns.services.chats import chat_settings
    from campaigns.services.stats import group_stats, rebuild_stats, stats_report
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    now = dt.datetime.now(dt.UTC)
    engine = create_engine(settings.database_url)
    try:
        sessions = session_factory(engine)

        def uow() -> SqlUnitOfWork:
            return SqlUnitOfWork(sessions)

        if args.rebuild:
            since = args.since or (now.date() - dt.timedelta(days=REBUILD_DAYS))
            done = await rebuild_stats(uow, chat_id=args.chat, since=since, now=now)
            print(f"rebuilt the daily rollup from {done.start} to {done.end}", file=sys.stderr)
        if args.png is None:
            return await group_stats(uow(), chat_id=args.chat, asked=asked, now=now), []
        report = await stats_report(uow, chat_id=args.chat, asked=asked, now=now)
        group = await chat_settings(uow(), chat_id=args.chat, defaults=settings.chat_defaults)
        return report.card, await asyncio.to_thread(_draw, report, group.language, args.png)
    finally:
        await engine.dispose()


CHART_FILES = ("growth.png", "activity.png", "cohorts.png", "funnels.png")


def _draw(report: Any, language: str, folder: Path) -> list[Path]:
    """The four charts /stats sends, as files in `folder` (made if missing)."""
    from handlers.charts import stats_charts

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (png, _caption) in zip(CHART_FILES, stats_charts(report, language=language),
                                     strict=True):  # fmt: skip
        path = folder / name
        path.write_bytes(png)
        paths.append(path)
    return paths


def _number(kind: KpiKind, value: Value) -> Value:
    """JSON and CSV: counts as integers, money in minor units, ratios as fractions."""
    if value is None:
        return None
    if kind in (KpiKind.COUNT, KpiKind.SIGNED):
        return round(value)
    return round(float(value), 6)


def _line(line: KpiLine) -> dict[str, Value]:
    pct = line.change_pct
    return {
        "value": _number(line.kind, line.value),
        "previous": _number(line.kind, line.previous),
        "change": _number(line.kind, line.change),
        "change_pct": None if pct is None else round(pct, 2),
    }


def _period(p: Period) -> dict[str, str]:
    return {"start": p.start.isoformat(), "end": p.end.isoformat()}


def card_json(card: KpiCard, chat_id: int) -> dict[str, Any]:
    return {
        "chat_id": chat_id,
        "title": card.title,
        "timezone": card.timezone,
        "period": _period(card.period),
        "previous": _period(card.previous_period),
        "kpis": {str(line.kpi): _line(line) for line in card.lines},
        "days": [
            {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in vars(d).items()}
            for d in card.days
        ],
    }


def _shown(kind: KpiKind, value: Value) -> str:
    if value is None:
        return "–"
    if kind is KpiKind.RATIO:
        return f"{value * 100:.1f}%"
    if kind is KpiKind.MONEY:
        return f"{value / 100:,.2f}"
    if kind is KpiKind.AVERAGE:
        return f"{value:,.1f}"
    return f"{round(value):,}"


def card_table(card: KpiCard) -> str:
    p, b = card.period, card.previous_period
    rows = [(str(line.kpi), _shown(line.kind, line.value), _shown(line.kind, line.previous),
             "–" if line.change_pct is None else f"{line.change_pct:+.1f}%")
            for line in card.lines]  # fmt: skip
    header = ("kpi", f"{p.start}..{p.end}", f"{b.start}..{b.end}", "change")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = [f"{card.title or ''} ({card.timezone})"]
    lines += ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(r, widths, strict=True))).rstrip()
              for r in [header, *rows]]  # fmt: skip
    return "\n".join(lines)


def run(settings: Settings, args: argparse.Namespace) -> int:
    asked = Asked(since=args.since) if args.since else args.period
    try:
        card, charts = asyncio.run(_card(settings, args, asked))
    except BadPeriod:
        print("growthbot: --since must be a day within the last year, not after today",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.format == "json":
        print_json(card_json(card, args.chat))
    elif args.format == "csv":
        start, end = card.period.start.isoformat(), card.period.end.isoformat()
        rows = [{"group": card.title or "", "start": start, "end": end, "kpi": str(line.kpi),
                 **_line(line)} for line in card.lines]  # fmt: skip
        write_csv(sys.stdout, CSV_FIELDS, rows)
    else:
        print(card_table(card))
    for path in charts:
        print(f"chart: {path}", file=sys.stderr)
    return 0
