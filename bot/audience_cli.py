"""`growthbot audience list|show|export --chat ID`: a group's saved audiences from the shell.

`list` prints each name and rule, `show NAME` the count and five names (as /audience show
says it, in the group's language), `export NAME` one
CSV (or JSON) line per member the audience selects now, with stage, RFM segment, tier, tags,
points, orders and spend. Cells go through write_csv, so a name cannot smuggle in a formula.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from dataclasses import asdict
from typing import Any

from bot import arguments
from bot.coupon_cli import print_json
from bot.settings import Settings
from bot.spreadsheet import write_csv

EXPORT_FIELDS = ["user_id", "name", "username", "stage", "rfm_segment", "tier", "tags",
                 "points", "orders", "spend"]  # fmt: skip


def add_parsers(sub: Any) -> None:
    audience = sub.add_parser("audience", help="saved audiences (/audience in the group)")
    actions = audience.add_subparsers(dest="action", required=True)
    chat = argparse.ArgumentParser(add_help=False)
    chat.add_argument(
        "--chat", type=arguments.chat_id, required=True, help="group chat id, e.g. -1001234567890"
    )
    listing = actions.add_parser("list", parents=[chat], help="names and rules")
    listing.add_argument("--json", action="store_true")
    show = actions.add_parser("show", parents=[chat], help="how many it selects now, five names")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    export = actions.add_parser("export", parents=[chat], help="the members it selects now")
    export.add_argument("name")
    export.add_argument("--format", choices=["csv", "json"], default="csv")


async def _call(settings: Settings, args: argparse.Namespace) -> Any:
    from campaigns.services import audiences
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    engine = create_engine(settings.database_url)
    try:
        uow, now = SqlUnitOfWork(session_factory(engine)), dt.datetime.now(dt.UTC)
        if args.action == "list":
            return await audiences.list_audiences(uow, chat_id=args.chat)
        if args.action == "show":
            from campaigns.services.chats import chat_settings

            shown = await audiences.show_audience(uow, chat_id=args.chat, name=args.name, now=now)
            group = await chat_settings(uow, chat_id=args.chat, defaults=settings.chat_defaults)
            return shown, group.language
        return await audiences.export_audience(uow, chat_id=args.chat, name=args.name, now=now)
    finally:
        await engine.dispose()


def run(settings: Settings, args: argparse.Namespace) -> int:
    """0 with the answer on stdout; 1 and one line when the audience is unknown or unreadable."""
    from campaigns.audience_expr import AudienceExprError
    from campaigns.audiences import AudienceRefusal, AudienceRefused

    try:
        result = asyncio.run(_call(settings, args))
    except AudienceRefused as error:
        what = "is not an audience name" if error.reason is AudienceRefusal.BAD_NAME else (
            "is not a saved audience in this group")  # fmt: skip
        print(f"growthbot: {error.name!r} {what} (growthbot audience list --chat "
              f"{args.chat})", file=sys.stderr)  # fmt: skip
        return 1
    except AudienceExprError as error:  # e.g. a tier it names was renamed since
        print(f"growthbot: the saved rule no longer reads ({error.problem}: {error.token!r}); "
              "save it again in the group", file=sys.stderr)  # fmt: skip
        return 1
    if args.action == "list":
        rows = [{"name": a.name, "rule": a.rule, "updated_at": a.updated_at.isoformat()}
                for a in result]  # fmt: skip
        if args.json:
            print_json(rows)
        else:
            for row in rows:
                print(f"{row['name']}\t{row['rule']}")
        return 0
    if args.action == "show":
        shown, language = result
        if args.json:
            print_json(asdict(shown))
        else:  # what /audience show says in the group, in its language, as plain text
            from campaigns.content import plain_text
            from handlers.audience_texts import AudienceTexts

            print(plain_text(AudienceTexts(language).preview(shown)).rstrip())
        return 0
    if args.format == "json":
        print_json([asdict(m) for m in result])
    else:  # tags are one cell, separated by spaces (a tag never has one)
        write_csv(
            sys.stdout, EXPORT_FIELDS, [asdict(m) | {"tags": " ".join(m.tags)} for m in result]
        )
    return 0
