"""What the use cases need from storage: one unit of work over the feature ports.

Each feature's records and repository Protocol live in campaigns/ports/<feature>.py,
named like its use cases (campaigns/services/) and its storage (storage/repositories/).
storage/ implements them; tests/services/fakes.py fakes the ones the rule-heavy use cases
need. Import records and Protocols from their feature module: this package exports only
UnitOfWork.
"""

from __future__ import annotations

from typing import Protocol, Self

from campaigns.ports.activity import Checkins, Events, Ledger
from campaigns.ports.alerts import Alerts
from campaigns.ports.analytics import Analytics
from campaigns.ports.audiences import Audiences
from campaigns.ports.broadcasts import Broadcasts
from campaigns.ports.buttons import Buttons
from campaigns.ports.calendar import Calendar
from campaigns.ports.campaigns import Campaigns
from campaigns.ports.captcha import Captchas, Raids
from campaigns.ports.channels import Channels
from campaigns.ports.chats import Chats
from campaigns.ports.coupons import Coupons
from campaigns.ports.faq import Faqs
from campaigns.ports.groupbuys import GroupBuys
from campaigns.ports.journeys import Journeys
from campaigns.ports.members import Members, Users
from campaigns.ports.moderation import Moderation
from campaigns.ports.orders import Orders
from campaigns.ports.outbox import Outbox
from campaigns.ports.referral import Claims, InviteLinks, Invites, Rewards
from campaigns.ports.segments import Segments
from campaigns.ports.shop import Shop
from campaigns.ports.stats import Stats
from campaigns.ports.surveys import Surveys
from campaigns.ports.tags import Tags
from campaigns.ports.tiers import Tiers
from campaigns.ports.updates import UpdateLog
from campaigns.ports.watch import WatchWords

__all__ = ["UnitOfWork"]


class UnitOfWork(Protocol):
    """One transaction: enter, use the repositories, commit once (or leave to roll back)."""

    @property
    def updates(self) -> UpdateLog: ...

    @property
    def chats(self) -> Chats: ...

    @property
    def users(self) -> Users: ...

    @property
    def members(self) -> Members: ...

    @property
    def events(self) -> Events: ...

    @property
    def checkins(self) -> Checkins: ...

    @property
    def ledger(self) -> Ledger: ...

    @property
    def links(self) -> InviteLinks: ...

    @property
    def invites(self) -> Invites: ...

    @property
    def claims(self) -> Claims: ...

    @property
    def rewards(self) -> Rewards: ...

    @property
    def coupons(self) -> Coupons: ...

    @property
    def buttons(self) -> Buttons: ...

    @property
    def orders(self) -> Orders: ...

    @property
    def groupbuys(self) -> GroupBuys: ...

    @property
    def journeys(self) -> Journeys: ...

    @property
    def calendar(self) -> Calendar: ...

    @property
    def broadcasts(self) -> Broadcasts: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def segments(self) -> Segments: ...

    @property
    def tags(self) -> Tags: ...

    @property
    def audiences(self) -> Audiences: ...

    @property
    def tiers(self) -> Tiers: ...

    @property
    def shop(self) -> Shop: ...

    @property
    def analytics(self) -> Analytics: ...

    @property
    def stats(self) -> Stats: ...

    @property
    def campaigns(self) -> Campaigns: ...

    @property
    def alerts(self) -> Alerts: ...

    @property
    def channels(self) -> Channels: ...

    @property
    def surveys(self) -> Surveys: ...

    @property
    def moderation(self) -> Moderation: ...

    @property
    def watch(self) -> WatchWords: ...

    @property
    def faqs(self) -> Faqs: ...

    @property
    def captchas(self) -> Captchas: ...

    @property
    def raids(self) -> Raids: ...

    def alone(self) -> UnitOfWork:
        """A unit of work on the same store whose statements each commit as they run (no
        transaction around them where the store can do without: one round trip saved at
        each end). Only for one statement, or statements that may each stand alone."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self, *, durable: bool = True) -> None:
        """`durable=False`: what this transaction wrote may be lost in a database server
        crash (never in a bot crash): for transactions whose only lasting effect is that an
        update was seen, where a replay would give the same answer again."""
