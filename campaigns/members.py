"""Who counts as a member, and what a member's numbers look like."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

# Telegram's service accounts: the anonymous-admin stand-in and the channel-post forwarder.
GROUP_ANONYMOUS_BOT_ID = 1087968824
TELEGRAM_SERVICE_ID = 777000


class MemberStatus(StrEnum):
    """Telegram's chat member statuses, stored as Telegram names them."""

    CREATOR = "creator"
    ADMINISTRATOR = "administrator"
    MEMBER = "member"
    RESTRICTED = "restricted"  # present only while Telegram says is_member
    LEFT = "left"
    KICKED = "kicked"


PRESENT_STATUSES = frozenset(
    {MemberStatus.MEMBER, MemberStatus.ADMINISTRATOR, MemberStatus.CREATOR}
)
ADMIN_STATUSES = frozenset({MemberStatus.ADMINISTRATOR, MemberStatus.CREATOR})
GONE_STATUSES = frozenset({MemberStatus.LEFT, MemberStatus.KICKED})


class EventKind(StrEnum):
    """Kinds of the append-only activity log; segmentation reads these later."""

    MESSAGE = "message"
    JOIN = "join"
    LEAVE = "leave"
    CHECKIN = "checkin"
    STAGE = "stage"  # a lifecycle stage change: meta {"from": …, "to": …}
    TIER = "tier"  # a member's tier changed by an admin; meta has from, to and by
    MODERATION = "moderation"  # order keeping did something: meta has action and rule
    WATCH_ALERT = "watch_alert"  # a watch word alerted the admins; meta has word, message
    FAQ_ANSWER = "faq_answer"  # a saved answer given; value is the FAQ's id; meta message


# A member message's kind (its event's meta "type"; never its text): "text", a media kind
# ("photo", "sticker" …), "other", or COMMAND.
COMMAND = "command"  # a command to a bot: the message starts with a bot_command entity


def counts_as_message(kind: str | None) -> bool:
    """Whether a member message counts as one of the group's messages. A command to the bot
    (/stats, /checkin, /me) is its sender using the bot, not talking to the group: it keeps
    them active (DAU, WAU, MAU, their last activity and stage) but is not in the messages
    figures (the /stats KPI and chart, a campaign's messages target, /me and the messages
    leaderboard). The activity flush counts with this in Python; the rollup's recount filters
    on the same word in SQL (held equal by tests/storage/test_stats_storage.py)."""
    return kind != COMMAND


@dataclass(frozen=True)
class Person:
    """A Telegram user as the bot last saw them."""

    user_id: int
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    @property
    def display_name(self) -> str:
        """Full name as Telegram shows it, falling back to the username or id."""
        name = " ".join(part for part in (self.first_name, self.last_name) if part).strip()
        return name or (f"@{self.username}" if self.username else str(self.user_id))


@dataclass(frozen=True)
class ChatInfo:
    """A group as seen in an update."""

    chat_id: int
    type: str
    title: str | None = None
    username: str | None = None


def is_member_sender(
    *, user_id: int | None, is_bot: bool, sender_chat_id: int | None, chat_id: int
) -> bool:
    """Only people count: not bots, the anonymous-admin account, channels or Telegram itself."""
    if user_id is None or is_bot or sender_chat_id is not None:
        return False
    return user_id not in {GROUP_ANONYMOUS_BOT_ID, TELEGRAM_SERVICE_ID} and user_id != chat_id


def is_present(status: str, is_member: bool | None = None) -> bool:
    """Whether a chat-member status means the user is in the group (restricted members may be)."""
    if status == MemberStatus.RESTRICTED:
        return bool(is_member)
    return status in PRESENT_STATUSES


def present_at(
    at: dt.datetime,
    *,
    joined_at: dt.datetime | None,
    changes: Sequence[tuple[dt.datetime, bool]],
) -> bool:
    """Whether a member was in the group at the instant `at`: not before their first join
    (`joined_at`; None: there before the bot), and then as the latest join or leave at or
    before `at` left them (`changes`: each presence change the log holds, (time, present)).
    With none by then they were there from before the bot. Someone who left and came back
    was away in between: what /stats' members at a period's start and /referral report's
    start count. storage/repositories/members.py `present_then` decides most members from
    their row alone and asks the log only about a rejoin after `at`; a property test holds
    it to this."""
    if joined_at is not None and at < joined_at:
        return False
    before = [present for when, present in sorted(changes, key=lambda c: c[0]) if when <= at]
    return before[-1] if before else True


@dataclass(frozen=True)
class Membership:
    """The stored state of one user in one group."""

    status: str
    present: bool
    joined_at: dt.datetime | None  # the first join seen; None: there before the bot
    left_at: dt.datetime | None
    present_since: dt.datetime | None = None  # the latest (re)join


class PresenceChange(StrEnum):
    """What a join/leave signal means against the stored state."""

    STALE = "stale"
    UNCHANGED = "unchanged"
    CHANGED = "changed"


def presence_change(current: Membership, *, present: bool, at: dt.datetime) -> PresenceChange:
    """An older event arriving late never undoes a newer one; a repeated signal changes nothing.

    Joins come both as chat_member updates and as service messages: the first flips
    presence, the second finds it already flipped.
    """
    signals = (current.joined_at, current.left_at, current.present_since)
    latest = max((t for t in signals if t is not None), default=None)
    if latest is not None and at < latest:
        return PresenceChange.STALE
    return PresenceChange.UNCHANGED if current.present == present else PresenceChange.CHANGED


@dataclass(frozen=True)
class MemberStats:
    """One member's numbers in one group, as /me and `export members` show them."""

    user_id: int
    username: str | None
    display_name: str
    status: str
    joined_at: dt.datetime | None
    left_at: dt.datetime | None
    last_active_at: dt.datetime | None
    messages: int
    checkins: int
    streak: int
    best_streak: int
    points: int
    last_checkin_day: dt.date | None = None
    title: str | None = None
    tier: int = 0  # the membership tier's level (0: the first tier)


@dataclass(frozen=True)
class Ranked:
    """A leaderboard line: a member, the value ranked on, and their place (1-based)."""

    rank: int
    user_id: int
    display_name: str
    value: int


@dataclass(frozen=True)
class Leaderboard:
    """Top lines plus the caller's own line, which may lie outside the top."""

    by: str
    lines: list[Ranked]
    me: Ranked | None


class BotRight(StrEnum):
    """What the bot needs in a group, and why (the setup checklist names the missing ones)."""

    ADMIN = "admin"  # only admins receive joins and leaves (chat_member updates)
    INVITE = "invite"  # personal invite links and join requests (老带新)
    PIN = "pin"  # pinned scheduled posts
    DELETE = "delete"  # "replace" posts delete the previous run


@dataclass(frozen=True)
class BotStanding:
    """The bot's status and rights in a group, as Telegram reports them."""

    status: str
    can_invite: bool = False
    can_pin: bool = False
    can_delete: bool = False
    is_member: bool | None = None  # for a restricted bot: whether it is in the group


def missing_rights(standing: BotStanding) -> list[BotRight]:
    """What the operator still has to grant for every feature to work."""
    if standing.status != MemberStatus.ADMINISTRATOR:
        return [BotRight.ADMIN, BotRight.INVITE, BotRight.PIN, BotRight.DELETE]
    wanted = {
        BotRight.INVITE: standing.can_invite,
        BotRight.PIN: standing.can_pin,
        BotRight.DELETE: standing.can_delete,
    }
    return [right for right, granted in wanted.items() if not granted]


def lost_standing(old: str, new: str) -> bool:
    """Demoted or removed after having been an admin (a group that was set up): the owners
    should hear of it. A bot that was only ever a plain member is not worth a message (anyone
    can add it to a group of theirs and remove it again)."""
    return old in ADMIN_STATUSES and new not in ADMIN_STATUSES
