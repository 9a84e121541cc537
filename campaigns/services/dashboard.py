"""The operator dashboard's use cases: each checks the caller is an admin of the very group
the browser named, then calls the use case the chat command calls (the same queries, the
same validation), so the dashboard can never show or change more than `/stats`, `/posts`,
`/set` … would.

A group id in a URL is outside input like a callback's: it is resolved to a registered,
active group and checked against the bot's own admin list (getChatAdministrators, cached,
and BOT_OWNER_IDS) on every request; the session only says who the person is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from campaigns.access import AccessDenied, Denied, Gate
from campaigns.audiences import AudienceMember, SavedAudience
from campaigns.campaign import Retro
from campaigns.content import PostContent, read_post
from campaigns.dashboard import COUNT_CAP, PAGE_SIZE, MembersQuery, pages
from campaigns.errors import UnknownChat
from campaigns.members import ChatInfo
from campaigns.ports import UnitOfWork
from campaigns.ports.calendar import PostRecord
from campaigns.ports.campaigns import CampaignRecord
from campaigns.ports.chats import ChatRecord
from campaigns.ports.orders import PlacedOrder
from campaigns.schedule import When, parse_when
from campaigns.services import broadcasts, calendar, campaigns, chats, coupons, groupbuys
from campaigns.services.access import check_buttons, require_admin
from campaigns.services.analytics import CohortReport, retention_cohorts
from campaigns.services.audiences import saved_expr
from campaigns.services.calendar import PostAction
from campaigns.services.stats import COHORT_WEEKS, LONG_COHORT_WEEKS, group_stats
from campaigns.settings import ChatSettings
from campaigns.stats import Asked, KpiCard

RUNS_SHOWN = 3  # next runs a new post's preview lists, as /schedule's preview
EXPORT_LIMIT = 2_000_000  # members in one CSV (a bigger group exports with the CLI)


async def admin_group(uow: UnitOfWork, gate: Gate, *, chat_id: int, user_id: int) -> ChatRecord:
    """The group, if the bot is in it and this person is its admin now; else refused with
    the same answer whether the group exists or not (an id reveals nothing)."""
    async with uow:
        record = await uow.chats.get(chat_id)
    if record is None or not record.active:
        raise AccessDenied(Denied.NOT_ADMIN)
    await require_admin(gate, record.chat_id, user_id)
    return record


async def my_groups(uow: UnitOfWork, gate: Gate, *, user_id: int) -> list[ChatRecord]:
    """The groups this person may open: those they are an admin of (as /manage lists)."""
    return await chats.admin_groups(uow, gate=gate, user_id=user_id)


@dataclass(frozen=True)
class Overview:
    """What the overview draws: the /stats card (its days) and the retention cohorts."""

    card: KpiCard
    cohorts: CohortReport


async def overview(
    uow: Callable[[], UnitOfWork],
    gate: Gate,
    *,
    chat_id: int,
    user_id: int,
    asked: Asked,
    now: dt.datetime,
) -> Overview:
    """The /stats card and the cohorts of /stats' heatmap, from the same use cases (the
    funnels and channels /stats also reads are not drawn here: not read either)."""
    await admin_group(uow(), gate, chat_id=chat_id, user_id=user_id)
    card = await group_stats(uow(), chat_id=chat_id, asked=asked, now=now)
    weeks = LONG_COHORT_WEEKS if card.period.days > 31 else COHORT_WEEKS
    cohorts = await retention_cohorts(uow(), chat_id=chat_id, weeks=weeks, now=now)
    return Overview(card, cohorts)


@dataclass(frozen=True)
class MembersView:
    """One page of the members table, and what the filters offer."""

    chat: ChatRecord
    query: MembersQuery
    total: int  # COUNT_CAP + 1: more than COUNT_CAP
    pages: int
    members: list[AudienceMember]
    audiences: list[SavedAudience]

    @property
    def more(self) -> bool:
        """More members match than were counted (the count stopped at COUNT_CAP)."""
        return self.total > COUNT_CAP

    @property
    def has_next(self) -> bool:
        full = len(self.members) == PAGE_SIZE
        return self.query.page + 1 < self.pages or (self.more and full)


async def members_page(
    uow: Callable[[], UnitOfWork],
    gate: Gate,
    *,
    chat_id: int,
    user_id: int,
    query: MembersQuery,
    now: dt.datetime,
    limit: int = PAGE_SIZE,
) -> MembersView:
    """A page of the group's members, searched and sorted; with an audience, only those it
    selects (the saved audience's own SQL, as /broadcast @name sends to). An unknown
    audience name is AudienceRefused."""
    record = await admin_group(uow(), gate, chat_id=chat_id, user_id=user_id)
    async with uow() as work:
        expr = await saved_expr(work, record.pk, query.audience) if query.audience else None
        ladder = await work.audiences.ladder(record.pk)
        total, members = await work.audiences.browse(
            record.pk, expr, now, ladder, search=query.search, sort=query.sort,
            descending=query.descending, offset=query.offset, limit=limit,
        )  # fmt: skip
        saved = await work.audiences.all(record.pk)
    return MembersView(record, query, total, pages(total), members, saved)


async def members_export(
    uow: Callable[[], UnitOfWork],
    gate: Gate,
    *,
    chat_id: int,
    user_id: int,
    query: MembersQuery,
    now: dt.datetime,
) -> list[AudienceMember]:
    """Every member the table's filters select (search and audience, in its order), for
    the CSV: the same columns as `growthbot audience export`."""
    whole = MembersQuery(query.search, query.sort, query.descending, 0, query.audience)
    record = await admin_group(uow(), gate, chat_id=chat_id, user_id=user_id)
    async with uow() as work:
        expr = await saved_expr(work, record.pk, whole.audience) if whole.audience else None
        ladder = await work.audiences.ladder(record.pk)
        _, members = await work.audiences.browse(
            record.pk, expr, now, ladder, search=whole.search, sort=whole.sort,
            descending=whole.descending, offset=0, limit=EXPORT_LIMIT, count_cap=0,
        )  # fmt: skip
    return members


async def posts(
    uow: Callable[[], UnitOfWork], gate: Gate, *, chat_id: int, user_id: int
) -> list[PostRecord]:
    """The posts /posts lists (running or paused), next run first."""
    await admin_group(uow(), gate, chat_id=chat_id, user_id=user_id)
    found = await calendar.group_posts(uow(), chat_id=chat_id)
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda p: (p.next_run_at or far, p.id))


async def change_post(
    uow: Callable[[], UnitOfWork],
    gate: Gate,
    *,
    chat_id: int,
    user_id: int,
    post_id: int,
    action: PostAction,
    at: dt.datetime,
) -> PostRecord:
    """`/post pause|resume|delete <id>`: a post of another group is PostRefused(UNKNOWN)."""
    await admin_group(uow(), gate, chat_id=chat_id, user_id=user_id)
    return await calendar.change_post(uow(), chat_id=chat_id, post_id=post_id, action=action, at=at)


async def live_broadcasts(
    uow: Callable[[], UnitOfWork], gate: Gate, *, chat_id: int, user_id: int, now: dt.datetime
) -> list[broadcasts.Progress]:
    """The group's broadcasts being sent or paused, with the progress their message in chat
    shows (sent, failed, left, rate)."""
    record = await admin_group(uow(), gate, chat_id=chat_id, user_id=user_id)
    async with uow() as work:
        ids = await work.broadcasts.active()
    found = [await broadcasts.progress(uow(), broadcast_id=i, now=now) for i in ids]
    return [p for p in found if p.broadcast.chat_pk == record.pk]


@dataclass(frozen=True)
class PostPreview:
    """A new post read as /schedule reads it, before it is stored."""

    when: When
    runs: list[dt.datetime]
    text: str  # the post's HTML, as members will see it
    content: PostContent  # its buttons, pin and silence too
    timezone: str  # the group's: the runs are shown in it


async def _read_post(
    uow: Callable[[], UnitOfWork], gate: Gate, *, chat_id: int, user_id: int, when: str,
    text: str, pin: bool, silent: bool, at: dt.datetime,
) -> tuple[ChatRecord, When, PostContent]:  # fmt: skip
    """A new post from the dashboard's form, read as /schedule reads it (by an admin of the
    group): ScheduleError or ContentRefused, with /schedule's codes."""
    record = await admin_group(uow(), gate, chat_id=chat_id, user_id=user_id)
    parsed = parse_when(when, record.settings.timezone, at)
    return record, parsed, read_post(text, pin=pin, silent=silent)


async def preview_post(
    uow: Callable[[], UnitOfWork],
    gate: Gate,
    *,
    chat_id: int,
    user_id: int,
    when: str,
    text: str,
    pin: bool,
    silent: bool,
    at: dt.datetime,
) -> PostPreview:
    """The post as saving it would store it, or what saving would refuse (as _read_post,
    and ForeignButton)."""
    record, parsed, content = await _read_post(
        uow, gate, chat_id=chat_id, user_id=user_id, when=when, text=text, pin=pin,
        silent=silent, at=at,
    )  # fmt: skip
    async with uow() as work:
        await check_buttons(work, record.pk, content, at)
    return PostPreview(
        parsed, parsed.upcoming(at, RUNS_SHOWN), content.text, content, record.settings.timezone
    )


async def schedule_post(
    uow: Callable[[], UnitOfWork],
    gate: Gate,
    *,
    chat_id: int,
    user_id: int,
    when: str,
    text: str,
    pin: bool,
    silent: bool,
    at: dt.datetime,
) -> PostRecord:
    """A post saved straight to the calendar (the dashboard's preview was the ✅)."""
    _record, parsed, content = await _read_post(
        uow, gate, chat_id=chat_id, user_id=user_id, when=when, text=text, pin=pin,
        silent=silent, at=at,
    )  # fmt: skip
    return await calendar.add_post(
        uow(), chat_id=chat_id, content=content, when=parsed, at=at, created_by=user_id
    )


@dataclass(frozen=True)
class CampaignsView:
    today: dt.date
    campaigns: list[CampaignRecord]
    retros: list[Retro]  # each campaign's 复盘 as of now, in the same order
    title: str | None = None  # the group's, for the page's header


async def campaigns_view(
    uow: Callable[[], UnitOfWork], gate: Gate, *, chat_id: int, user_id: int, now: dt.datetime
) -> CampaignsView:
    """The /campaign list and, for each of the latest few, its 复盘 (targets vs actuals)."""
    record = await admin_group(uow(), gate, chat_id=chat_id, user_id=user_id)
    today, found = await campaigns.list_campaigns(uow(), chat_id=chat_id, now=now)
    retros = [
        await campaigns.report(uow(), campaign_id=c.id, now=now, chat_id=chat_id)
        for c in found[:RETROS_SHOWN]
    ]
    return CampaignsView(today, found, retros, record.title)


RETROS_SHOWN = 5  # each 复盘 reads its campaign's facts: the latest few, not all of them


@dataclass(frozen=True)
class CommerceView:
    offers: list[coupons.OfferLine]
    deals: list[groupbuys.DealLine]
    orders: list[PlacedOrder]
    timezone: str
    title: str | None = None  # the group's, for the page's header


ORDERS_SHOWN = 20  # the latest orders the commerce page lists


async def commerce_view(
    uow: Callable[[], UnitOfWork], gate: Gate, *, chat_id: int, user_id: int, now: dt.datetime
) -> CommerceView:
    """The group's coupon offers (/coupon list), group-buys (/groupbuy list) and latest
    orders (imported, from the webhook or /redeem)."""
    record = await admin_group(uow(), gate, chat_id=chat_id, user_id=user_id)
    offers = await coupons.group_offers(uow(), chat_id=chat_id, at=now)
    deals = await groupbuys.group_deals(uow(), chat_id=chat_id, at=now)
    async with uow() as work:
        orders = await work.orders.recent(record.pk, ORDERS_SHOWN)
    return CommerceView(offers, deals, orders, record.settings.timezone, record.title)


async def end_offer(
    uow: Callable[[], UnitOfWork], gate: Gate, *, chat_id: int, user_id: int, offer_id: int
) -> None:
    """`/coupon end <id>`: an offer of another group is refused as unknown."""
    await admin_group(uow(), gate, chat_id=chat_id, user_id=user_id)
    await coupons.end_offer(uow(), chat_id=chat_id, template_id=offer_id)


async def group_settings(
    uow: Callable[[], UnitOfWork], gate: Gate, *, chat_id: int, user_id: int
) -> ChatRecord:
    """The group with its settings, as /settings shows them."""
    return await admin_group(uow(), gate, chat_id=chat_id, user_id=user_id)


async def change_setting(
    uow: Callable[[], UnitOfWork],
    gate: Gate,
    *,
    chat_id: int,
    user_id: int,
    key: str,
    value: str,
    at: dt.datetime,
    defaults: ChatSettings,
) -> ChatSettings:
    """`/set <key> <value>`: the same validation (InvalidSetting), the same grace on expiry."""
    record = await admin_group(uow(), gate, chat_id=chat_id, user_id=user_id)
    info = ChatInfo(record.chat_id, "supergroup", record.title, record.username)
    try:
        return await chats.change_setting(
            uow(), chat=info, key=key, value=value, at=at, defaults=defaults
        )
    except UnknownChat:  # the bot left between the check and the change
        raise AccessDenied(Denied.NOT_ADMIN) from None
