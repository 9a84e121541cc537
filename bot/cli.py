"""`growthbot`: run the bot, migrate the database, export members, play the offline demo."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from bot import (
    arguments,
    audience_cli,
    calendar_cli,
    campaign_cli,
    coupon_cli,
    groupbuy_cli,
    links_cli,
    order_cli,
    segments_cli,
    stats_cli,
    wiring,
)
from bot.logs import reason, setup_logging
from bot.settings import Settings, SettingsError, get_settings
from bot.spreadsheet import write_csv

EXPORT_FIELDS = [
    "user_id",
    "username",
    "display_name",
    "status",
    "joined_at",
    "left_at",
    "last_active_at",
    "messages",
    "checkins",
    "streak",
    "best_streak",
    "points",
    "invited_by",
    "invites_confirmed",
    "invites_pending",
    "invites_left",
    "invites_rejected",
    "orders",
    "spend",
    "last_order_at",
    "coupons_claimed",
    "coupons_redeemed",
    "stage",
    "rfm_r",
    "rfm_f",
    "rfm_m",
    "rfm_segment",
    "tier",
    "tags",
]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="growthbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="run the bot (long polling, or --webhook); applies migrations first"
    )
    run.add_argument(
        "--webhook",
        metavar="URL",
        help="receive updates at this https:// URL instead of polling: set it with Telegram "
        "and serve it on HTTP_PORT (behind your reverse proxy); needs TELEGRAM_WEBHOOK_SECRET",
    )
    worker = sub.add_parser(
        "worker",
        help="process the updates stored by `run --webhook` (PostgreSQL; run as many as needed)",
    )
    worker.add_argument(
        "--http-port",
        type=_port,
        metavar="PORT",
        help="serve /healthz, /readyz and /metrics for this worker on HTTP_HOST:PORT "
        "(nothing else; default: no HTTP)",
    )
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="apply pending migrations")
    export = sub.add_parser("export", help="export data")
    export.add_argument("what", choices=["members", "coupons"])
    export.add_argument(
        "--chat", type=arguments.chat_id, required=True, help="group chat id, e.g. -1001234567890"
    )
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    coupon_cli.add_parsers(sub)
    order_cli.add_parsers(sub)
    groupbuy_cli.add_parsers(sub)
    calendar_cli.add_parsers(sub)
    segments_cli.add_parsers(sub)
    stats_cli.add_parsers(sub)
    links_cli.add_parsers(sub)
    audience_cli.add_parsers(sub)
    campaign_cli.add_parsers(sub)
    demo = sub.add_parser("demo", help="play a simulated community offline (no token needed)")
    demo.add_argument(
        "--days", type=arguments.number, default=14, help="simulated days (default 14)"
    )
    demo.add_argument(
        "--members", type=arguments.number, default=40, help="simulated members (default 40)"
    )
    demo.add_argument("--seed", type=arguments.number, default=7)
    demo.add_argument("--db", default=None, help="keep the demo database at this SQLite path")
    return parser


def _port(text: str) -> int:
    """A TCP port to listen on, 1-65535 (argparse prints the error: one line, exit 2)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 1 <= port <= 65_535:
        raise argparse.ArgumentTypeError(f"{text} is not a port number (1-65535)")
    return port


WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram delivers webhooks to


def _webhook_problem(settings: Settings, url: str) -> str | None:
    """What keeps webhook mode from starting, in one line, or None."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "https" or not parts.hostname or port not in (None, *WEBHOOK_PORTS):
        return (
            f"--webhook {url}: Telegram only delivers to an https:// URL on port 443, 80, 88 "
            "or 8443; point it at your reverse proxy, which forwards to HTTP_PORT"
        )
    from bot.app import webhook_path

    try:
        webhook_path(url)
    except ValueError as error:
        return f"--webhook {url}: {error}"
    if not settings.telegram_webhook_secret:
        return (
            "--webhook needs TELEGRAM_WEBHOOK_SECRET in .env (1-256 characters A-Z a-z 0-9 _ -; "
            "Telegram sends it with every update and anything without it is refused). Make one "
            "with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if settings.http_port is None:
        return "--webhook needs HTTP_PORT: the local port your reverse proxy forwards the URL to"
    return None


def _run(
    settings: Settings,
    webhook: str | None = None,
    *,
    worker: bool = False,
    worker_port: int | None = None,
) -> int:
    from bot.app import Role, build_application, serve
    from handlers.registry import ALLOWED_UPDATES
    from storage.engine import is_sqlite
    from storage.migrate import upgrade

    if not settings.telegram_bot_token:
        print(
            "growthbot: TELEGRAM_BOT_TOKEN is not set (put it in .env; get one from @BotFather)",
            file=sys.stderr,
        )
        return 2
    if webhook is not None and (problem := _webhook_problem(settings, webhook)):
        print(f"growthbot: {problem}", file=sys.stderr)
        return 2
    if worker and is_sqlite(settings.database_url):
        print(
            "growthbot: `growthbot worker` needs PostgreSQL (DATABASE_URL=postgresql+asyncpg://"
            "…); on SQLite, `growthbot run --webhook URL` receives and processes in one process",
            file=sys.stderr,
        )
        return 2
    upgrade(settings.database_url)
    from bot.webhooks import BindError
    from storage.engine import unavailable

    if webhook is None and not worker:
        app = build_application(settings, role=Role(lead=True))
        try:
            app.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
        except BindError as error:
            return _fail(str(error))
        return _stopped(app.stop_failures)
    from telegram.error import TelegramError

    setting = "HTTP_PORT"
    if worker:  # never the orders route: that is `run`'s; health and metrics only if asked
        settings = settings.model_copy(
            update={"http_port": worker_port, "orders_webhook_secret": None}
        )
        setting = "--http-port"
    role = Role(lead=True, webhook=webhook, inbox=True, http_setting=setting)
    app = build_application(settings, role=role, set_commands=not worker)
    try:
        asyncio.run(serve(app))
    except BindError as error:
        return _fail(str(error))
    except TelegramError as error:
        return _fail(f"Telegram refused: {error.message}")
    except Exception as error:
        if (problem := unavailable(settings.database_url, error)) is not None:
            return _fail(problem)
        if isinstance(error, OSError):
            return _fail(reason(error))
        raise
    return _stopped(app.stop_failures)


def _fail(line: str) -> int:
    print(f"growthbot: {line}", file=sys.stderr)
    return 1


def _stopped(failures: Sequence[str]) -> int:
    """0 after a clean stop; 1 (and one line) if a step of stopping failed (each logged)."""
    if not failures:
        return 0
    return _fail(f"stopped, but not cleanly: {'; '.join(failures)} failed (see the log above)")


def _rows(
    stats: Sequence[Any],
    invites: dict[int, tuple[int | None, Any]],
    orders: dict[int, Any],
    coupons: dict[int, tuple[int, int]],
    segments: dict[int, Any],
    tags: dict[int, list[str]],
) -> list[dict[str, Any]]:
    out = []
    for s in stats:
        row = {k: v for k, v in asdict(s).items() if k in EXPORT_FIELDS}
        totals = orders.get(s.user_id)
        row["orders"] = totals.orders if totals else 0
        row["spend"] = totals.spend if totals else 0
        row["last_order_at"] = totals.last_order_at if totals else None
        row["coupons_claimed"], row["coupons_redeemed"] = coupons.get(s.user_id, (0, 0))
        seg = segments.get(s.user_id)
        row["stage"] = seg.stage if seg else None
        row["rfm_r"], row["rfm_f"], row["rfm_m"] = (seg.r, seg.f, seg.m) if seg else (None,) * 3
        row["rfm_segment"] = seg.segment if seg else None
        row["tier"] = seg.tier_name if seg else None
        row["tags"] = " ".join(tags.get(s.user_id, []))
        invited_by, counts = invites.get(s.user_id, (None, None))
        row["invited_by"] = invited_by
        for status in ("confirmed", "pending", "left", "rejected"):
            row[f"invites_{status}"] = getattr(counts, status, 0)
        out.append(
            {
                k: v.isoformat() if isinstance(v, dt.datetime | dt.date) else v
                for k, v in ((f, row[f]) for f in EXPORT_FIELDS)
            }
        )
    return out


async def _export(settings: Settings, chat_id: int) -> list[dict[str, Any]]:
    from campaigns.services.orders import coupon_counts, order_totals
    from campaigns.services.profile import export_members
    from campaigns.services.referral_reports import invite_columns
    from campaigns.services.segments import member_segments
    from campaigns.services.tags import group_tags
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    engine = create_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        stats = await export_members(
            SqlUnitOfWork(sessions), chat_id=chat_id, at=dt.datetime.now(dt.UTC)
        )
        invites = await invite_columns(SqlUnitOfWork(sessions), chat_id=chat_id)
        orders = await order_totals(SqlUnitOfWork(sessions), chat_id=chat_id)
        coupons = await coupon_counts(SqlUnitOfWork(sessions), chat_id=chat_id)
        segments = await member_segments(
            SqlUnitOfWork(sessions), chat_id=chat_id, now=dt.datetime.now(dt.UTC)
        )
        tags = await group_tags(SqlUnitOfWork(sessions), chat_id=chat_id)
    finally:
        await engine.dispose()
    return _rows(stats, invites, orders, coupons, segments, tags)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `growthbot` console script and `python -m bot`."""
    wiring.install()
    args = _parser().parse_args(argv if argv is not None else (sys.argv[1:] or ["run"]))
    if args.command == "demo":
        from bot.demo import play

        return asyncio.run(
            play(days=args.days, members=args.members, seed=args.seed, db_path=args.db)
        )
    try:
        settings = get_settings()
    except SettingsError as error:
        print(f"growthbot: {error}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_format)
    try:
        return _command(settings, args)
    except BrokenPipeError:
        # The reader of our output went away (`growthbot export … | head`): not the
        # database's fault, and nothing to say. Python flushes stdout again at exit:
        # point it at /dev/null first, or that flush fails the same way.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as error:
        from storage.engine import unavailable

        if (problem := unavailable(settings.database_url, error)) is None:
            raise
        return _fail(problem)


def _command(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "run":
        return _run(settings, args.webhook)
    if args.command == "worker":
        return _run(settings, worker=True, worker_port=args.http_port)
    from storage.migrate import upgrade

    if args.command == "db":
        upgrade(settings.database_url)
        print("database is up to date")
        return 0
    try:  # a mistyped option is reported before anything about the database
        _options_first(args)
    except coupon_cli.UsageError as error:
        print(f"growthbot: {error.message}", file=sys.stderr)
        return 2
    if (problem := _not_migrated(settings.database_url)) is not None:
        print(f"growthbot: {problem}", file=sys.stderr)
        return 2
    from campaigns.errors import UnknownChat

    try:
        if args.command == "coupons":
            return _coupons(settings, args)
        if args.command == "orders":
            return _orders(settings, args)
        if args.command in {"posts", "broadcast", "calendar"}:
            return calendar_cli.run(settings, args)
        if args.command == "segments":
            return segments_cli.run(settings, args)
        if args.command == "stats":
            return stats_cli.run(settings, args)
        if args.command == "links":
            return links_cli.run(settings, args)
        if args.command == "audience":
            return audience_cli.run(settings, args)
        if args.command == "campaign":
            return campaign_cli.run(settings, args)
        if args.command == "groupbuy":
            try:
                stored, message_id = asyncio.run(groupbuy_cli.create(settings, args))
            except groupbuy_cli.NotPosted as error:
                print(f"growthbot: group-buy {error.deal_id} was created but Telegram refused "
                      f"the post: {error.reason}. Fix that, then send /groupbuy post "
                      f"{error.deal_id} in the group (do not create it again).",
                      file=sys.stderr)  # fmt: skip
                return 1
            if args.json:
                coupon_cli.print_json(groupbuy_cli.deal_json(stored) | {"message_id": message_id})
            else:
                posted = f", posted as message {message_id}" if message_id else ""
                print(f"created group-buy {stored.id}: {stored.deal.title}{posted}")
            return 0
        if args.what == "coupons":
            rows, fields = (
                asyncio.run(_export_coupons(settings, args.chat)),
                coupon_cli.EXPORT_FIELDS,
            )
        else:
            rows, fields = asyncio.run(_export(settings, args.chat)), EXPORT_FIELDS
    except UnknownChat:
        print(f"growthbot: no group with id {args.chat} in the database", file=sys.stderr)
        return 1
    except coupon_cli.UsageError as error:
        print(f"growthbot: {error.message}", file=sys.stderr)
        return 2
    if args.format == "json":
        coupon_cli.print_json(rows)
    else:
        write_csv(sys.stdout, fields, rows)
    return 0


def _orders(settings: Settings, args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"growthbot: no such file: {args.file}", file=sys.stderr)
        return 2
    report = asyncio.run(order_cli.run(settings, args))
    if args.json:
        coupon_cli.print_json(asdict(report))
    else:
        for e in report.errors:
            print(f"line {e['line']}: {e['field']}: {e['error']}", file=sys.stderr)
        for c in report.coupons_refused:
            print(f"line {c['line']}: coupon {c['coupon']} not applied: {c['reason']}")
        for u in report.unknown_members:
            print(f"line {u['line']}: warning: member {u['member']} has never been seen in group "
                  f"{u['chat_id']}: order stored, no purchase points (check the member id)",
                  file=sys.stderr)  # fmt: skip
        print(
            f"{report.rows} rows: {report.imported} imported, {report.replayed} already there, "
            f"{report.skipped} skipped"
        )
    unreadable = any(e["field"] == order_cli.FILE for e in report.errors)
    if unreadable or (report.errors and not args.skip_bad):
        if not args.json:
            fix = "fix the file" if unreadable else "fix the rows above or pass --skip-bad"
            print(f"nothing imported: {fix}", file=sys.stderr)
        return 1
    return 0


def _coupons(settings: Settings, args: argparse.Namespace) -> int:
    from campaigns.services.coupons import CouponUnavailable, Unavailable

    if args.action == "create":
        offer = asyncio.run(coupon_cli.create(settings, args))
        if args.json:
            coupon_cli.print_json(coupon_cli.offer_json(offer))
        else:
            print(f"created coupon offer {offer.id}: {offer.name}")
        return 0
    if args.action == "report":
        return _coupon_report(settings, args)
    if args.action == "end":
        try:
            ended = asyncio.run(coupon_cli.end(settings, args))
        except CouponUnavailable as err:
            state = "has already ended" if err.reason is Unavailable.ENDED else "is not an offer of"
            print(f"growthbot: coupon offer {args.template} {state} group {args.chat}",
                  file=sys.stderr)  # fmt: skip
            return 1
        if args.json:
            coupon_cli.print_json(coupon_cli.offer_json(ended) | {"active": ended.active})
        else:
            print(f"ended coupon offer {ended.id}: {ended.name}")
        return 0
    try:
        message_id = asyncio.run(coupon_cli.post(settings, args))
    except CouponUnavailable as err:
        state = "has ended in" if err.reason is Unavailable.ENDED else "is not an offer of"
        ends = err.offer.template.valid_until if err.offer else None
        if ends is not None and ends <= dt.datetime.now(dt.UTC):
            state = f"expired at {ends.isoformat()}: not posted in"
        print(f"growthbot: coupon offer {args.template} {state} group {args.chat}",
              file=sys.stderr)  # fmt: skip
        return 1
    if args.json:
        coupon_cli.print_json(
            {"chat": args.chat, "template": args.template, "message_id": message_id}
        )
    else:
        print(f"posted offer {args.template} in {args.chat} (message {message_id})")
    return 0


def _coupon_report(settings: Settings, args: argparse.Namespace) -> int:
    """`coupons report`: the offer's A/B test as the chat shows it, or its numbers."""
    from campaigns.coupon_variants import NotATest
    from campaigns.services.coupons import CouponUnavailable

    try:
        text, numbers = asyncio.run(coupon_cli.report(settings, args))
    except CouponUnavailable:
        print(f"growthbot: coupon offer {args.template} is not an offer of group {args.chat}",
              file=sys.stderr)  # fmt: skip
        return 1
    except NotATest:
        print(f"growthbot: coupon offer {args.template} has one set of terms and no holdout: "
              "nothing to compare", file=sys.stderr)  # fmt: skip
        return 1
    if args.json:
        coupon_cli.print_json(numbers)
    else:
        print(text)
    return 0


async def _export_coupons(settings: Settings, chat_id: int) -> list[dict[str, Any]]:
    from campaigns.services.coupons import chat_coupons
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    engine = create_engine(settings.database_url)
    try:
        coupons = await chat_coupons(SqlUnitOfWork(session_factory(engine)), chat_id=chat_id)
    finally:
        await engine.dispose()
    return coupon_cli.export_rows(coupons, dt.datetime.now(dt.UTC))


def _not_migrated(url: str) -> str | None:
    """One line if the database is missing or behind the code (the file is never created)."""
    from storage.migrate import NotMigrated, check_migrated

    try:
        check_migrated(url)
    except NotMigrated as error:
        if error.missing:
            return (
                f"no database at {error.where} (DATABASE_URL, default ./growthbot.db, is read "
                "relative to the current folder); run `growthbot db upgrade` to create it, or "
                "run from the folder that has it"
            )
        state = (
            "has not been migrated"
            if error.current is None
            else (f"is at migration {error.current}, this version needs {error.needed}")
        )
        return f"the database at {error.where} {state}; run `growthbot db upgrade`"
    return None


def _options_first(args: argparse.Namespace) -> None:
    """UsageError for values the command would refuse without opening the database."""
    if args.command == "coupons" and args.action == "create":
        coupon_cli.terms_from(args)
    elif args.command == "groupbuy":
        groupbuy_cli.deal_from(args)
        groupbuy_cli.photo_from(args.photo)
