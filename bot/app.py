"""build_application(): the Application with storage, caches, handlers and lifecycle hooks."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
    LinkPreviewOptions,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest

import handlers
from bot import wiring
from bot.settings import Settings
from bot.webhooks import HttpServer, orders_app
from campaigns.services.calendar import enrol_due, hand_over_due, realign_runs
from campaigns.services.coupons import due_reminders
from campaigns.services.groupbuys import end_deals, expire_teams
from campaigns.services.referral import sweep
from handlers.broadcasts import refresh_progress
from handlers.buffer import ActivityBuffer
from handlers.calendar import report_skipped
from handlers.deps import Deps
from handlers.groupbuys import (
    announce_ended,
    announce_expired,
    refresh_countdowns,
    refresh_deal_post,
)
from handlers.notify import send_coupon_reminders, send_notices
from handlers.outbox import OutboxSender
from handlers.start_texts import StartTexts
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWork

log = logging.getLogger("growthbot")
PRUNE_AFTER = dt.timedelta(days=2)

GrowthApp = Application[Any, ContextTypes.DEFAULT_TYPE, Any, Any, Any, Any]


async def set_command_menus(app: GrowthApp) -> None:
    """Menus in English (default) and Chinese: private chats, group members, group admins,
    each listing only what works there."""
    scopes = (
        ("private", BotCommandScopeDefault()),
        ("group", BotCommandScopeAllGroupChats()),
        ("admins", BotCommandScopeAllChatAdministrators()),
    )
    for language, code in (("en", None), ("zh", "zh")):
        for where, scope in scopes:
            commands = [BotCommand(n, text) for n, text in StartTexts(language).command_menu(where)]
            await app.bot.set_my_commands(commands, scope=scope, language_code=code)


async def _sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Confirm invites whose hold period ended, and tell the inviters."""
    d: Deps = context.application.bot_data["deps"]
    notices = await sweep(d.uow, now=dt.datetime.now(dt.UTC))
    if notices:
        log.info("referral sweep confirmed %d invites or tiers", len(notices))
        await send_notices(context.bot, d, notices)


async def _remind(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell members whose coupons expire within 24 hours (each coupon once)."""
    d: Deps = context.application.bot_data["deps"]
    reminders = await due_reminders(d.uow(), now=dt.datetime.now(dt.UTC))
    if reminders:
        await send_coupon_reminders(context.bot, d, reminders)


async def _expire_teams(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Close group-buy teams whose time ran out (also those that fell due while stopped)."""
    d: Deps = context.application.bot_data["deps"]
    now = dt.datetime.now(dt.UTC)
    expired = await expire_teams(d.uow, now=now)
    if expired:
        await announce_expired(context.bot, d, expired)
        for deal_id in {v.deal.id for v in expired}:
            await refresh_deal_post(context.bot, d, deal_id)
    ended = await end_deals(d.uow, now=now)
    if ended:
        await announce_ended(context.bot, d, ended)


async def _countdowns(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Time left on deal posts and team cards, kept true between the members' taps."""
    await refresh_countdowns(context.bot, context.application.bot_data["deps"])


async def _outbox_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The scheduler only ticks: due posts become outbox rows, and the sender drains them."""
    app = context.application
    d: Deps = app.bot_data["deps"]
    settings: Settings = app.bot_data["settings"]
    handed = await hand_over_due(
        d.uow,
        now=dt.datetime.now(dt.UTC),
        grace=dt.timedelta(minutes=settings.post_grace_minutes),
    )
    for post, at in handed.skipped:
        log.warning("scheduled post %s due at %s skipped: past the grace window", post.id, at)
    await report_skipped(context.bot, d, handed.skipped)
    if handed.passed_over:
        log.warning("%d earlier runs passed over while the bot was down", handed.passed_over)
    sender: OutboxSender = app.bot_data["outbox"]
    sender.kick()
    await refresh_progress(context.bot, d, app.bot_data.setdefault("progress_shown", {}))


async def _enrol(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Day-N welcome messages that have come due become outbox rows."""
    d: Deps = context.application.bot_data["deps"]
    if await enrol_due(d.uow, now=dt.datetime.now(dt.UTC)):
        context.application.bot_data["outbox"].kick()


async def _prune(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forget processed update ids older than Telegram could ever redeliver."""
    d: Deps = context.application.bot_data["deps"]
    async with d.uow() as uow:
        await uow.updates.prune(dt.datetime.now(dt.UTC) - PRUNE_AFTER)
        await uow.commit()


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    set_commands: bool = True,
) -> GrowthApp:
    """Wire storage, caches and handlers; `request` replaces the network (tests, demo)."""
    wiring.install()
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)

    async def post_init(app: GrowthApp) -> None:
        defaults = settings.chat_defaults
        buffer = ActivityBuffer(
            lambda: SqlUnitOfWork(sessions),
            bot_id=app.bot.id,
            defaults=defaults,
            max_size=settings.activity_batch_size,
            interval=settings.activity_flush_seconds,
        )
        app.bot_data["deps"] = Deps(
            uow=lambda: SqlUnitOfWork(sessions),
            defaults=defaults,
            owner_ids=settings.bot_owner_ids,
            buffer=buffer,
        )
        deps = app.bot_data["deps"]
        app.bot_data["settings"] = settings
        sender = OutboxSender(app.bot, deps, rate=settings.outbox_rate)
        app.bot_data["outbox"] = sender
        deps.outbox = sender
        await sender.recover()
        if moved := await realign_runs(deps.uow(), now=dt.datetime.now(dt.UTC)):
            log.info("%d scheduled posts had a next run off their schedule: moved", moved)
        buffer.on_notices = lambda notices: send_notices(app.bot, deps, notices)
        buffer.start()
        if settings.http_port is not None and settings.orders_webhook_secret:
            http = HttpServer(
                orders_app(lambda: SqlUnitOfWork(sessions), settings.orders_webhook_secret),
                settings.http_host,
                settings.http_port,
            )
            http.start()
            app.bot_data["http"] = http
            log.info(
                "orders webhook on http://%s:%d/api/orders", settings.http_host, settings.http_port
            )
        if set_commands:
            await set_command_menus(app)
        if app.job_queue is not None:
            app.job_queue.run_repeating(_prune, interval=3600, first=60, name="prune-updates")
            app.job_queue.run_repeating(
                _sweep,
                interval=settings.referral_sweep_seconds,
                first=min(30.0, settings.referral_sweep_seconds),
                name="referral-sweep",
            )
            app.job_queue.run_repeating(_remind, interval=900, first=45, name="coupon-reminders")
            app.job_queue.run_repeating(_expire_teams, interval=30, first=5, name="team-expiry")
            app.job_queue.run_repeating(_countdowns, interval=180, first=90, name="countdowns")
            app.job_queue.run_repeating(
                _outbox_tick, interval=settings.outbox_tick_seconds, first=1, name="outbox"
            )
            app.job_queue.run_repeating(_enrol, interval=60, first=20, name="sequences")

    async def post_stop(app: GrowthApp) -> None:
        http = app.bot_data.get("http")
        if isinstance(http, HttpServer):
            await http.stop()
        sender = app.bot_data.get("outbox")
        if isinstance(sender, OutboxSender):
            await sender.stop()  # in-flight sends finish and are recorded
        deps = app.bot_data.get("deps")
        if isinstance(deps, Deps):
            for task in list(deps.deal_pending.values()):
                task.cancel()  # a coalesced deal-post edit; the next start refreshes anyway
            await deps.buffer.stop()
            log.info("activity buffer flushed (%d messages written this run)", deps.buffer.written)

    async def post_shutdown(app: GrowthApp) -> None:
        await engine.dispose()

    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token or "0:offline")
        .base_url(settings.telegram_api_base_url)
        .defaults(
            Defaults(
                parse_mode="HTML",
                allow_sending_without_reply=True,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    app: GrowthApp = builder.build()
    handlers.register(app)
    return app


async def start_offline(app: GrowthApp) -> None:
    """Initialize and run post_init without polling: for process_update-driven demo and tests."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)


async def stop_offline(app: GrowthApp) -> None:
    """Flush buffered activity and release the database, as a clean polling stop would."""
    if app.post_stop is not None:
        await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
