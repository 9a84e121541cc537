"""build_application(): the Application with storage, caches, handlers and lifecycle hooks."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import logging
import math
import re
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.routing import BaseRoute
from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
    LinkPreviewOptions,
    Update,
)
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults, Job
from telegram.request import BaseRequest

from bot import wiring
from bot.acks import GroupAcks
from bot.budget import BudgetLimiter, ChatBudget
from bot.buffer import ActivityBuffer
from bot.clock import SYSTEM, Clock
from bot.dashboard.auth import SESSION_MAX_AGE, DashboardAuth
from bot.dashboard.links import Links
from bot.dashboard.routes import Dashboard
from bot.dashboard.sessions import SessionStore
from bot.deal_posts import DealPostEdits
from bot.edits import LatestEdits
from bot.health import Readiness, Started, health_routes
from bot.inbox import InboxWorker, Store, inbox_store, telegram_route
from bot.jobs import Jobs
from bot.leader import Leadership
from bot.logs import CutOff, reason
from bot.metrics import Metrics
from bot.outbox import OutboxSender
from bot.rehearsal import rehearse
from bot.scope import CURRENT, ScopeOutcomes, UpdateScope
from bot.settings import Settings
from bot.updates import PerChatOrder
from bot.webhooks import HttpServer, orders_routes
from campaigns.access import Gate
from campaigns.services.calendar import realign_runs
from campaigns.services.members import started_the_bot
from campaigns.services.outbox import waiting
from campaigns.services.tiers import TierChange
from campaigns.settings import ChatSettings
from handlers import registry
from handlers.deps import CONTEXT_TYPES, BotData, Context, Deps, Handled
from handlers.groupbuys import edit_deal_post
from handlers.notify import send_notices, send_tier_changes
from handlers.registry import ALLOWED_UPDATES
from handlers.start_texts import StartTexts
from storage.engine import connection_problem, create_engine, ping, session_factory
from storage.uow import SqlUnitOfWork

log = logging.getLogger("growthbot")
STATEMENT_TIMEOUT = 30.0  # seconds a statement of the bot's may take (PostgreSQL)
# APScheduler logs a job that the stop cancelled (one stuck on the database) with a traceback.
logging.getLogger("apscheduler.executors.default").addFilter(
    CutOff("it was cut off: the bot is stopping")
)
DASHBOARD_ADMIN_MAX_AGE = 60.0  # seconds the dashboard trusts a kept admin list


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
        self.stop_failures: list[str] = []  # steps of stopping that failed (each logged)

    async def process_stored(self, body: str) -> bool:
        """Handle an update stored by the webhook; False when a handler failed with an
        unexpected error (PTB hands it to the error handler and does not raise it), so the
        inbox can run it again rather than count it done."""
        failed = False

        def note(scope: UpdateScope) -> None:
            nonlocal failed
            failed = scope.outcome is Handled.ERROR

        await self.process_update(Update.de_json(json.loads(body), self.bot), on_done=note)
        return not failed

    async def process_update(
        self, update: object, on_done: Callable[[UpdateScope], None] | None = None
    ) -> None:
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
            if on_done is not None:
                on_done(scope)

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
        update_id = getattr(update, "update_id", None)
        what = (
            f"update {update_id}"
            if update_id is not None
            else f"job {job.name}"
            if job is not None
            else "a task"
        )
        # Weather, not a bug: one line, naming which of the two could not be reached (a
        # reset connection to Telegram was reported as the database's).
        if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
            log.warning("%s failed: Telegram could not be reached: %s", what, error)
            return False
        if (why := connection_problem(error)) is not None:
            log.warning("%s failed: the database: %s", what, why)
            return False
        return await super().process_error(update, error, job, coroutine)


GrowthApp = GrowthApplication


@dataclass(frozen=True)
class Role:
    """What a real process does besides handling updates; tests and the demo use none of it."""

    lead: bool = False  # processes may share the database: run jobs only with the jobs lease
    webhook: str | None = None  # receive Telegram's webhook at this URL (served on HTTP_PORT)
    inbox: bool = False  # process the updates stored in the inbox
    http_setting: str = "HTTP_PORT"  # what the operator set the HTTP port with (errors)


class _NotYet:
    """The admin check before the bot has started (HTTP is served first): no one is anyone."""

    def is_owner(self, user_id: int) -> bool:
        return False

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        return False

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        return False


@dataclass
class _Running:
    # The bot's admin check for the dashboard, once post_init built Deps: an admin list kept
    # at most DASHBOARD_ADMIN_MAX_AGE (a demoted admin is refused within a minute there).
    gate: Callable[[], Gate] = _NotYet
    leadership: Leadership | None = None
    worker: InboxWorker | None = None
    store: Store | None = None  # the webhook's, once the bot's id is known
    promoted: Callable[[TierChange], Awaitable[None]] | None = None  # once deps exist
    changed: Callable[[int, ChatSettings], None] | None = None  # Deps' settings cache

    def settings_changed(self, chat_id: int, value: ChatSettings) -> None:
        """The dashboard changed a group's settings: the handlers' cache hears it at once."""
        if self.changed is not None:
            self.changed(chat_id, value)


# Characters a webhook URL's path may have: Starlette reads `{...}` as a path parameter, and
# the path it matches is percent-decoded, so anything beyond these would not match as typed.
WEBHOOK_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@/-]*")


def webhook_path(url: str) -> str:
    """The path the webhook is served at; ValueError if Starlette would not match it as is."""
    path = urlsplit(url).path or "/"
    if not WEBHOOK_PATH.fullmatch(path):
        raise ValueError(
            f"the webhook URL's path {path!r} may only have letters, digits, '/' and "
            "-._~!$&'()*+,;=:@ (no braces, no %-escapes)"
        )
    return path


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
    budget: ChatBudget | None = None,
    role: Role = Role(),
) -> GrowthApp:
    """Wire storage, caches, workers and handlers; `request` replaces the network, `clock`
    the system clock (tests, demo), `budget` Telegram's flood limits (the demo, which plays
    days in seconds against a double that has none); `role` says what this process does."""
    wiring.install()
    engine = create_engine(settings.database_url, command_timeout=STATEMENT_TIMEOUT)
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
    running = _Running()

    async def promoted(change: TierChange) -> None:
        """An order from the shop made a member qualify for a tier: tell them privately."""
        if running.promoted is not None:
            await running.promoted(change)

    if settings.orders_webhook_secret:
        routes += orders_routes(uow, settings.orders_webhook_secret, on_promotion=promoted)
    if role.webhook is not None:
        if not settings.telegram_webhook_secret:
            raise ValueError("webhook mode needs TELEGRAM_WEBHOOK_SECRET")

        async def store(update_id: int, chat: int, body: str) -> bool:
            assert running.store is not None, "set in post_init, before HTTP is served"
            return await running.store(update_id, chat, body)

        path = webhook_path(role.webhook)
        routes.append(telegram_route(path, settings.telegram_webhook_secret, store))
    dashboard_auth = _dashboard(settings, routes, uow, running, clock)
    if role.webhook is not None or role.inbox:
        metrics.inbox_depth = lambda: _inbox_depth(uow)
    http_app = Starlette(routes=routes)
    # Telegram does not follow redirects: `/tg/hook/` is a 404, not a 307 to `/tg/hook`.
    http_app.router.redirect_slashes = False
    servers: list[HttpServer] = []
    # One view of every chat's share of Telegram's limits: the outbox, replies and edits.
    budget = budget or ChatBudget(overall=settings.outbox_rate, clock=clock)

    async def post_init(app: BaseApp) -> None:
        if role.webhook is not None:  # the bot's id is known from here (getMe)

            def stored() -> None:
                if running.worker is not None:
                    running.worker.wake()

            running.store = inbox_store(uow, app.bot.id, clock=clock, stored=stored)
        if settings.http_port is not None:  # first, so /readyz says "starting" meanwhile
            http = HttpServer(http_app, settings.http_host, settings.http_port, role.http_setting)
            http.start()  # BindError (a busy port) before anything else has started
            servers.append(http)
            await http.started()  # Telegram may deliver the moment the webhook is set
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
        sender = OutboxSender(
            app.bot, uow, rate=settings.outbox_rate, clock=clock, metrics=metrics, budget=budget
        )
        metrics.outbox_depth = lambda: waiting(uow(), now=clock.now())
        deal_posts = DealPostEdits(
            lambda deal_id, now: edit_deal_post(app.bot, deps, deal_id, now),
            clock=clock,
            budget=budget,
        )
        acks = GroupAcks(
            app.bot, budget, reachable=lambda ids: started_the_bot(uow(), ids), clock=clock
        )
        deps = Deps(
            uow=uow,
            defaults=defaults,
            owner_ids=settings.bot_owner_ids,
            buffer=buffer,
            deal_posts=deal_posts,
            acks=acks,
            cards=LatestEdits(budget, clock=clock),
            outbox=sender,
            clock=clock.now,
            outcomes=ScopeOutcomes(),
        )
        app.bot_data.deps = deps
        running.gate = lambda: deps.gate(app.bot, DASHBOARD_ADMIN_MAX_AGE)
        running.changed = deps.settings_changed
        if dashboard_auth is not None and settings.dashboard_url:
            deps.dashboard = Links(
                dashboard_auth,
                url=settings.dashboard_url,
                username=app.bot.username,
                short_name=settings.dashboard_short_name,
            )
        await sender.recover()
        if moved := await realign_runs(deps.uow(), now=clock.now()):
            log.info("%d scheduled posts had a next run off their schedule: moved", moved)
        buffer.on_notices = lambda notices: send_notices(app.bot, deps, notices)
        running.promoted = lambda change: send_tier_changes(app.bot, deps, [change])
        buffer.on_error = metrics.errors.labels("buffer").inc
        await rehearse(
            lambda: SqlUnitOfWork(sessions, durable=False, rehearsal=True),
            bot_id=app.bot.id, defaults=defaults, now=clock.now(),
        )  # fmt: skip
        buffer.start()
        holder = sender.worker  # one id per process: the outbox, the lease, the inbox
        leadership = running.leadership = Leadership(
            uow, holder, ttl=settings.leader_lease_seconds, clock=clock, dead=sender.gone
        )
        sender.may_send = lambda: leadership.leader

        async def lead() -> None:
            await sender.recover()  # what a vanished leader was sending
            sender.kick()

        leadership.on_gain = lead
        if role.lead:
            await leadership.start()
        if role.inbox:
            assert isinstance(app, GrowthApplication)
            running.worker = InboxWorker(
                uow,
                bot_id=app.bot.id,
                holder=holder,
                process=app.process_stored,
                flush=buffer.flush,
                chats=settings.worker_chats,
                lease=settings.inbox_lease_seconds,
                clock=clock,
                dead=sender.gone,
            )
        if set_commands:
            await set_command_menus(app)
        if app.job_queue is not None:
            jobs = Jobs(app.bot, deps, sender, settings, clock, leads=lambda: leadership.leader)
            jobs.prune_inbox = lambda before: _prune_inbox(uow, before)
            jobs.schedule(app.job_queue)
            if role.lead:
                every = settings.leader_lease_seconds / 3
                app.job_queue.run_repeating(
                    leadership.renew, interval=every, first=every, name="leader-lease"
                )
        if running.worker is not None:
            running.worker.on_settings = deps.forget_settings
            await running.worker.listen(settings.database_url)
            running.worker.start()
        if role.webhook is not None:
            await app.bot.set_webhook(
                role.webhook,
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
                max_connections=settings.webhook_max_connections,
            )
            log.info("webhook set: Telegram delivers updates to %s", role.webhook)
        # Everything built so far lives as long as the process: frozen, the collector stops
        # walking it. A full collection walked all of it (PTB, SQLAlchemy, the handlers'
        # caches) and held the event loop for up to a hundred milliseconds.
        gc.collect()
        gc.freeze()
        started.state = "running"

    app_failures: list[str] = []

    stop_by = [math.inf]  # the loop's time by which stopping gives up waiting

    async def step(
        what: str,
        action: Callable[[], Awaitable[object]],
        slow: str = "is the database answering?",
    ) -> None:
        """One step of stopping: a failure is one log line, and the next step still runs.
        Steps share the stop's time (STOP_WITHIN_SECONDS); one past it still gets a second,
        so a database that hangs cannot hold the stop for minutes. `slow`: what most likely
        held the step up, said when it runs out of time."""
        loop = asyncio.get_running_loop()
        limit = asyncio.timeout_at(max(stop_by[0], loop.time() + 1))
        try:
            async with limit:
                await action()
        except Exception as error:
            app_failures.append(what)
            if isinstance(error, TimeoutError) and limit.expired():
                why = f"no end in sight after {settings.stop_within_seconds:.0f} s ({slow})"
            else:
                why = reason(error)
            log.error("stopping: %s failed: %s", what, why)

    async def post_stop(app: BaseApp) -> None:
        started.state = "stopping"
        stop_by[0] = asyncio.get_running_loop().time() + settings.stop_within_seconds
        for http in servers:  # first: no update is acknowledged from here on
            await step("stopping HTTP", http.stop)
        if running.worker is not None:
            # each chat finishes its update; the rest go back
            await step("stopping the inbox worker", running.worker.stop)
        if not app.bot_data.started:
            return  # post_init never ran
        deps = app.bot_data.deps
        if isinstance(deps.outbox, OutboxSender):
            await step("stopping the outbox", deps.outbox.stop)  # in-flight sends are recorded
        if isinstance(deps.acks, GroupAcks):
            # every member waiting for an answer gets it
            await step(
                "sending the answers still waiting",
                deps.acks.stop,
                slow="Telegram takes about 20 messages a minute in a group",
            )
        if isinstance(deps.cards, LatestEdits):
            await step("editing the cards still waiting", deps.cards.stop)
        if isinstance(deps.deal_posts, DealPostEdits):
            deps.deal_posts.stop()
        if isinstance(deps.buffer, ActivityBuffer):
            buffer = deps.buffer

            async def flush() -> None:
                await buffer.stop()
                log.info("activity buffer flushed (%d messages written this run)", buffer.written)

            await step("the activity buffer's last write", flush)
        if running.leadership is not None:  # last: the outbox has stopped sending
            await step("releasing the leader lease", running.leadership.stop)

    async def post_shutdown(app: BaseApp) -> None:
        started.state = "stopped"
        for http in servers:  # again: post_stop does not run if start-up was interrupted
            await step("stopping HTTP", http.stop)
        stop_by[0] = min(stop_by[0], asyncio.get_running_loop().time() + 5)
        await step("closing the database connections", engine.dispose)

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
        .rate_limiter(BudgetLimiter(budget, on_429=metrics.retry_after.labels("reply").inc))
        .concurrent_updates(PerChatOrder())  # polling: a chat waiting for room holds only itself
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
    app.stop_failures = app_failures
    registry.register(app)
    return app


def _dashboard(
    settings: Settings,
    routes: list[BaseRoute],
    uow: Callable[[], SqlUnitOfWork],
    running: _Running,
    clock: Clock,
) -> DashboardAuth | None:
    """The dashboard's routes under /dashboard/ when DASHBOARD_URL is set (README, Dashboard);
    its sign-in checks, for the links /dashboard hands out."""
    if not settings.dashboard_url:
        return None
    if not settings.telegram_bot_token:
        raise ValueError("the dashboard (DASHBOARD_URL) needs TELEGRAM_BOT_TOKEN")
    auth = DashboardAuth(
        bot_token=settings.telegram_bot_token,
        secret=settings.dashboard_secret or settings.telegram_bot_token,
        now=clock.now,
        default_language=settings.default_language,
        init_data_max_age=settings.dashboard_init_data_max_age,
    )
    dashboard = Dashboard(
        auth=auth,
        uow=uow,
        gate=lambda: running.gate(),
        sessions=SessionStore(uow, clock.now, dt.timedelta(seconds=SESSION_MAX_AGE)),
        now=clock.now,
        defaults=settings.chat_defaults,
        secure=settings.dashboard_cookie_secure,
        samesite=settings.dashboard_cookie_samesite,
        settings_changed=running.settings_changed,
    )
    routes.append(dashboard.mount())
    return auth


async def _prune_inbox(uow: Callable[[], SqlUnitOfWork], before: dt.datetime) -> int:
    async with uow() as work:
        pruned = await work.inbox.prune(before)
        await work.commit()
    return pruned


async def _inbox_depth(uow: Callable[[], SqlUnitOfWork]) -> int:
    async with uow() as work:
        return await work.inbox.depth()


async def serve(app: GrowthApp) -> None:
    """Run until SIGINT or SIGTERM without polling: updates come through the inbox (webhook
    mode, `growthbot worker`). The same lifecycle as PTB's run_polling."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        await stop.wait()
        log.info("stopping")
    finally:
        if app.running:
            await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


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
