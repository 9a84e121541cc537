"""build_application(): the Application with storage, caches, handlers and lifecycle hooks."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
    LinkPreviewOptions,
)
from telegram.ext import Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

import handlers
from bot import wiring
from bot.budget import BudgetLimiter, ChatBudget
from bot.buffer import ActivityBuffer
from bot.clock import SYSTEM, Clock
from bot.deal_posts import DealPostEdits
from bot.jobs import Jobs
from bot.outbox import OutboxSender
from bot.settings import Settings
from bot.webhooks import HttpServer, orders_app
from campaigns.services.calendar import realign_runs
from handlers.deps import CONTEXT_TYPES, BotData, Context, Deps
from handlers.groupbuys import edit_deal_post
from handlers.notify import send_notices
from handlers.start_texts import StartTexts
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWork

log = logging.getLogger("growthbot")

GrowthApp = Application[Any, Context, Any, Any, BotData, Any]


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


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    set_commands: bool = True,
    clock: Clock = SYSTEM,
    budget: ChatBudget | None = None,
) -> GrowthApp:
    """Wire storage, caches, workers and handlers; `request` replaces the network, `clock`
    the system clock (tests, demo) and `budget` Telegram's flood limits (the demo, which
    plays days in seconds against a double that has none)."""
    wiring.install()
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    servers: list[HttpServer] = []
    # One view of every chat's share of Telegram's limits: the outbox, replies and edits.
    budget = budget or ChatBudget(overall=settings.outbox_rate, clock=clock)

    async def post_init(app: GrowthApp) -> None:
        defaults = settings.chat_defaults
        buffer = ActivityBuffer(
            uow,
            bot_id=app.bot.id,
            defaults=defaults,
            max_size=settings.activity_batch_size,
            interval=settings.activity_flush_seconds,
            clock=clock,
        )
        sender = OutboxSender(app.bot, uow, rate=settings.outbox_rate, clock=clock, budget=budget)
        deal_posts = DealPostEdits(
            lambda deal_id, now: edit_deal_post(app.bot, deps, deal_id, now), clock=clock
        )
        deps = Deps(
            uow=uow,
            defaults=defaults,
            owner_ids=settings.bot_owner_ids,
            buffer=buffer,
            deal_posts=deal_posts,
            outbox=sender,
            clock=clock.now,
        )
        app.bot_data.deps = deps
        await sender.recover()
        if moved := await realign_runs(deps.uow(), now=clock.now()):
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
            servers.append(http)
            log.info(
                "orders webhook on http://%s:%d/api/orders", settings.http_host, settings.http_port
            )
        if set_commands:
            await set_command_menus(app)
        if app.job_queue is not None:
            Jobs(app.bot, deps, sender, settings, clock).schedule(app.job_queue)

    async def post_stop(app: GrowthApp) -> None:
        for http in servers:
            await http.stop()
        if not app.bot_data.started:
            return  # post_init never ran
        deps = app.bot_data.deps
        if isinstance(deps.outbox, OutboxSender):
            await deps.outbox.stop()  # in-flight sends finish and are recorded
        if isinstance(deps.deal_posts, DealPostEdits):
            deps.deal_posts.stop()
        if isinstance(deps.buffer, ActivityBuffer):
            await deps.buffer.stop()
            log.info("activity buffer flushed (%d messages written this run)", deps.buffer.written)

    async def post_shutdown(app: GrowthApp) -> None:
        await engine.dispose()

    builder = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .token(settings.telegram_bot_token or "0:offline")
        .base_url(settings.telegram_api_base_url)
        .defaults(
            Defaults(
                parse_mode="HTML",
                allow_sending_without_reply=True,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(BudgetLimiter(budget))
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
