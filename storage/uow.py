"""The unit of work: one session, one transaction, explicit commit."""

from __future__ import annotations

from typing import Self

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories.activity import SqlCheckins, SqlEvents, SqlLedger
from storage.repositories.alerts import SqlAlerts
from storage.repositories.analytics import SqlAnalytics
from storage.repositories.audiences import SqlAudiences
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


class SqlUnitOfWork:
    """Leaving the block without commit() rolls everything back.

    `durable=False` is for writes that may be lost in a database server crash, as they may
    be lost in a bot crash anyway while they wait in memory (the activity buffer's
    batches): on PostgreSQL their commit does not wait for the disk (synchronous_commit
    off for the transaction), which is most of a small transaction's time. Check-ins,
    points, coupons and every other use case keep the default.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, durable: bool = True) -> None:
        self._sessions = sessions
        self._durable = durable

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self.updates = SqlUpdateLog(self.session)
        self.chats = SqlChats(self.session)
        self.users = SqlUsers(self.session)
        self.members = SqlMembers(self.session)
        self.events = SqlEvents(self.session)
        self.checkins = SqlCheckins(self.session)
        self.ledger = SqlLedger(self.session)
        self.links = SqlInviteLinks(self.session)
        self.invites = SqlInvites(self.session)
        self.claims = SqlClaims(self.session)
        self.rewards = SqlRewards(self.session)
        self.coupons = SqlCoupons(self.session)
        self.buttons = SqlButtons(self.session)
        self.orders = SqlOrders(self.session)
        self.groupbuys = SqlGroupBuys(self.session)
        self.calendar = SqlCalendar(self.session)
        self.broadcasts = SqlBroadcasts(self.session)
        self.outbox = SqlOutbox(self.session)
        self.inbox = SqlInbox(self.session)
        self.leases = SqlLeases(self.session)
        self.segments = SqlSegments(self.session)
        self.tags = SqlTags(self.session)
        self.audiences = SqlAudiences(self.session)
        self.tiers = SqlTiers(self.session)
        self.journeys = SqlJourneys(self.session)
        self.shop = SqlShop(self.session)
        self.analytics = SqlAnalytics(self.session)
        self.stats = SqlStats(self.session)
        self.campaigns = SqlCampaigns(self.session)
        self.alerts = SqlAlerts(self.session)
        self.channels = SqlChannels(self.session)
        self.surveys = SqlSurveys(self.session)
        self.moderation = SqlModeration(self.session)
        self.watch = SqlWatchWords(self.session)
        self.faqs = SqlFaqs(self.session)
        self.captchas = SqlCaptchas(self.session)
        self.raids = SqlRaids(self.session)
        self.dashboard = SqlDashboard(self.session)  # bot/dashboard's, like leases
        await self.session.begin()
        if not self._durable and self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(_ASYNC_COMMIT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.rollback()
        await self.session.close()

    async def commit(self, *, durable: bool = True) -> None:
        """A commit that need not be durable does not wait for the disk on PostgreSQL: one
        more round trip (SET LOCAL) instead of a disk sync, several times longer."""
        if not durable and self._durable and self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(_ASYNC_COMMIT)
        await self.session.commit()
