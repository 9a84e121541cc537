"""The unit of work: one session, one transaction, explicit commit."""

from __future__ import annotations

import weakref
from typing import Generic, Self, TypeVar, overload

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.repositories.activity import SqlCheckins, SqlEvents, SqlLedger
from storage.repositories.alerts import SqlAlerts
from storage.repositories.analytics import SqlAnalytics
from storage.repositories.audiences import SqlAudiences
from storage.repositories.base import Repository
from storage.repositories.broadcasts import SqlBroadcasts
from storage.repositories.buttons import SqlButtons
from storage.repositories.calendar import SqlCalendar
from storage.repositories.campaigns import SqlCampaigns
from storage.repositories.captcha import SqlCaptchas, SqlRaids
from storage.repositories.channels import SqlChannels
from storage.repositories.chats import SqlChats
from storage.repositories.coupons import SqlCoupons
from storage.repositories.dashboard import SqlDashboard
from storage.repositories.faq import SqlFaqs
from storage.repositories.groupbuys import SqlGroupBuys
from storage.repositories.inbox import SqlInbox
from storage.repositories.journeys import SqlJourneys
from storage.repositories.leases import SqlLeases
from storage.repositories.members import SqlMembers, SqlUsers
from storage.repositories.moderation import SqlModeration
from storage.repositories.orders import SqlOrders
from storage.repositories.outbox import SqlOutbox
from storage.repositories.referral import SqlClaims, SqlInviteLinks, SqlInvites, SqlRewards
from storage.repositories.segments import SqlSegments
from storage.repositories.shop import SqlShop
from storage.repositories.stats import SqlStats
from storage.repositories.surveys import SqlSurveys
from storage.repositories.tags import SqlTags
from storage.repositories.tiers import SqlTiers
from storage.repositories.updates import SqlUpdateLog
from storage.repositories.watch import SqlWatchWords

_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")
# Rehearsals (bot/rehearsal.py) of processes starting together write the same made-up rows:
# one at a time per database, or PostgreSQL ends one of them as a deadlock. A key in a range
# of its own (see storage/repositories/stats.py), released when the rehearsal rolls back.
REHEARSAL_LOCK = 0x5248_0000_0000  # "RH" << 32
_REHEARSING = text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=REHEARSAL_LOCK)


R = TypeVar("R", bound=Repository)


class _Repo(Generic[R]):
    """A unit of work's repository, made on first use in each transaction: a use case
    touches a few of forty, and making all forty for every transaction cost more than a
    check-in's own statements on SQLite."""

    def __init__(self, make: type[R]) -> None:
        self._make = make
        self._name = ""

    def __set_name__(self, owner: type[object], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, uow: None, owner: type[object]) -> Self: ...

    @overload
    def __get__(self, uow: SqlUnitOfWork, owner: type[object]) -> R: ...

    def __get__(self, uow: SqlUnitOfWork | None, owner: type[object]) -> Self | R:
        if uow is None:
            return self
        repo = self._make(uow.session)
        uow.__dict__[self._name] = repo  # from now on an attribute of this unit of work
        return repo


class SqlUnitOfWork:
    """Leaving the block without commit() rolls everything back.

    `durable=False` is for writes that may be lost in a database server crash, as they may
    be lost in a bot crash anyway while they wait in memory (the activity buffer's
    batches): on PostgreSQL their commit does not wait for the disk (synchronous_commit
    off for the transaction), which is most of a small transaction's time. Check-ins,
    points, coupons and every other use case keep the default.
    """

    updates = _Repo(SqlUpdateLog)
    chats = _Repo(SqlChats)
    users = _Repo(SqlUsers)
    members = _Repo(SqlMembers)
    events = _Repo(SqlEvents)
    checkins = _Repo(SqlCheckins)
    ledger = _Repo(SqlLedger)
    links = _Repo(SqlInviteLinks)
    invites = _Repo(SqlInvites)
    claims = _Repo(SqlClaims)
    rewards = _Repo(SqlRewards)
    coupons = _Repo(SqlCoupons)
    buttons = _Repo(SqlButtons)
    orders = _Repo(SqlOrders)
    groupbuys = _Repo(SqlGroupBuys)
    calendar = _Repo(SqlCalendar)
    broadcasts = _Repo(SqlBroadcasts)
    outbox = _Repo(SqlOutbox)
    inbox = _Repo(SqlInbox)
    leases = _Repo(SqlLeases)
    segments = _Repo(SqlSegments)
    tags = _Repo(SqlTags)
    audiences = _Repo(SqlAudiences)
    tiers = _Repo(SqlTiers)
    journeys = _Repo(SqlJourneys)
    shop = _Repo(SqlShop)
    analytics = _Repo(SqlAnalytics)
    stats = _Repo(SqlStats)
    campaigns = _Repo(SqlCampaigns)
    alerts = _Repo(SqlAlerts)
    channels = _Repo(SqlChannels)
    surveys = _Repo(SqlSurveys)
    moderation = _Repo(SqlModeration)
    watch = _Repo(SqlWatchWords)
    faqs = _Repo(SqlFaqs)
    captchas = _Repo(SqlCaptchas)
    raids = _Repo(SqlRaids)
    dashboard = _Repo(SqlDashboard)  # bot/dashboard's, like leases

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        durable: bool = True,
        rehearsal: bool = False,
        alone: bool = False,
    ) -> None:
        self._sessions = sessions
        self._durable = durable
        self._rehearsal = rehearsal  # commit() writes nothing: see commit
        self._alone = alone  # see alone()

    def alone(self) -> SqlUnitOfWork:
        """A unit of work whose statements each commit as they run (PostgreSQL's
        autocommit): no BEGIN and no COMMIT, two round trips of a one-statement unit of
        work's three. Only for work that is one statement, or whose statements may each
        stand alone. On SQLite an ordinary transaction (its BEGIN and COMMIT cost
        microseconds); a rehearsal's stays a transaction that rolls back."""
        return SqlUnitOfWork(
            self._sessions, durable=self._durable, rehearsal=self._rehearsal,
            alone=not self._rehearsal,
        )  # fmt: skip

    async def __aenter__(self) -> Self:
        for name in _REPOSITORIES:  # entered again: the new session's repositories
            self.__dict__.pop(name, None)
        bind = self._sessions.kw["bind"]
        postgresql = bind.dialect.name == "postgresql"
        alone = self._alone and postgresql
        self.session = self._sessions(bind=_autocommitting(bind)) if alone else self._sessions()
        await self.session.begin()
        if not self._durable and postgresql and not alone:
            await self.session.execute(_ASYNC_COMMIT)
        if self._rehearsal and postgresql:
            await self.session.execute(_REHEARSING)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.rollback()
        await self.session.close()

    async def commit(self, *, durable: bool = True) -> None:
        """A commit that need not be durable does not wait for the disk on PostgreSQL: one
        more round trip (SET LOCAL) instead of a disk sync, several times longer.

        A rehearsal's commit rolls back: the use case ran every statement it would (so each
        is compiled and cached before the first real call needs it) and nothing is kept."""
        if self._rehearsal:
            await self.session.rollback()
            return
        if (
            not durable
            and self._durable
            and not self._alone  # committed already: each statement as it ran
            and self.session.get_bind().dialect.name == "postgresql"
        ):
            await self.session.execute(_ASYNC_COMMIT)
        await self.session.commit()


_AUTOCOMMITTING: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def _autocommitting(bind: AsyncEngine) -> AsyncEngine:
    """The engine's autocommitting twin: the same pool, its connections lent in autocommit
    (the asyncpg adapter then sends no BEGIN; the pool puts the setting back on return)."""
    twin = _AUTOCOMMITTING.get(bind)
    if twin is None:
        twin = _AUTOCOMMITTING[bind] = bind.execution_options(isolation_level="AUTOCOMMIT")
    return twin


_REPOSITORIES = [name for name, value in vars(SqlUnitOfWork).items() if isinstance(value, _Repo)]
