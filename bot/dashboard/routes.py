"""The dashboard's HTTP routes, mounted at /dashboard/ on the bot's own Starlette app.

Routes are adapters, like handlers: they read the session and the request, call one use
case (campaigns/services/dashboard.py, which checks the caller is the named group's admin)
and render a page with the texts of handlers/dashboard_texts.py. Pages are rendered on the
server (they work without JavaScript but for the charts, which ECharts draws from data in
the page); every write is a POST carrying the session's CSRF token, from a page of this
origin.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.audience_cli import EXPORT_FIELDS
from bot.dashboard.auth import (
    LOGIN_MAX_AGE,
    SESSION_MAX_AGE,
    DashboardAuth,
    Identity,
    NotSignedIn,
    csrf_ok,
)
from bot.dashboard.safe_html import safe_preview
from bot.dashboard.sessions import SessionStore
from bot.spreadsheet import safe_cell
from bot.webhooks import Refused, read_body
from campaigns.access import AccessDenied, ForeignButton, Gate
from campaigns.audiences import AudienceRefused
from campaigns.checkin import local_day
from campaigns.content import ContentRefused
from campaigns.coupons import format_amount
from campaigns.dashboard import MemberSort, MembersQuery, parse_members_query
from campaigns.errors import DomainError, InvalidSetting
from campaigns.groupbuys import TeamStatus
from campaigns.ports import UnitOfWork
from campaigns.schedule import ScheduleError
from campaigns.segments import Segment, Stage
from campaigns.services import dashboard as use
from campaigns.services.calendar import PostAction
from campaigns.settings import SETTING_KEYS, ChatSettings
from campaigns.shop import expiry_grace
from campaigns.stats import PERIOD_DAYS, Asked
from handlers.admin_texts import AdminTexts
from handlers.calendar_texts import CalendarTexts
from handlers.campaign_texts import CampaignTexts
from handlers.coupon_texts import CouponTexts
from handlers.dashboard_texts import DashboardTexts
from handlers.segment_texts import SegmentTexts
from handlers.stats_texts import BLOCKS, StatsTexts

HERE = Path(__file__).parent
COOKIE = "gb_session"
CSRF_HEADER = "x-csrf-token"
CHAT_ID = re.compile(r"-?[0-9]{1,19}", re.ASCII)  # ASCII digits only: ١٠ names no group
BIGGEST_ID = 2**63 - 1  # the databases' BIGINT: a larger id names nothing (never a 500)


def on_the_page(ct: CalendarTexts, refused: Exception) -> str:
    """/schedule's refusal; for a time, without its pointer to the chat command's help (the
    form and its label are the help here)."""
    if isinstance(refused, ScheduleError):
        return ct.time_problem(refused)
    return ct.refusal(refused) or html.escape(str(refused))


def _named(name: Callable[[Any], str], kind: type[Any], value: str | None) -> str:
    """A stored stage or RFM segment in the page's words; a value no longer known as is."""
    if not value:
        return "–"
    try:
        return name(kind(value))
    except ValueError:
        return value


def id_in(raw: str, *, signed: bool = False) -> int | None:
    """An id from a URL: ASCII digits (a leading minus for a group) within BIGINT; None
    otherwise, so the route answers 403 or 404 and no query sees it."""
    if not (CHAT_ID.fullmatch(raw) if signed else raw.isascii() and raw.isdigit()):
        return None
    found = int(raw)
    return found if abs(found) <= BIGGEST_ID else None


PAGES = ("overview", "members", "campaigns", "content", "commerce", "settings")
REPORT_TTL = 60.0  # seconds a group's overview figures are reused
MAX_FORM = 64 * 1024  # bytes of a form: a post's 4,096 characters, each up to 12 encoded


def period_days(request: Request) -> int:
    """`?days=7|30|90` (30 otherwise), as /stats takes it."""
    raw = request.query_params.get("days", "30")
    return int(raw) if raw in {str(d) for d in PERIOD_DAYS} else 30


class Dashboard:
    """The dashboard's routes and what they need from the composition root: units of work,
    the bot's admin check (`gate()`, once the bot is started), the clock and the defaults."""

    def __init__(
        self,
        *,
        auth: DashboardAuth,
        uow: Callable[[], UnitOfWork],
        gate: Callable[[], Gate],
        sessions: SessionStore,
        now: Callable[[], dt.datetime],
        defaults: ChatSettings,
        secure: bool = True,
        samesite: str = "lax",
        settings_changed: Callable[[int, ChatSettings], None] | None = None,
    ) -> None:
        self.auth, self.uow, self.gate, self.now, self.defaults = auth, uow, gate, now, defaults
        self.sessions = sessions
        self.secure, self.samesite = secure, samesite
        self.settings_changed = settings_changed
        self._reports: dict[tuple[int, int, str], tuple[float, dict[str, Any]]] = {}
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def mount(self) -> Mount:
        """Everything under /dashboard, compressed (ECharts is 1.1 MB, 0.37 MB gzipped)."""
        app = Starlette(
            routes=self.routes(),
            middleware=[Middleware(GZipMiddleware)],
            exception_handlers={404: self.not_found},
        )
        return Mount("/dashboard", app=app)

    async def not_found(self, request: Request, _error: Exception) -> Response:
        """A mistyped address: said in the session's language, with the way back."""
        who = await self.who(request)
        t = DashboardTexts(who.language if who else self.defaults.language)
        return self.message(t, t.not_found(), 404)

    def routes(self) -> list[BaseRoute]:
        g = "/g/{chat_id}"
        return [
            Route("/", self.index),
            Route("/auth", self.sign_in, methods=["POST"]),
            Route("/login", self.login),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/lang", self.switch_language, methods=["POST"]),
            Route("/groups", self.groups),
            Route(g + "/", self.page("overview", self.overview)),
            Route(g + "/overview.json", self.overview_data),
            Route(g + "/members", self.page("members", self.members)),
            Route(g + "/members.csv", self.members_csv),
            Route(g + "/campaigns", self.page("campaigns", self.campaigns)),
            Route(g + "/content", self.page("content", self.content)),
            Route(g + "/content", self.write(self.new_post), methods=["POST"]),
            Route(g + "/broadcasts", self.broadcasts),
            Route(g + "/posts/{post_id}/{action}", self.write(self.post_action), methods=["POST"]),
            Route(g + "/commerce", self.page("commerce", self.commerce)),
            Route(g + "/offers/{offer_id}/end", self.write(self.end_offer), methods=["POST"]),
            Route(g + "/settings", self.page("settings", self.settings)),
            Route(g + "/settings", self.write(self.change_setting), methods=["POST"]),
            Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
        ]

    # --- signing in -------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        """The Mini App's start. Its script posts Telegram's initData (in the URL's fragment,
        which the server never sees) to /auth, even over an older session, so a group link
        opens its group; a browser with no initData but a session goes to its groups."""
        who = await self.who(request)
        t = DashboardTexts(who.language if who else self.defaults.language)
        return self.render("signin.html", t, None, signed_in=who is not None)

    async def sign_in(self, request: Request) -> Response:
        """initData checked (signature, age), from this origin only (another site cannot sign
        a visitor into its own session); the session cookie set; where to go next."""
        if not self.same_origin(request):
            return JSONResponse({"error": "origin"}, 403)
        form = await self.form(request)
        try:
            who, group, signature = self.auth.check_init_data(form.get("init_data", ""))
        except NotSignedIn as refused:
            t = DashboardTexts(self.defaults.language)
            return JSONResponse({"error": refused.why, "message": t.refused_sign_in()}, 401)
        target = f"/dashboard/g/{group}/" if group is not None else "/dashboard/groups"
        usable = dt.timedelta(seconds=self.auth.init_data_max_age + 120)
        if not await self.sessions.spend("init", signature, usable):
            # Telegram signs a new initData each time the app opens: this one was posted
            # before. The page reloaded in a session of the same person goes on; anyone
            # else (a copied initData) is refused.
            current = await self.who(request)
            if current is not None and current.user_id == who.user_id:
                return JSONResponse({"next": target})
            t = DashboardTexts(who.language)
            return JSONResponse({"error": "spent", "message": t.init_data_spent()}, 401)
        return await self.signed_in(JSONResponse({"next": target}), who)

    async def login(self, request: Request) -> Response:
        """A `/dashboard login` link: once, within minutes; then the person's groups."""
        t = DashboardTexts(self.defaults.language)
        try:
            who, nonce = self.auth.redeem_login(request.query_params.get("t", ""))
        except NotSignedIn:
            return self.message(t, t.link_spent(), 401)
        usable = dt.timedelta(seconds=LOGIN_MAX_AGE + 120)
        if not await self.sessions.spend("login", nonce, usable):
            return self.message(t, t.link_spent(), 401)
        return await self.signed_in(RedirectResponse("/dashboard/groups", 303), who)

    async def signed_in(self, response: Response, who: Identity) -> Response:
        """A new session for the person, and its cookie."""
        who = replace(who, session=await self.sessions.open(who.user_id))
        return self.with_cookie(response, who)

    def with_cookie(self, response: Response, who: Identity) -> Response:
        response.set_cookie(
            COOKIE,
            self.auth.session_cookie(who),
            max_age=SESSION_MAX_AGE,
            path="/dashboard",
            httponly=True,
            secure=self.secure,
            samesite=self.samesite,  # type: ignore[arg-type]
        )
        return response

    async def logout(self, request: Request) -> Response:
        who = await self.who(request)
        form = await self.form(request)
        if who is None or not self.same_origin(request) or not csrf_ok(who, form.get("csrf")):
            return self.forbidden(who)
        await self.sessions.end(who.session)  # every copy of the cookie, not only this one
        response = RedirectResponse("/dashboard/", 303)
        response.delete_cookie(COOKIE, path="/dashboard")
        return response

    async def switch_language(self, request: Request) -> Response:
        """The pages' language (zh / en), kept in the session."""
        who = await self.who(request)
        form = await self.form(request)
        if who is None or not self.same_origin(request) or not csrf_ok(who, form.get("csrf")):
            return self.forbidden(who)
        language = "en" if form.get("language") == "en" else "zh"
        back = form.get("next", "")
        back = back if back.startswith("/dashboard/") and "//" not in back else "/dashboard/"
        return self.with_cookie(RedirectResponse(back, 303), replace(who, language=language))

    async def groups(self, request: Request) -> Response:
        who = await self.who(request)
        if who is None:
            return RedirectResponse("/dashboard/", 303)
        t = DashboardTexts(who.language)
        found = await use.my_groups(self.uow(), self.gate(), user_id=who.user_id)
        return self.render("groups.html", t, who, groups=found, path=request.url.path)

    # --- group pages ------------------------------------------------------------------

    Page = Callable[[Request, Identity, int, DashboardTexts], Awaitable[dict[str, Any]]]

    def page(self, name: str, build: Page) -> Callable[[Request], Awaitable[Response]]:
        """A group's page: signed in (else back to the start), the group id read, the page's
        use case asked (which checks the admin), the template rendered."""

        async def endpoint(request: Request) -> Response:
            who = await self.who(request)
            if who is None:
                return RedirectResponse("/dashboard/", 303)
            chat_id = self.chat_id(request)
            t = DashboardTexts(who.language)
            if chat_id is None:
                return self.forbidden(who)
            try:
                values = await build(request, who, chat_id, t)
            except AccessDenied:
                return self.forbidden(who)
            return self.render(
                f"{name}.html",
                t,
                who,
                page=name,
                chat_id=chat_id,
                path=request.url.path,
                **values,
            )

        return endpoint

    def write(
        self, action: Callable[[Request, Identity, int, dict[str, str]], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A write: signed in, from this origin, with the session's CSRF token, by an admin
        of the group (checked in the use case); else 403 and nothing changes."""

        async def endpoint(request: Request) -> Response:
            who = await self.who(request)
            form = await self.form(request)
            given = form.get("csrf") or request.headers.get(CSRF_HEADER)
            chat_id = self.chat_id(request)
            if who is None or chat_id is None or not self.same_origin(request):
                return self.forbidden(who)
            if not csrf_ok(who, given):
                t = DashboardTexts(who.language)
                return self.message(t, t.expired_form(), 403)
            try:
                return await action(request, who, chat_id, form)
            except AccessDenied:
                return self.forbidden(who)

        return endpoint

    async def overview(
        self, request: Request, who: Identity, chat_id: int, t: DashboardTexts
    ) -> dict[str, Any]:
        """The page around the figures: they come from overview.json (the /stats report
        takes about a second on a million members, the page must not wait for it)."""
        record = await use.group_settings(self.uow, self.gate(), chat_id=chat_id,
                                          user_id=who.user_id)  # fmt: skip
        return {"title": record.title, "days": period_days(request), "periods": PERIOD_DAYS}

    async def overview_data(self, request: Request) -> Response:
        """The /stats card and its charts' data (the same use case and rollup as /stats),
        kept REPORT_TTL seconds per group, period and language: a dashboard left open and
        reloaded by several admins asks the database once a minute, as /stats allows."""
        who = await self.who(request)
        chat_id = self.chat_id(request)
        if who is None or chat_id is None:
            return self.forbidden(who)
        days = period_days(request)
        key = (chat_id, days, who.language)
        try:
            # the admin check runs on every request, cached figures or not
            await use.group_settings(self.uow, self.gate(), chat_id=chat_id, user_id=who.user_id)
            hit = self._reports.get(key)
            if hit is not None and hit[0] > time.monotonic():
                return JSONResponse(hit[1], headers={"Cache-Control": "no-store"})
            report = await use.overview(
                self.uow, self.gate(), chat_id=chat_id, user_id=who.user_id,
                asked=Asked(days=days), now=self.now(),
            )  # fmt: skip
        except AccessDenied:
            return self.forbidden(who)
        data = self.overview_json(report, DashboardTexts(who.language))
        self._reports = {k: v for k, v in self._reports.items() if v[0] > time.monotonic()}
        self._reports[key] = (time.monotonic() + REPORT_TTL, data)
        return JSONResponse(data, headers={"Cache-Control": "no-store"})

    def overview_json(self, report: use.Overview, t: DashboardTexts) -> dict[str, Any]:
        st = StatsTexts(t.language)
        lines = {line.kpi: line for line in report.card.lines}
        blocks = [
            [
                [st.name(k), st.value(lines[k].kind, lines[k].value), st.change(lines[k])]
                for k in block
                if k in lines
            ]
            for block in BLOCKS
        ]
        period = report.card.period
        return {
            "blocks": blocks,
            "charts": self.chart_data(report, t),
            "period": f"{period.start} – {period.end}, {t.versus_before()}",
        }

    @staticmethod
    def chart_data(report: use.Overview, t: DashboardTexts) -> dict[str, Any]:
        """What dashboard.js hands ECharts: each chart's title, x axis and named series."""
        days = report.card.days
        x = [d.day.isoformat() for d in days]

        def series(*names: str) -> list[dict[str, Any]]:
            return [{"name": t.series(n), "data": [getattr(d, n) for d in days]} for n in names]

        table = report.cohorts.table
        cells = [
            [week, cohort, round(100 * rate, 1)]
            for cohort in range(len(table.weeks))
            for week in range(len(table.active[cohort]))
            if (rate := table.rate(cohort, week)) is not None
        ]
        gmv = [{"name": t.series("gmv"), "data": [round(d.gmv / 100, 2) for d in days]}]
        return {
            "activity": {
                "title": t.chart("activity"),
                "x": x,
                "series": series("active", "messages", "checkins"),
            },
            "growth": {
                "title": t.chart("growth"),
                "x": x,
                "series": series("joins", "leaves"),
                "bar": True,
            },
            "sales": {
                "title": t.chart("sales"),
                "x": x,
                "series": series("orders") + gmv,
                "bar": True,
            },
            "cohorts": {
                "title": t.chart("cohorts"),
                "weeks": [w.isoformat() for w in table.weeks],
                "cells": cells,
                "label": t.series("week"),
            },
        }

    async def members(
        self, request: Request, who: Identity, chat_id: int, t: DashboardTexts
    ) -> dict[str, Any]:
        query = parse_members_query(dict(request.query_params))

        async def page_of(query: MembersQuery) -> use.MembersView:
            return await use.members_page(
                self.uow, self.gate(), chat_id=chat_id, user_id=who.user_id, query=query,
                now=self.now(),
            )  # fmt: skip

        try:
            view = await page_of(query)
        except AudienceRefused:  # a saved audience deleted meanwhile: everyone instead
            query = parse_members_query({**request.query_params, "audience": ""})
            view = await page_of(query)
        params = {
            "q": query.search,
            "sort": query.sort,
            "dir": "desc" if query.descending else "asc",
            "audience": query.audience or "",
        }

        def link(page: int) -> str:
            return "?" + urlencode({**params, "page": page})

        return {
            "view": view,
            "sorts": list(MemberSort),
            "csv": "members.csv?" + urlencode(params),
            "prev_link": link(query.page) if query.page > 0 else None,
            "next_link": link(query.page + 2) if view.has_next else None,
            "money": lambda minor: format_amount(minor, "CNY"),
            "title": view.chat.title,
            "stage_name": lambda value: _named(SegmentTexts(who.language).stage, Stage, value),
            "segment_name": lambda value: _named(
                SegmentTexts(who.language).segment, Segment, value
            ),
        }

    async def members_csv(self, request: Request) -> Response:
        """The members the table's filters select, as `growthbot audience export` writes them
        (cells that could be read as formulas are quoted)."""
        who = await self.who(request)
        chat_id = self.chat_id(request)
        if who is None or chat_id is None:
            return self.forbidden(who)
        query = parse_members_query(dict(request.query_params))
        try:
            found = await use.members_export(
                self.uow,
                self.gate(),
                chat_id=chat_id,
                user_id=who.user_id,
                query=query,
                now=self.now(),
            )
        except AccessDenied:
            return self.forbidden(who)
        except AudienceRefused:
            return Response("unknown audience", 404)
        out = io.StringIO()
        writer = csv.DictWriter(out, EXPORT_FIELDS)
        writer.writeheader()
        for m in found:
            row = asdict(m) | {"tags": " ".join(m.tags)}
            writer.writerow({k: safe_cell(row[k]) for k in EXPORT_FIELDS})
        group = str(chat_id).lstrip("-")  # members-1001234.csv, not members--1001234.csv
        name = f"members-{group}" + (f"-{query.audience}" if query.audience else "") + ".csv"
        return Response(
            out.getvalue().encode("utf-8-sig"),  # Excel reads UTF-8 (中文 names) with the BOM
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def content(
        self, request: Request, who: Identity, chat_id: int, t: DashboardTexts
    ) -> dict[str, Any]:
        done = None
        number = id_in(request.query_params.get("post", ""))
        action = request.query_params.get("done", "")
        if number is not None and action == "saved":
            done = t.post_saved(number)
        elif number is not None and action in {a.value for a in PostAction}:
            done = t.post_changed(action, number)
        return await self.content_values(who, chat_id, done=done)

    async def content_values(self, who: Identity, chat_id: int, **extra: Any) -> dict[str, Any]:
        found = await use.posts(self.uow, self.gate(), chat_id=chat_id, user_id=who.user_id)
        record = await use.group_settings(
            self.uow, self.gate(), chat_id=chat_id, user_id=who.user_id
        )
        ct = CalendarTexts(who.language)
        tz = record.settings.timezone
        rows = [
            {
                "post": p,
                "next": ct.local(p.next_run_at, tz) if p.next_run_at else "–",
                "excerpt": Markup(ct.excerpt(p.content.text)),  # escaped once, there
            }
            for p in found
        ]
        live = await self.live(who, chat_id)
        return {
            "posts": rows, "title": record.title, "form": {}, "live": live, "timezone": tz,
            **extra,
        }  # fmt: skip

    async def live(self, who: Identity, chat_id: int) -> list[Markup]:
        """Each running broadcast's progress, in the words of its progress message in chat."""
        found = await use.live_broadcasts(
            self.uow, self.gate(), chat_id=chat_id, user_id=who.user_id, now=self.now()
        )
        ct = CalendarTexts(who.language)
        return [Markup(ct.progress(p)) for p in found]

    async def broadcasts(self, request: Request) -> Response:
        """The Content page's broadcasts section alone, polled while one is being sent."""
        who = await self.who(request)
        chat_id = self.chat_id(request)
        if who is None or chat_id is None:
            return self.forbidden(who)
        try:
            live = await self.live(who, chat_id)
        except AccessDenied:
            return self.forbidden(who)
        html = self.env.get_template("broadcasts.html").render(
            t=DashboardTexts(who.language), live=live
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def new_post(
        self, request: Request, who: Identity, chat_id: int, form: dict[str, str]
    ) -> Response:
        """Preview (the next runs, the post as members see it) or save, as /schedule's ✅."""
        t, ct = DashboardTexts(who.language), CalendarTexts(who.language)
        kwargs: dict[str, Any] = {
            "chat_id": chat_id,
            "user_id": who.user_id,
            "when": form.get("when", ""),
            "text": form.get("text", "").replace("\r\n", "\n"),
            "pin": "pin" in form,
            "silent": "silent" in form,
            "at": self.now(),
        }
        extra: dict[str, Any] = {"form": form}
        try:
            if form.get("do") == "save":
                saved = await use.schedule_post(self.uow, self.gate(), **kwargs)
                back = f"/dashboard/g/{chat_id}/content?done=saved&post={saved.id}"
                return RedirectResponse(back, 303)
            preview = await use.preview_post(self.uow, self.gate(), **kwargs)
            tz = preview.timezone
            extra["preview"] = {
                "text": Markup(safe_preview(preview.text)),
                "runs": [ct.local(r, tz) for r in preview.runs],
                "when": preview.when.describe(),
                "timezone": tz,
                "buttons": [b.text for b in preview.content.buttons],
                "options": ct.options(preview.content.pin, preview.content.silent, False),
            }
        except (ScheduleError, ContentRefused, ForeignButton) as refused:
            extra["error"] = Markup(on_the_page(ct, refused))
        values = await self.content_values(who, chat_id, **extra)
        return self.render(
            "content.html",
            t,
            who,
            page="content",
            chat_id=chat_id,
            path=f"/dashboard/g/{chat_id}/content",
            **values,
        )

    async def post_action(
        self, request: Request, who: Identity, chat_id: int, form: dict[str, str]
    ) -> Response:
        """Pause, resume or delete, as `/post pause|resume|delete <id>`."""
        raw_id, raw_action = request.path_params["post_id"], request.path_params["action"]
        try:
            action = PostAction(raw_action)
        except ValueError:
            return Response("unknown action", 404)
        post_id = id_in(raw_id) or 0
        try:
            await use.change_post(
                self.uow,
                self.gate(),
                chat_id=chat_id,
                user_id=who.user_id,
                post_id=post_id,
                action=action,
                at=self.now(),
            )
        except DomainError as refused:
            if isinstance(refused, AccessDenied):
                raise
            t, ct = DashboardTexts(who.language), CalendarTexts(who.language)
            values = await self.content_values(who, chat_id, error=Markup(on_the_page(ct, refused)))
            return self.render(
                "content.html",
                t,
                who,
                page="content",
                chat_id=chat_id,
                path=f"/dashboard/g/{chat_id}/content",
                status=409,
                **values,
            )
        back = f"/dashboard/g/{chat_id}/content?done={action.value}&post={post_id}"
        return RedirectResponse(back, 303)

    async def campaigns(
        self, request: Request, who: Identity, chat_id: int, t: DashboardTexts
    ) -> dict[str, Any]:
        """The /campaign list and the latest campaigns' 复盘, in the chat commands' words."""
        view = await use.campaigns_view(
            self.uow, self.gate(), chat_id=chat_id, user_id=who.user_id, now=self.now()
        )
        ct = CampaignTexts(who.language)
        return {
            "listing": Markup(ct.listing(view.today, view.campaigns)) if view.campaigns else None,
            "retros": [Markup(ct.retro(r)) for r in view.retros],
            "title": view.title,
        }

    async def commerce(
        self, request: Request, who: Identity, chat_id: int, t: DashboardTexts
    ) -> dict[str, Any]:
        view = await use.commerce_view(
            self.uow, self.gate(), chat_id=chat_id, user_id=who.user_id, now=self.now()
        )
        cp = CouponTexts(who.language)
        offers = [
            {
                "id": line.offer.id,
                "name": line.offer.name,
                "terms": cp.terms(line.offer.template),
                "state": cp.offer_state(line.state),
                "live": line.state == "live",
                "stock": line.offer.stock,
                "claimed": line.offer.issued,
                "redeemed": line.redeemed,
            }
            for line in view.offers
        ]
        deals = []
        for line in view.deals:
            done = line.teams.get(TeamStatus.COMPLETE, 0)
            closed = sum(n for status, n in line.teams.items() if status is not TeamStatus.OPEN)
            deals.append(
                {
                    "id": line.deal.id,
                    "title": line.deal.deal.title,
                    "live": line.live,
                    "teams": sum(line.teams.values()),
                    "completed": done,
                    "success": f"{100 * done / closed:.0f}%" if closed else "–",
                }
            )
        zone = ZoneInfo(view.timezone)
        orders = [
            {
                "id": o.external_id,
                "user_id": o.user_id,
                "amount": format_amount(o.amount, o.currency),
                "at": o.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                "coupons": " ".join(o.coupon_codes),
                "source": o.source,
            }
            for o in view.orders
        ]
        ended = id_in(request.query_params.get("ended", ""))
        notice = t.offer_ended(ended) if ended is not None else None
        return {
            "offers": offers, "deals": deals, "orders": orders, "title": view.title,
            "done": notice,
        }  # fmt: skip

    async def end_offer(
        self, request: Request, who: Identity, chat_id: int, form: dict[str, str]
    ) -> Response:
        raw = request.path_params["offer_id"]
        offer_id = id_in(raw) or 0
        try:
            await use.end_offer(
                self.uow, self.gate(), chat_id=chat_id, user_id=who.user_id, offer_id=offer_id
            )
        except AccessDenied:
            raise
        except DomainError:
            return Response("unknown offer", 404)
        return RedirectResponse(f"/dashboard/g/{chat_id}/commerce?ended={offer_id}", 303)

    async def settings(
        self, request: Request, who: Identity, chat_id: int, t: DashboardTexts
    ) -> dict[str, Any]:
        record = await use.group_settings(
            self.uow, self.gate(), chat_id=chat_id, user_id=who.user_id
        )
        at = AdminTexts(who.language)
        return {
            "current": Markup(at.settings(record.title, record.settings, how=False)),
            "keys": SETTING_KEYS,
            "values": dict(record.settings.as_pairs()),
            "title": record.title,
            "form": {},
        }

    async def change_setting(
        self, request: Request, who: Identity, chat_id: int, form: dict[str, str]
    ) -> Response:
        """`/set <key> <value>`: the same validation and the same messages."""
        key, value = form.get("key", ""), form.get("value", "")
        extra: dict[str, Any] = {"form": form}
        status = 200
        try:
            new = await use.change_setting(
                self.uow,
                self.gate(),
                chat_id=chat_id,
                user_id=who.user_id,
                key=key,
                value=value,
                at=self.now(),
                defaults=self.defaults,
            )
        except InvalidSetting as invalid:
            at = AdminTexts(who.language)
            extra["error"] = Markup(at.invalid_setting(invalid))
            status = 422
        else:
            if self.settings_changed is not None:
                self.settings_changed(chat_id, new)
            grace = expiry_grace(new, local_day(self.now(), new.timezone))
            at = AdminTexts(who.language)
            extra["done"] = Markup(at.setting_changed(key, new, grace))
        t = DashboardTexts(who.language)
        values = await self.settings(request, who, chat_id, t)
        return self.render(
            "settings.html",
            t,
            who,
            page="settings",
            chat_id=chat_id,
            path=f"/dashboard/g/{chat_id}/settings",
            status=status,
            **{**values, **extra},
        )

    # --- helpers ----------------------------------------------------------------------

    async def who(self, request: Request) -> Identity | None:
        """The signed-in person: a cookie signed here whose session has not ended (signing
        out ends it for every copy of the cookie) nor expired."""
        who = self.auth.session_of(request.cookies.get(COOKIE))
        if who is None or not await self.sessions.alive(who.session, who.user_id):
            return None
        return who

    @staticmethod
    def chat_id(request: Request) -> int | None:
        return id_in(str(request.path_params.get("chat_id", "")), signed=True)

    @staticmethod
    def same_origin(request: Request) -> bool:
        """A write from a page of this dashboard: the browser's Origin (or Referer) names
        this host. Absent both, the CSRF token alone decides."""
        origin = request.headers.get("origin") or request.headers.get("referer")
        if not origin:
            return True
        return urlsplit(origin).netloc == request.headers.get("host", "")

    @staticmethod
    async def form(request: Request) -> dict[str, str]:
        """A POST's urlencoded fields (what an HTML form sends), bounded in size and count;
        anything unreadable is an empty form (and so fails the CSRF check)."""
        if request.method != "POST":
            return {}
        try:
            body = await read_body(request, MAX_FORM)
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
        except (Refused, UnicodeDecodeError, ValueError):
            return {}
        return dict(pairs)

    def forbidden(self, who: Identity | None) -> Response:
        t = DashboardTexts(who.language if who else self.defaults.language)
        if who is None:
            return self.message(t, t.sign_in_elsewhere(), 401)
        return self.message(t, t.not_allowed(), 403)

    def message(self, t: DashboardTexts, text: str, status: int) -> Response:
        return self.render("message.html", t, None, text=text, status=status)

    def render(
        self,
        template: str,
        t: DashboardTexts,
        who: Identity | None,
        status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        html = self.env.get_template(template).render(
            t=t, who=who, pages=PAGES, lang="zh-Hans" if t.language == "zh" else "en", **values
        )
        return HTMLResponse(
            html,
            status,
            headers={
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
                "Content-Security-Policy": (
                    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                    "frame-ancestors https://web.telegram.org https://*.telegram.org 'self'"
                ),
            },
        )
