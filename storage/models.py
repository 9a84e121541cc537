"""Database rows. Telegram ids are 64-bit; times are timezone-aware; no message text is stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from campaigns.coupons import CouponState
from campaigns.members import MemberStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a real BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that keeps its instant on every database: stored in UTC, read back as
    aware UTC. SQLite has no time zones and would keep 23:59+08:00 as 23:59 (8 hours late)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None or value.tzinfo is None:
            return value  # naive values are UTC already (the domain only makes aware ones)
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


ONLY_ON = "only_on"  # Index.info key: the one dialect a migration makes this index on


def include_on(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """alembic's include_object for a database of `dialect`: an index of the models made on
    one database only (its info[ONLY_ON]) is left out of the comparison on the other."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        model = compare_to if reflected else obj
        only_on = (getattr(model, "info", None) or {}).get(ONLY_ON)
        return type_ != "index" or only_on is None or only_on == dialect

    return include


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dt.datetime: UtcDateTime(),
        dict[str, Any]: JSON,
    }


class ChatRow(Base):
    """A group. `id` is internal so that a supergroup migration only changes `telegram_id`."""

    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    bot_status: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    checkin_points: Mapped[int] = mapped_column(Integer)
    streak_bonus: Mapped[int] = mapped_column(Integer)
    streak_bonus_max: Mapped[int] = mapped_column(Integer)
    milestones: Mapped[dict[str, Any]] = mapped_column(JSON)
    milestone_coupons: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    referral: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    order_points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    segments: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # stage thresholds, window
    tiers: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the tier ladder
    rfm_from: Mapped[dt.date | None] = mapped_column(Date)  # first month in the RFM window
    # What F and M counted when the stored segments were written (True: orders; False: active
    # days; None: not yet): while it holds, a segment changes only with its scores.
    rfm_by_orders: Mapped[bool | None] = mapped_column(Boolean)
    journeys: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # campaigns.journeys.JourneyBook
    # Points expire this many months after they were earned, oldest first (0: never).
    points_expiry_months: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    points_expire_from: Mapped[dt.date | None] = mapped_column(Date)  # the grace's end
    moderation: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # ModerationRules
    # Watch words and FAQ switches (campaigns.listening.ListenSettings); NULL: the defaults.
    listening: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=_now, onupdate=_now)


class UserRow(Base):
    """A Telegram user, refreshed whenever seen. On PostgreSQL, trigram indexes on the
    lower-cased names and username serve the dashboard's member search (`LIKE '%part%'`);
    SQLite has no such index and scans."""

    __tablename__ = "users"
    __table_args__ = tuple(
        Index(
            f"ix_users_{column}_trgm",
            func.lower(text(column)),
            postgresql_using="gin",
            postgresql_ops={f"ix_users_{column}_trgm": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql")
        for column in ("first_name", "last_name", "username")
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(255), default="")
    last_name: Mapped[str | None] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(16))
    # True once they opened a private chat with the bot, False after a 403: may we DM them?
    reachable: Mapped[bool | None] = mapped_column(Boolean)
    # `/birthday MM-DD`, set once; the coupon counts from `birthday_from` (a year), so a date
    # entered just before it waits a year (campaigns/birthdays.py).
    birthday: Mapped[str | None] = mapped_column(String(5))
    birthday_from: Mapped[int | None] = mapped_column(Integer)
    # `/unsubscribe` in a private chat: no journey messages from any group (`/subscribe` undoes)
    journeys_off: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[dt.datetime] = mapped_column(default=_now, onupdate=_now)


class MembershipRow(Base):
    """One user in one group, with counters cached from the event log and the ledger."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("chat_id", "user_id"),
        Index("ix_memberships_chat_joined", "chat_id", "joined_at"),  # cohorts, new members
        # Members without a stage yet (joined since the last refresh): the segments refresh
        # finds them here, and reads the whole group only for the stages that changed.
        # The day's counts per stage, segment and tier read this alone, in its order.
        Index(
            "ix_memberships_chat_segments",
            "chat_id",
            "present",
            "stage",
            "rfm_segment",
            "tier",
            info={ONLY_ON: "postgresql"},
        ),
        # SQLite: the same, carrying every summary column the segments refresh reads, so its
        # whole-group reads scan this narrow index instead of the wide rows (a quarter less
        # time for a million members). Not on PostgreSQL: an index-only scan there saved
        # nothing measurable (the reads spend their time on the rows' values, not the pages),
        # made the counts twice as slow and would depend on the visibility map.
        Index(
            "ix_memberships_summary",
            "chat_id",
            "present",
            "stage",
            "rfm_segment",
            "tier",
            "joined_at",
            "last_active_at",
            "last_order_at",
            "w_orders",
            "w_days",
            "w_spend",
            "rfm_r",
            "rfm_f",
            "rfm_m",
            "user_id",
            info={ONLY_ON: "sqlite"},
        ),
        Index(
            "ix_memberships_unstaged",
            "chat_id",
            "stage",  # so that SQLite prefers it for `stage IS NULL`
            sqlite_where=text("stage IS NULL"),
            postgresql_where=text("stage IS NULL"),
        ),
        # The dashboard's members table: a page of a big group sorted on a column is read
        # from the index (the user id breaks ties in the same direction), and its count is an
        # index-only scan; only present members are in them.
        *(
            Index(
                f"ix_memberships_present_{column}",
                "chat_id",
                column,
                "user_id",
                sqlite_where=text("present = 1"),
                postgresql_where=text("present"),
            )
            for column in ("points", "spend", "orders", "last_active_at")
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.MEMBER)
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    # The first join the bot saw (None: in the group before the bot); a rejoin never makes
    # anyone new again. `present_since` is the latest join, for ordering late signals.
    joined_at: Mapped[dt.datetime | None]
    left_at: Mapped[dt.datetime | None]
    present_since: Mapped[dt.datetime | None]
    last_active_at: Mapped[dt.datetime | None]
    messages: Mapped[int] = mapped_column(Integer, default=0)
    checkins: Mapped[int] = mapped_column(Integer, default=0)
    streak: Mapped[int] = mapped_column(Integer, default=0)
    best_streak: Mapped[int] = mapped_column(Integer, default=0)
    last_checkin_day: Mapped[dt.date | None] = mapped_column(Date)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    ref_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    title: Mapped[str | None] = mapped_column(String(32))
    # The member's summary, kept by every write that is activity or commerce (campaigns/
    # segments.py reads stages and RFM from it and from MemberMonthRow, never from the log).
    last_active_day: Mapped[dt.date | None] = mapped_column(Date)  # the group's local day
    active_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    orders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    spend: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # minor units
    last_order_at: Mapped[dt.datetime | None]
    points_earned: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The same within the group's RFM window (whole months from chats.rfm_from): writes add
    # to them, the segments job takes out each month that leaves the window. RFM reads these,
    # so scoring a group never sums its monthly buckets.
    w_orders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    w_spend: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    w_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Computed by the segments job from the summary (None: not yet computed).
    stage: Mapped[str | None] = mapped_column(String(16))
    stage_since: Mapped[dt.datetime | None]
    rfm_r: Mapped[int | None] = mapped_column(Integer)
    rfm_f: Mapped[int | None] = mapped_column(Integer)
    rfm_m: Mapped[int | None] = mapped_column(Integer)
    rfm_segment: Mapped[str | None] = mapped_column(String(24))
    # Membership tier (会员等级): 0 is the first tier; the review may lower it after grace.
    tier: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    tier_since: Mapped[dt.datetime | None]
    tier_below_since: Mapped[dt.datetime | None]  # first review that found it unearned


class MemberMonthRow(Base):
    """One member's activity and commerce in one month of the group's calendar: windows
    (RFM's 365 days, a tier's 12 months) are sums of these, never scans of the event log."""

    __tablename__ = "member_months"
    __table_args__ = (UniqueConstraint("chat_id", "user_id", "month"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    month: Mapped[dt.date] = mapped_column(Date)  # the first day of the month
    active_days: Mapped[int] = mapped_column(Integer, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    spend: Mapped[int] = mapped_column(BigInteger, default=0)
    points_earned: Mapped[int] = mapped_column(BigInteger, default=0)


class MemberDayRow(Base):
    """A day (the group's calendar) on which a member was active: inserted once, so a day
    counts once in active_days however many messages, redeliveries or late batches name it."""

    __tablename__ = "member_days"
    __table_args__ = (
        UniqueConstraint("chat_id", "user_id", "day"),
        # /stats counts distinct members active in a run of days (WAU, MAU) from this alone.
        Index("ix_member_days_chat_day", "chat_id", "day", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[dt.date] = mapped_column(Date)


def _counter() -> Mapped[int]:
    return mapped_column(BigInteger, default=0, server_default="0")


class DailyStatsRow(Base):
    """One group's local day, summed as it happens: the daily rollup /stats reads instead of
    the raw tables. Every write of a fact adds to its day's row in the same transaction
    (storage/repositories/stats.py); `recompute` counts the same from the raw tables."""

    __tablename__ = "daily_stats"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    joins: Mapped[int] = _counter()
    leaves: Mapped[int] = _counter()
    messages: Mapped[int] = _counter()
    active: Mapped[int] = _counter()  # member_days rows of the day
    checkins: Mapped[int] = _counter()  # on the day itself
    makeups: Mapped[int] = _counter()  # make-up check-ins (补签卡) restoring the day
    invites_confirmed: Mapped[int] = _counter()
    coupons_claimed: Mapped[int] = _counter()
    coupons_redeemed: Mapped[int] = _counter()
    discount: Mapped[int] = _counter()  # minor units
    orders: Mapped[int] = _counter()
    gmv: Mapped[int] = _counter()  # minor units
    first_orders: Mapped[int] = _counter()


class SegmentCountRow(Base):
    """How many members were in each stage, RFM segment and tier on a day (the segments job
    writes one set a day), so /segments can show the change since a week ago."""

    __tablename__ = "segment_counts"
    __table_args__ = (UniqueConstraint("chat_id", "day", "dimension", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    dimension: Mapped[str] = mapped_column(String(8))  # stage, rfm, tier
    key: Mapped[str] = mapped_column(String(32))
    members: Mapped[int] = mapped_column(Integer)


class MemberTagRow(Base):
    """A tag on a member: set by an admin (/tag) or by a rule (an order's item or category)."""

    __tablename__ = "member_tags"
    __table_args__ = (
        UniqueConstraint("chat_id", "user_id", "tag"),
        Index("ix_member_tags_chat_tag", "chat_id", "tag"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    tag: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(8))  # admin, rule
    by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]


class AudienceRow(Base):
    """A saved audience: a name and a rule in the audience language, one group's."""

    __tablename__ = "audiences"
    __table_args__ = (UniqueConstraint("chat_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(Text)
    by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class TierRewardRow(Base):
    """A tier's entry reward granted to a member: the unique key grants it once, whatever
    redelivery or second process tries again."""

    __tablename__ = "tier_rewards"
    __table_args__ = (UniqueConstraint("chat_id", "user_id", "level"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    level: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime]


class JourneyRunRow(Base):
    """One member's step of a journey in one episode, inserted before anything is sent: the
    unique key makes it once, whichever process or rerun gets there first. Reports read it
    (entered, messaged, held out) with the member's days and orders after `at`."""

    __tablename__ = "journey_runs"
    __table_args__ = (
        UniqueConstraint("chat_id", "user_id", "journey", "episode", "step"),
        Index("ix_journey_runs_chat_journey_at", "chat_id", "journey", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)  # 0: a group-wide step
    journey: Mapped[str] = mapped_column(String(16))  # campaigns.journeys.Journey
    episode: Mapped[str] = mapped_column(String(32))
    step: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12))  # campaigns.journeys.RunStatus
    coupon_code: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[dt.datetime]


class EventRow(Base):
    """Append-only activity log: kinds and counts, never message text."""

    __tablename__ = "activity_events"
    __table_args__ = (
        Index("ix_activity_events_chat_at", "chat_id", "at"),
        Index("ix_activity_events_chat_user_at", "chat_id", "user_id", "at"),
        # Joins and leaves alone: a member's presence at an instant (members.present_then)
        # finds their latest one without walking past their messages.
        Index(
            "ix_activity_events_presence",
            "chat_id",
            "user_id",
            "at",
            sqlite_where=text("kind IN ('join', 'leave')"),
            postgresql_where=text("kind IN ('join', 'leave')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[dt.datetime]
    value: Mapped[int | None] = mapped_column(BigInteger)
    meta: Mapped[dict[str, Any] | None]


class CheckinRow(Base):
    """One check-in; the unique (chat, user, day) is what makes a double tap grant once."""

    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("chat_id", "user_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[dt.date] = mapped_column(Date)
    at: Mapped[dt.datetime]
    streak: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    # A 补签卡 restored this past day (`at` is when): counted apart from the check-in rate.
    makeup: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LedgerRow(Base):
    """Append-only points entries; the idempotency key makes every grant happen once."""

    __tablename__ = "points_ledger"
    __table_args__ = (Index("ix_points_ledger_chat_user", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    delta: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    at: Mapped[dt.datetime]


class ShopItemRow(Base):
    """Something a group's points shop sells: a coupon of an offer, a custom item, or the
    make-up check-in card. `sold` rises only by a conditional UPDATE (sold < stock)."""

    __tablename__ = "shop_items"
    __table_args__ = (Index("ix_shop_items_chat_status", "chat_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # campaigns.shop.ShopItemKind
    name: Mapped[str] = mapped_column(String(64))
    price: Mapped[int] = mapped_column(BigInteger)
    offer_id: Mapped[int | None] = mapped_column(
        ForeignKey("coupon_templates.id", ondelete="CASCADE")
    )
    stock: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    sold: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(8), default="active", server_default="active")
    makeup_every_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]


class ShopRedemptionRow(Base):
    """A member redeemed an item: once per key, the same key as the ledger entry that paid."""

    __tablename__ = "shop_redemptions"
    __table_args__ = (Index("ix_shop_redemptions_chat_user", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("shop_items.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))
    price: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    coupon_code: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[dt.datetime]


class PointsReminderRow(Base):
    """A member was reminded of points expiring on `expires_on` (the reminder covers that
    day and the six after); `told_at`: when they were told that points of that week had
    expired (once per reminder; a row with `at` = `told_at` marks an expiry no reminder
    covered)."""

    __tablename__ = "points_reminders"
    __table_args__ = (UniqueConstraint("chat_id", "user_id", "expires_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    at: Mapped[dt.datetime]
    told_at: Mapped[dt.datetime | None]


class ProcessedUpdateRow(Base):
    """Exact update ids already handled, kept a few days (ids may restart after a quiet week)."""

    __tablename__ = "processed_updates"
    __table_args__ = (Index("ix_processed_updates_processed_at", "processed_at"),)

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # One update can have two independent effects (a /checkin is also a counted message).
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    processed_at: Mapped[dt.datetime]


class InviteLinkRow(Base):
    """An invite link the bot created: a member's own link, or a one-use link for a deep link."""

    __tablename__ = "invite_links"
    __table_args__ = (
        # One live personal link per member per group; the database settles racing /invite.
        Index(
            "uq_invite_links_live_member",
            "chat_id",
            "owner_id",
            unique=True,
            sqlite_where=text("kind = 'member' AND revoked_at IS NULL"),
            postgresql_where=text("kind = 'member' AND revoked_at IS NULL"),
        ),
        Index("ix_invite_links_chat_for_user", "chat_id", "for_user_id"),
        # One channel (渠道) of a name per group; the database settles racing /link new.
        Index(
            "uq_invite_links_channel_name",
            "chat_id",
            "name",
            unique=True,
            sqlite_where=text("kind = 'channel'"),
            postgresql_where=text("kind = 'channel'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(BigInteger)
    url: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    for_user_id: Mapped[int | None] = mapped_column(BigInteger)
    creates_join_request: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    # A channel's placement cost in minor units, as its admins recorded it (None: not yet).
    cost: Mapped[int | None] = mapped_column(BigInteger)


class InviteRow(Base):
    """One join and how it is credited; attributed joins move pending -> confirmed/left/rejected."""

    __tablename__ = "invites"
    __table_args__ = (
        UniqueConstraint("chat_id", "invitee_id", "joined_at"),
        Index("ix_invites_chat_inviter_status", "chat_id", "inviter_id", "status"),
        Index("ix_invites_status_chat_joined", "status", "chat_id", "joined_at"),
        Index("ix_invites_link_joined", "link_id", "joined_at"),
        Index("ix_invites_chat_confirmed", "chat_id", "confirmed_at"),
        Index("ix_invites_chat_joined", "chat_id", "joined_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    invitee_id: Mapped[int] = mapped_column(BigInteger)
    inviter_id: Mapped[int | None] = mapped_column(BigInteger)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("invite_links.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(16))
    # The invitee had been in the group before: an organic row remembers it for a late link.
    was_member: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[dt.datetime]
    confirmed_at: Mapped[dt.datetime | None]
    left_at: Mapped[dt.datetime | None]


class ReferralClaimRow(Base):
    """An attribution waiting for its join: a deep-link visit or an approved join request."""

    __tablename__ = "referral_claims"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    visitor_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    inviter_id: Mapped[int] = mapped_column(BigInteger)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("invite_links.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime]


class ReferralRewardRow(Base):
    """A tier granted to a member; the primary key is what makes each tier happen once."""

    __tablename__ = "referral_rewards"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tier: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    granted_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class CouponTemplateRow(Base):
    """A coupon offer of one group: its value, validity, stock and per-member limit."""

    __tablename__ = "coupon_templates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[int] = mapped_column(BigInteger)  # minor units, or basis points
    currency: Mapped[str] = mapped_column(String(3))
    min_spend: Mapped[int] = mapped_column(BigInteger, default=0)
    cap: Mapped[int | None] = mapped_column(BigInteger)
    valid_from: Mapped[dt.datetime | None]
    valid_until: Mapped[dt.datetime | None]
    valid_days: Mapped[int | None] = mapped_column(Integer)
    stock: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    # Raised only by a conditional UPDATE (issued < stock): concurrent claims never oversell.
    issued: Mapped[int] = mapped_column(Integer, default=0)
    per_member: Mapped[int] = mapped_column(Integer, default=1)
    # Only members who joined within this many days may claim (None: everyone).
    audience_joined_days: Mapped[int | None] = mapped_column(Integer)
    # `offer`: an operator's offer, claimable from its posts; `groupbuy`: pays out completed
    # teams of one deal and is never claimable by tap.
    purpose: Mapped[str] = mapped_column(String(16), default="offer", server_default="offer")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    # An A/B test (campaigns/coupon_variants.py): every variant's money terms, A first (A's
    # are also the row's own kind/value/min_spend/cap); null for one set of terms.
    variants: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    holdout: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # percent
    planned: Mapped[int | None] = mapped_column(Integer)  # members per arm


class CouponRow(Base):
    """An issued coupon; the unique (template, member, slot) enforces the per-member limit."""

    __tablename__ = "coupons"
    __table_args__ = (
        UniqueConstraint("template_id", "user_id", "slot"),
        Index("ix_coupons_user", "user_id"),
        Index("ix_coupons_chat_status", "chat_id", "status"),
        Index("ix_coupons_chat_issued", "chat_id", "issued_at"),  # /stats, funnels by period
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_templates.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    slot: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default=CouponState.ACTIVE)
    issued_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    redeemed_at: Mapped[dt.datetime | None]
    redeemed_by: Mapped[int | None] = mapped_column(BigInteger)
    order_amount: Mapped[int | None] = mapped_column(BigInteger)
    discount: Mapped[int | None] = mapped_column(BigInteger)
    reminded_at: Mapped[dt.datetime | None]  # the "expires in 24 hours" message went out
    arm: Mapped[str | None] = mapped_column(String(8))  # its offer's test: whose terms it has


class CouponHoldoutRow(Base):
    """A member an audience grant held out of an offer's A/B test: no coupon, the control.
    One row per offer and member (the unique key), so a redelivery or a second grant adds none."""

    __tablename__ = "coupon_holdouts"
    __table_args__ = (UniqueConstraint("template_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_templates.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    held_at: Mapped[dt.datetime]


class OrderRow(Base):
    """A shop order; the unique (group, external id) makes a replayed import or webhook a no-op."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("chat_id", "external_id"),
        Index("ix_orders_chat_user_at", "chat_id", "user_id", "at"),
        Index("ix_orders_chat_at", "chat_id", "at"),  # /stats's buyers of a period
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    currency: Mapped[str] = mapped_column(String(3))
    at: Mapped[dt.datetime]
    coupon_codes: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"codes": [...]}
    items: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]


class DealRow(Base):
    """A group-buy deal (拼团) of one group; `taken` is raised only while below `stock`."""

    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(String(1024))
    price: Mapped[int] = mapped_column(BigInteger)
    group_price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    size: Mapped[int] = mapped_column(Integer)
    team_minutes: Mapped[int] = mapped_column(Integer)
    ends_at: Mapped[dt.datetime]
    stock: Mapped[int | None] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    offer_id: Mapped[int] = mapped_column(ForeignKey("coupon_templates.id"))
    created_at: Mapped[dt.datetime]
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # the deal post, kept current
    ended_at: Mapped[dt.datetime | None]  # set once, when the post was marked ended
    photo_name: Mapped[str | None] = mapped_column(String(128))
    # Uploaded once from these bytes; afterwards the file_id Telegram gave is reused.
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    photo_file_id: Mapped[str | None] = mapped_column(String(256))


class TeamRow(Base):
    """A team of a deal; `members` is raised only while open and below `size` (the last slot)."""

    __tablename__ = "teams"
    __table_args__ = (Index("ix_teams_status_expires", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    leader_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8))
    members: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    chat_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # The share link's payload: unguessable, so team ids (sequential across groups) are not
    # a way into other groups' teams.
    share_token: Mapped[str | None] = mapped_column(String(32), unique=True)


class TeamMemberRow(Base):
    """A member in a team; the partial unique index allows one open team per member and deal."""

    __tablename__ = "team_members"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id"),
        Index(
            "uq_team_members_open_deal_user",
            "deal_id",
            "user_id",
            unique=True,
            sqlite_where=text("open"),
            postgresql_where=text("open"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    joined_at: Mapped[dt.datetime]
    open: Mapped[bool] = mapped_column(Boolean, default=True)


class ScheduledPostRow(Base):
    """A post in a group's content calendar: one-off (`run_at`) or recurring (`cron`).

    `next_run_at` is advanced by a conditional UPDATE when a run is handed to the outbox,
    so two bot processes never hand over the same run.
    """

    __tablename__ = "scheduled_posts"
    __table_args__ = (Index("ix_scheduled_posts_status_next", "status", "next_run_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # campaigns.content.PostContent
    # as written: a friendly form (`daily 09:00`) or a standard cron expression (Sunday = 0)
    cron: Mapped[str | None] = mapped_column(String(120))
    run_at: Mapped[dt.datetime | None]
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))  # draft, active, paused, done, deleted
    next_run_at: Mapped[dt.datetime | None]
    last_message_id: Mapped[int | None] = mapped_column(BigInteger)
    campaign: Mapped[str | None] = mapped_column(String(64))
    phase: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]


class SequenceStepRow(Base):
    """Day N of a group's welcome sequence: sent once to each member N days after joining."""

    __tablename__ = "sequence_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    day: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    private: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(8))  # active, paused, deleted
    created_at: Mapped[dt.datetime]  # members who joined before this are not enrolled


class BroadcastRow(Base):
    """A broadcast: to a group's members privately, or one post to each of the bot's groups."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(8))  # members, groups
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    # An A/B test: the variants' contents (A first; null for a plain broadcast) and the
    # percent of the audience held out
    variants: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    holdout: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(10))  # draft, sending, paused, cancelled, done
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class DeliveryRow(Base):
    """The outbox: one message to one chat. Claimed atomically, its outcome recorded.

    Unique keys make a post's run, a broadcast's recipient and a sequence step's member
    each a single row, whichever process creates it first.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("post_id", "due_at"),
        UniqueConstraint("broadcast_id", "target_chat"),
        UniqueConstraint("step_id", "member_id"),
        UniqueConstraint("journey_run_id"),
        UniqueConstraint("survey_id", "target_chat"),
        Index("ix_deliveries_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))  # post, broadcast, sequence, journey, survey
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("scheduled_posts.id", ondelete="CASCADE")
    )
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[int | None] = mapped_column(ForeignKey("sequence_steps.id", ondelete="CASCADE"))
    journey_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("journey_runs.id", ondelete="CASCADE")
    )
    # a survey's question asked privately: its rating buttons go under the message
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a journey's or variant's
    arm: Mapped[str | None] = mapped_column(String(8))  # a broadcast test's arm: A…D, holdout
    target_chat: Mapped[int] = mapped_column(BigInteger)  # a group, or a member's private chat
    member_id: Mapped[int | None] = mapped_column(BigInteger)  # whom a sequence step is for
    due_at: Mapped[dt.datetime]
    # pending, claimed, sending, sent, failed, skipped, uncertain, cancelled, holdout
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(200))


class MediaRow(Base):
    """A photo uploaded from the command line: sent from these bytes once, then by the file
    id Telegram gave it."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    file_id: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[dt.datetime]


class AdminFocusRow(Base):
    """The group an admin manages from their private chat with the bot (/manage)."""

    __tablename__ = "admin_focus"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    chosen_at: Mapped[dt.datetime]


class ButtonMessageRow(Base):
    """A message the bot sent with buttons, and the object they act on.

    A tap is honoured only on a message recorded here for the tapped object: any client can
    put any callback_data on any message that has buttons.
    """

    __tablename__ = "button_messages"
    __table_args__ = (UniqueConstraint("chat_id", "message_id", "kind", "object_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)  # Telegram's chat id
    message_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]


PENDING = text("done_at IS NULL")


class InboxRow(Base):
    """A Telegram update the webhook received, stored before it is acknowledged.

    Workers lease rows (`holder`, `lease_until`) and mark them done once their effects are
    committed; the body is dropped then. Done rows are kept two days, so a redelivery (an
    acknowledgement lost on the way back) is recognised by its update id and stored once.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        # The worker's claim: the oldest pending update of each chat (its head), in order.
        Index(
            "ix_inbox_pending",
            "bot_id",
            "update_id",
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        ),
        Index(
            "ix_inbox_pending_chat",
            "bot_id",
            "chat_id",
            "update_id",
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        ),
        Index("ix_inbox_received_at", "received_at"),
    )

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The chat whose updates are processed in order (the user's id when there is no chat).
    chat_id: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str | None] = mapped_column(Text)  # the update's JSON as Telegram sent it
    received_at: Mapped[dt.datetime]
    holder: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None]
    done_at: Mapped[dt.datetime | None]
    # Runs whose handler failed (a bug, the database gone for a moment): tried again after
    # a pause, and given up after a few so one bad update cannot hold its chat for ever.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class LeaseRow(Base):
    """A named lease: one process holds it until `expires_at` unless it renews it first
    (`jobs`: the process that runs the scheduled jobs and sends the outbox)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime]


class DashboardSessionRow(Base):
    """A dashboard session (bot/dashboard/sessions.py): the cookie names it by a random
    secret whose SHA-256 is the key here, so signing out ends it for every copy of the
    cookie, in every process."""

    __tablename__ = "dashboard_sessions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]


class DashboardSpentRow(Base):
    """A one-time sign-in already used (a login link's nonce, an initData's signature),
    kept until it could no longer be used anyway: its key is unique, so of two processes
    redeeming the same one at once, one wins."""

    __tablename__ = "dashboard_spent"
    __table_args__ = (Index("ix_dashboard_spent_until", "until"),)

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    until: Mapped[dt.datetime]


class CampaignRow(Base):
    """A campaign (活动): its days, phases, KPI targets, budget and attribution rules
    (campaigns/campaign.py); `status` turns `finished` once, when its 复盘 is sent."""

    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("chat_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    start_day: Mapped[dt.date] = mapped_column(Date)
    end_day: Mapped[dt.date] = mapped_column(Date, index=True)
    phases: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"phases": [[name, start, end]]}
    targets: Mapped[dict[str, Any]] = mapped_column(JSON)  # KPI -> target
    budget: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units
    point_value: Mapped[int] = mapped_column(Integer)  # minor units per point
    window_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))  # campaigns.campaign.CampaignStatus
    ended_at: Mapped[dt.datetime | None]
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]


class CampaignItemRow(Base):
    """An object attached to a campaign: an offer, deal, post or broadcast by id, a journey
    by name."""

    __tablename__ = "campaign_items"
    __table_args__ = (
        UniqueConstraint("campaign_id", "kind", "ref"),
        # A channel is one placement, bought for one campaign: its cost is counted once.
        Index(
            "uq_campaign_items_channel",
            "kind",
            "ref",
            unique=True,
            sqlite_where=text("kind = 'channel'"),
            postgresql_where=text("kind = 'channel'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # campaigns.campaign.AttachKind
    ref: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]


class AlertSentRow(Base):
    """An alert sent to a group's admins (campaigns/alerts.py): the unique key (group, kind,
    object, local day) makes it once per condition and day, whichever process claims it."""

    __tablename__ = "alerts_sent"
    __table_args__ = (UniqueConstraint("chat_id", "kind", "object_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # campaigns.alerts.AlertKind
    object_id: Mapped[int] = mapped_column(BigInteger)  # offer, deal or campaign id; 0: none
    day: Mapped[dt.date] = mapped_column(Date)
    sent_at: Mapped[dt.datetime]


class SurveyRow(Base):
    """A feedback survey (campaigns/surveys.py): one question rated CSAT 1-5 or NPS 0-10, or
    a native poll (its options; Telegram's poll id, unique, and the poll's message)."""

    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_chat_id", "chat_id", "id"), UniqueConstraint("poll_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # campaigns.surveys.SurveyKind
    question: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    options: Mapped[list[str] | None] = mapped_column(JSON)  # a poll's
    audience: Mapped[str | None] = mapped_column(String(32))  # asked privately to it
    poll_id: Mapped[str | None] = mapped_column(String(64))  # Telegram's, for poll_answer
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # the poll's, to stop it


class SurveyAnswerRow(Base):
    """A member's answer to a survey: one row per survey and member (the unique key), its
    value replaced when they tap again, with the time of the latest tap."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("survey_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime]


class ModerationActionRow(Base):
    """The mod log (campaigns/moderation.py): one thing done to one member — a message
    deleted, a warning, a mute or ban and their undoing. The unique (group, update, kind)
    makes a redelivered update act once. `by` is the admin, or the bot for its rules;
    `failed` says why Telegram did not do it. Never a message's text: `reason` is what an
    admin typed after /warn."""

    __tablename__ = "moderation_actions"
    __table_args__ = (
        UniqueConstraint("chat_id", "update_id", "kind"),
        Index("ix_moderation_actions_chat_user", "chat_id", "user_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(12))  # campaigns.moderation.ActionKind
    rule: Mapped[str] = mapped_column(String(16))  # campaigns.moderation.Rule
    reason: Mapped[str | None] = mapped_column(String(200))
    by_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime]
    until: Mapped[dt.datetime | None]  # a mute's or ban's end (None: until lifted)
    undone_at: Mapped[dt.datetime | None]
    failed: Mapped[str | None] = mapped_column(String(24))
    update_id: Mapped[int] = mapped_column(BigInteger)


class WatchWordRow(Base):
    """A group's watch word (舆情), normalised (campaigns/keywords.py): one per group and word."""

    __tablename__ = "watch_words"
    __table_args__ = (UniqueConstraint("chat_id", "word"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    word: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]


class WatchAlertRow(Base):
    """The last watch-word alert about a member of a group: one row per (group, member),
    moved forward only once an hour has passed (campaigns.watch.ALERT_WINDOW), so of two
    processes one sends. The word is in the WATCH_ALERT event; the message text nowhere."""

    __tablename__ = "watch_alerts"
    __table_args__ = (UniqueConstraint("chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    sent_at: Mapped[dt.datetime]


class FaqRow(Base):
    """A saved question and answer (客服话术, campaigns/faq.py). `key` is the question's
    normalised keywords: one row per group and question. `answered_at` moves only once the
    group's cooldown has passed (a conditional UPDATE), so a question is answered once per
    cooldown whichever process hears it."""

    __tablename__ = "faqs"
    __table_args__ = (UniqueConstraint("chat_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    question: Mapped[str] = mapped_column(String(255))
    answer: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]
    answered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CaptchaRow(Base):
    """A newcomer's join captcha (campaigns/captcha.py): one per group, member and join, so a
    redelivered join acts once; `status` leaves `pending` once, by a conditional UPDATE, so
    of two processes (a tap and the sweep) one decides. Only a hash of the right option is
    kept."""

    __tablename__ = "captchas"
    __table_args__ = (
        UniqueConstraint("chat_id", "user_id", "joined_at"),
        Index("ix_captchas_status_deadline", "status", "deadline"),
        Index("ix_captchas_chat_user", "chat_id", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    joined_at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(8))  # campaigns.captcha.CaptchaKind
    question: Mapped[str] = mapped_column(String(16))
    options: Mapped[str] = mapped_column(String(64))  # the labels, space-separated
    salt: Mapped[str] = mapped_column(String(16))
    answer_hash: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[dt.datetime | None]  # shown_at + captcha_minutes; None until shown
    via_request: Mapped[bool]  # a join request: asked privately, approved when solved
    prompt_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8))  # campaigns.captcha.CaptchaStatus
    decided_at: Mapped[dt.datetime | None]
    shown_at: Mapped[dt.datetime | None]  # when a prompt first showed it: its minutes start


class RaidStateRow(Base):
    """A group's raid mode: on since when (None: off) and the latest join (the calm time
    counts from it). `told_at` is unused: switching on is itself once (a conditional
    UPDATE), and its winner tells the admins."""

    __tablename__ = "raid_states"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    on_since: Mapped[dt.datetime | None]
    last_join: Mapped[dt.datetime | None]
    told_at: Mapped[dt.datetime | None]
