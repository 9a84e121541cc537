"""build_application(): the Application with storage, caches, handlers and lifecycle hooks."""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from starlette.applications import Starlette
from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
    LinkPreviewOptions,
)
from telegram.error import RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults, Job
from telegram.request import BaseRequest

import handlers
from bot import wiring
from bot.buffer import ActivityBuffer
from bot.clock import SYSTEM, Clock
from bot.deal_posts import DealPostEdits
from bot.health import Readiness, Started, health_routes
from bot.jobs import Jobs
from bot.metrics import Metrics
from bot.outbox import OutboxSender
from bot.scope import CURRENT, ScopeOutcomes, UpdateScope
from bot.settings import Settings
from bot.webhooks import HttpServer, orders_routes
from campaigns.services.calendar import realign_runs
from campaigns.services.outbox import waiting
from handlers.deps import CONTEXT_TYPES, BotData, Context, Deps, Handled
from handlers.groupbuys import edit_deal_post
from handlers.notify import send_notices
from handlers.start_texts import StartTexts
from storage.engine import create_engine, ping, session_factory
from storage.uow import SqlUnitOfWork

log = logging.getLogger("growthbot")


BaseApp = Application[Any, Context, Any, Any, BotData, Any]  # what PTB's hooks are given


class GrowthApplication(BaseApp):
    """PTB's Application, observed: each update is timed and counted by type and outcome,
    each error reaching the error handler is counted, and log lines written while an update
    is handled carry its ids. It also holds the HTTP app and the readiness checks."""

    def __init__(
        self, *, metrics: Metrics, readiness: Readiness, http: Starlette, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.metrics, self.readiness, self.http = metrics, readiness, http

    async def process_update(self, update: object) -> None:
        scope = UpdateScope(update)
        token = CURRENT.set(scope)
        # Elapsed real time, not the injected clock: this measures the bot, not the story.
        began = time.perf_counter()
        try:
            await super().process_update(update)
        except Exception:
            scope.mark(Handled.ERROR)
            raise
        finally:
            CURRENT.reset(token)
            self.metrics.handled(scope.kind, scope.outcome, time.perf_counter() - began)

    async def process_error(
        self,
        update: object | None,
        error: Exception,
        job: Job[Context] | None = None,
        coroutine: Any = None,
    ) -> bool:
        """Count the error (a 429, Telegram's refusal, or a bug), then the error handlers."""
        where = "job" if job is not None else "handler" if update is not None else "other"
        if isinstance(error, RetryAfter):
            self.metrics.retry_after.labels(where).inc()
        if isinstance(error, TelegramError):
            outcome = Handled.TELEGRAM_ERROR
        else:
            outcome = Handled.ERROR
            self.metrics.errors.labels(where).inc()
        scope = CURRENT.get()
        if scope is not None and scope.update is update:
            scope.mark(outcome)
        return await super().process_error(update, error, job, coroutine)


GrowthApp = GrowthApplication


async def set_command_menus(app: BaseApp) -> None:
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
) -> GrowthApp:
    """Wire storage, caches, workers and handlers; `request` replaces the network and
    `clock` the system clock (tests, demo)."""
    wiring.install()
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    metrics, readiness, started = Metrics(), Readiness(), Started()

    async def database() -> str | None:
        if started.state == "stopped":
            return "closed"  # the engine is disposed: a ping would open a connection again
        await ping(engine)
        return None

    readiness.add("database", database)
    readiness.add("started", started)
    routes = health_routes(metrics, readiness)
    if settings.orders_webhook_secret:
        routes += orders_routes(uow, settings.orders_webhook_secret)
    http_app = Starlette(routes=routes)
    servers: list[HttpServer] = []

    async def post_init(app: BaseApp) -> None:
        if settings.http_port is not None:  # first, so /readyz says "starting" meanwhile
            http = HttpServer(http_app, settings.http_host, settings.http_port)
            http.start()
            servers.append(http)
            paths = [str(getattr(r, "path", "")) for r in http_app.routes]
            log.info(
                "HTTP on http://%s:%d: %s",
                settings.http_host,
                settings.http_port,
                " ".join(paths),
            )
        defaults = settings.chat_defaults
        buffer = ActivityBuffer(
            lambda: SqlUnitOfWork(sessions, durable=False),
            bot_id=app.bot.id,
            defaults=defaults,
            max_size=settings.activity_batch_size,
            interval=settings.activity_flush_seconds,
            clock=clock,
        )
        sender = OutboxSender(app.bot, uow, rate=settings.outbox_rate, clock=clock, metrics=metrics)
        metrics.outbox_depth = lambda: waiting(uow(), now=clock.now())
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
            outcomes=ScopeOutcomes(),
        )
        app.bot_data.deps = deps
        await sender.recover()
        if moved := await realign_runs(deps.uow(), now=clock.now()):
            log.info("%d scheduled posts had a next run off their schedule: moved", moved)
        buffer.on_notices = lambda notices: send_notices(app.bot, deps, notices)
        buffer.start()
        if set_commands:
            await set_command_menus(app)
        if app.job_queue is not None:
            Jobs(app.bot, deps, sender, settings, clock).schedule(app.job_queue)
        # Everything built so far lives as long as the process: frozen, the collector stops
        # walking it. A full collection walked all of it (PTB, SQLAlchemy, the handlers'
        # caches) and held the event loop for up to a hundred milliseconds.
        gc.collect()
        gc.freeze()
        started.state = "running"

    async def post_stop(app: BaseApp) -> None:
        started.state = "stopping"
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

    async def post_shutdown(app: BaseApp) -> None:
        started.state = "stopped"
        for http in servers:  # again: post_stop does not run if start-up was interrupted
            await http.stop()
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
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .application_class(
            GrowthApplication,
            kwargs={"metrics": metrics, "readiness": readiness, "http": http_app},
        )
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    app = builder.build()
    assert isinstance(app, GrowthApplication)
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
