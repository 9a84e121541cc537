"""Order keeping (保持社群秩序): the anti-spam rules, flood control and warnings, as plain rules.

Everything here decides; nothing here acts. campaigns/services/moderation.py carries a
verdict out (Telegram through the Moderator port, the mod log through storage), and the
handlers only pull a message's features out of Telegram's objects.

- `ModerationRules` is a group's configuration (the `/set` keys in MODERATION_EXAMPLES).
- `MessageFeatures` is what anti-spam may know of a message: whether it carries a link, is
  a channel's forward, mentions a bot, is media only, its text (kept in memory for the stop
  words only, never stored) and how often the member sent the same text lately.
- `spam_rule` is the one home of "which rule fires": from the features and whether the
  member is a newcomer (within their first N messages in the group).
- `Watch` is the in-memory state the rules need between messages (one process): each
  member's recent message times (flood) and text hashes (repeats), and the message counts
  of members anti-spam has looked up, so a veteran costs no database read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import Any

from campaigns.captcha import ASKABLE, CaptchaKind, RaidRules
from campaigns.errors import DomainError, InvalidSetting
from campaigns.numbers import read_int


class ActionKind(StrEnum):
    """What the mod log records: each row one thing done to one member."""

    DELETED = "deleted"
    WARNED = "warned"
    MUTED = "muted"
    BANNED = "banned"
    UNMUTED = "unmuted"
    UNBANNED = "unbanned"
    UNWARNED = "unwarned"


class Rule(StrEnum):
    """Why an action was taken: an anti-spam rule, flood control, the warning limit, an
    admin's own command, or the undo of an earlier action."""

    LINK = "link"
    FORWARD = "forward"
    BOT = "bot"
    STOP_WORD = "stopword"
    REPEAT = "repeat"
    MEDIA = "media"
    FLOOD = "flood"
    CAPTCHA = "captcha"
    RAID = "raid"
    WARN_LIMIT = "warn_limit"
    ADMIN = "admin"
    UNDO = "undo"


SPAM_RULES = (Rule.STOP_WORD, Rule.LINK, Rule.FORWARD, Rule.BOT, Rule.REPEAT, Rule.MEDIA)
UNDOES = {ActionKind.MUTED: ActionKind.UNMUTED, ActionKind.BANNED: ActionKind.UNBANNED,
          ActionKind.WARNED: ActionKind.UNWARNED}  # fmt: skip


class Reaction(StrEnum):
    """What a rule does when it fires: delete and warn, delete and mute, or nothing."""

    OFF = "off"
    WARN = "warn"
    MUTE = "mute"


class LimitAction(StrEnum):
    """What reaching the warning limit does."""

    MUTE = "mute"
    BAN = "ban"


@dataclass(frozen=True)
class Policy:
    """One rule's reaction, for newcomers only or (`everyone`) for every member."""

    reaction: Reaction
    everyone: bool = False

    def __str__(self) -> str:
        if self.reaction is Reaction.OFF or not self.everyone:
            return str(self.reaction)
        return f"{self.reaction} all"


MAX_STOP_WORDS = 100
MAX_STOP_WORD = 64  # characters
MAX_MINUTES = 366 * 24 * 60  # Telegram's longest timed restriction
MAX_NEWCOMER_MESSAGES = 1000


@dataclass(frozen=True)
class ModerationRules:
    """A group's anti-spam, flood and warning settings. Anti-spam and flood control act only
    while `antispam` is on (off by default: deleting needs the bot's rights, and an operator
    should choose it); warnings by admins always work."""

    antispam: bool = False
    newcomer_messages: int = 5  # a member's first N messages in the group are a newcomer's
    links: Policy = Policy(Reaction.WARN)
    forwards: Policy = Policy(Reaction.WARN)
    bots: Policy = Policy(Reaction.WARN)
    media: Policy = Policy(Reaction.OFF)
    stop_words_rule: Policy = Policy(Reaction.WARN, everyone=True)
    repeats: Policy = Policy(Reaction.WARN, everyone=True)
    stop_words: tuple[str, ...] = ()
    mute_minutes: int = 60  # a rule's delete-and-mute
    flood_messages: int = 10  # more than this many messages …
    flood_seconds: int = 10  # … in this many seconds (0 messages: no flood control)
    flood_mute_minutes: int = 10
    warn_limit: int = 3
    warn_action: LimitAction = LimitAction.MUTE
    warn_mute_hours: int = 24
    warn_expiry_days: int = 30
    captcha: bool = False  # newcomers restricted until they answer (campaigns/captcha.py)
    captcha_kind: CaptchaKind = CaptchaKind.BUTTON
    captcha_minutes: int = 3
    captcha_ban_minutes: int = 10  # a failed or timed-out captcha removes them this long
    raid_joins: int = 10  # joins within raid_seconds that switch raid mode on (0: never)
    raid_seconds: int = 60
    raid_calm_minutes: int = 30
    raid_hold_minutes: int = 60  # a member who joins during a raid waits this long for approval

    @property
    def raid(self) -> RaidRules:
        return RaidRules(
            self.raid_joins, self.raid_seconds, self.raid_calm_minutes, self.raid_hold_minutes
        )

    def policy(self, rule: Rule) -> Policy:
        """The policy of an anti-spam rule."""
        return {
            Rule.LINK: self.links,
            Rule.FORWARD: self.forwards,
            Rule.BOT: self.bots,
            Rule.MEDIA: self.media,
            Rule.STOP_WORD: self.stop_words_rule,
            Rule.REPEAT: self.repeats,
        }[rule]

    @cached_property
    def active(self) -> tuple[tuple[Rule, Policy], ...]:
        """The rules that are not off, in SPAM_RULES' order (computed once per settings
        value: every group message asks)."""
        pairs = ((rule, self.policy(rule)) for rule in SPAM_RULES)
        return tuple((r, p) for r, p in pairs if p.reaction is not Reaction.OFF)

    def as_pairs(self) -> list[tuple[str, str]]:
        """The settings as typed in `/set`, in a stable order."""
        return [
            ("antispam", "on" if self.antispam else "off"),
            ("newcomer_messages", str(self.newcomer_messages)),
            ("spam_links", str(self.links)),
            ("spam_forwards", str(self.forwards)),
            ("spam_bots", str(self.bots)),
            ("spam_media", str(self.media)),
            ("spam_stopwords", str(self.stop_words_rule)),
            ("spam_repeat", str(self.repeats)),
            ("stop_words", ", ".join(self.stop_words) if self.stop_words else "none"),
            ("spam_mute_minutes", str(self.mute_minutes)),
            ("flood_messages", str(self.flood_messages)),
            ("flood_seconds", str(self.flood_seconds)),
            ("flood_mute_minutes", str(self.flood_mute_minutes)),
            ("warn_limit", str(self.warn_limit)),
            ("warn_action", str(self.warn_action)),
            ("warn_mute_hours", str(self.warn_mute_hours)),
            ("warn_expiry_days", str(self.warn_expiry_days)),
            ("captcha", "on" if self.captcha else "off"),
            ("captcha_kind", str(self.captcha_kind)),
            ("captcha_minutes", str(self.captcha_minutes)),
            ("captcha_ban_minutes", str(self.captcha_ban_minutes)),
            ("raid_joins", str(self.raid_joins)),
            ("raid_seconds", str(self.raid_seconds)),
            ("raid_calm_minutes", str(self.raid_calm_minutes)),
            ("raid_hold_minutes", str(self.raid_hold_minutes)),
        ]

    def to_json(self) -> dict[str, str]:
        return dict(self.as_pairs())

    @classmethod
    def from_json(cls, data: dict[str, object] | None) -> ModerationRules:
        """Stored settings; a key added later falls back to its default, and a value no
        longer valid is skipped rather than lose the group's other settings."""
        rules = cls()
        for key, value in (data or {}).items():
            if key in MODERATION_EXAMPLES:
                try:
                    rules = apply_moderation_setting(rules, key, str(value))
                except InvalidSetting:
                    continue
        return rules


DEFAULT_MODERATION = ModerationRules()

MODERATION_EXAMPLES = {
    "antispam": "on",
    "newcomer_messages": "5",
    "spam_links": "warn",
    "spam_forwards": "mute",
    "spam_bots": "warn",
    "spam_media": "off",
    "spam_stopwords": "warn all",
    "spam_repeat": "mute all",
    "stop_words": "加微信, 代购, casino",
    "spam_mute_minutes": "60",
    "flood_messages": "10",
    "flood_seconds": "10",
    "flood_mute_minutes": "10",
    "warn_limit": "3",
    "warn_action": "ban",
    "warn_mute_hours": "24",
    "warn_expiry_days": "30",
    "captcha": "on",
    "captcha_kind": "sum",
    "captcha_minutes": "3",
    "captcha_ban_minutes": "10",
    "raid_joins": "10",
    "raid_seconds": "60",
    "raid_calm_minutes": "30",
    "raid_hold_minutes": "60",
}
_POLICY_FIELDS = {
    "spam_links": "links",
    "spam_forwards": "forwards",
    "spam_bots": "bots",
    "spam_media": "media",
    "spam_stopwords": "stop_words_rule",
    "spam_repeat": "repeats",
}
# key -> (field, lowest, highest)
_NUMBERS = {
    "newcomer_messages": ("newcomer_messages", 0, MAX_NEWCOMER_MESSAGES),
    "spam_mute_minutes": ("mute_minutes", 1, MAX_MINUTES),
    "flood_messages": ("flood_messages", 0, 1000),
    "flood_seconds": ("flood_seconds", 1, 3600),
    "flood_mute_minutes": ("flood_mute_minutes", 1, MAX_MINUTES),
    "warn_limit": ("warn_limit", 1, 100),
    "warn_mute_hours": ("warn_mute_hours", 1, MAX_MINUTES // 60),
    "warn_expiry_days": ("warn_expiry_days", 1, 3650),
    "captcha_minutes": ("captcha_minutes", 1, 60),
    "captcha_ban_minutes": ("captcha_ban_minutes", 1, MAX_MINUTES),
    "raid_joins": ("raid_joins", 0, 10_000),
    "raid_seconds": ("raid_seconds", 1, 3600),
    "raid_calm_minutes": ("raid_calm_minutes", 1, 24 * 60),
    "raid_hold_minutes": ("raid_hold_minutes", 1, 7 * 24 * 60),
}
ON, OFF = {"on", "yes", "true", "1", "开", "开启"}, {"off", "no", "false", "0", "关", "关闭"}
WORD_SEPARATORS = re.compile(r"[,，、;；\n]")


def _invalid(key: str, reason: str) -> InvalidSetting:
    return InvalidSetting(key=key, reason=reason, example=MODERATION_EXAMPLES.get(key, ""))


def parse_policy(key: str, raw: str) -> Policy:
    """`warn`, `mute` or `off`, optionally followed by `all` (every member, not only
    newcomers) or `new` (newcomers only)."""
    words = raw.strip().lower().replace(",", " ").split()
    if not words or len(words) > 2:
        raise _invalid(key, "bad_reaction")
    try:
        reaction = Reaction(words[0])
    except ValueError:
        raise _invalid(key, "bad_reaction") from None
    scope = words[1] if len(words) == 2 else "new"
    if scope not in {"all", "new"}:
        raise _invalid(key, "bad_reaction")
    return Policy(reaction, everyone=scope == "all" and reaction is not Reaction.OFF)


def parse_stop_words(raw: str) -> tuple[str, ...]:
    """Words or phrases separated by commas (`,` `，` `、` `;`); `none` clears them. Kept as
    typed (trimmed), without repeats; matched case-insensitively (see stop_word_in)."""
    if raw.strip().lower() in {"none", "off", "-"}:
        return ()
    words: list[str] = []
    seen: set[str] = set()
    for part in WORD_SEPARATORS.split(raw):
        word = " ".join(part.split())
        if not word:
            continue
        if len(word) > MAX_STOP_WORD or not normalized(word):
            raise _invalid("stop_words", "bad_words")
        if normalized(word) not in seen:
            seen.add(normalized(word))
            words.append(word)
    if len(words) == 1 and words[0].lower() in {"none", "off", "-"}:
        return ()  # "off," clears too: stored as "off", it would read back as cleared
    if not words or len(words) > MAX_STOP_WORDS:
        raise _invalid("stop_words", "bad_words")
    return tuple(words)


def apply_moderation_setting(rules: ModerationRules, key: str, raw: str) -> ModerationRules:
    """Validate one moderation `/set` and return the new rules; InvalidSetting (a reason
    code and an example) when the value is not one."""
    key, raw = key.strip().lower(), raw.strip()
    if key not in MODERATION_EXAMPLES:
        raise InvalidSetting(key=key, reason="unknown_key", example=", ".join(MODERATION_EXAMPLES))
    if not raw:
        raise _invalid(key, "missing_value")
    if key in {"antispam", "captcha"}:
        said = raw.lower()
        if said not in ON | OFF:
            raise _invalid(key, "not_on_off")
        return _with(rules, key, said in ON)
    if key == "captcha_kind":
        kind = next((k for k in ASKABLE if k == raw.lower()), None)
        if kind is None:  # an admin's approval is raid mode's, not a question to choose
            raise _invalid(key, "bad_captcha_kind")
        return replace(rules, captcha_kind=kind)
    if key in _POLICY_FIELDS:
        return _with(rules, _POLICY_FIELDS[key], parse_policy(key, raw))
    if key == "stop_words":
        return replace(rules, stop_words=parse_stop_words(raw))
    if key == "warn_action":
        try:
            return replace(rules, warn_action=LimitAction(raw.lower()))
        except ValueError:
            raise _invalid(key, "bad_limit_action") from None
    name, low, high = _NUMBERS[key]
    try:
        value = read_int(raw)
    except ValueError:
        raise _invalid(key, "not_a_number") from None
    if not low <= value <= high:
        raise _invalid(key, "out_of_range")
    return _with(rules, name, value)


def _with(rules: ModerationRules, name: str, value: object) -> ModerationRules:
    """The rules with one field changed (its name from the key tables above)."""
    changes: dict[str, Any] = {name: value}
    return replace(rules, **changes)


# ---- what anti-spam reads of a message -------------------------------------------------------

# A Telegram link written out without an entity (clients make one, a forged update may not).
TELEGRAM_LINK = re.compile(r"(?:^|[^\w.])(?:t|telegram)\.(?:me|dog)/\S", re.IGNORECASE | re.ASCII)
# A mention of a bot: Telegram usernames are 5-32 characters, and a bot's ends in "bot".
BOT_MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{1,29}bot\b", re.IGNORECASE | re.ASCII)
INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060\ufeff\u00ad]+")
REPEAT_MIN_LENGTH = 8  # shorter texts ("ok", "早上好", "+1", "哈哈哈") are chatter, never repeats


def normalized(text: str) -> str:
    """The text as the stop words and repeats compare it: NFKC (full-width letters become
    ASCII), case-folded, with every space and invisible character taken out, so `加 微 信`,
    `加\u200b微信` and `ＣＡＳＩＮＯ` are caught like `加微信` and `casino`. Chinese has no
    spaces between words: a word is found anywhere in the text."""
    return INVISIBLE.sub("", unicodedata.normalize("NFKC", text).casefold())


def stop_word_in(text: str, words: Iterable[str]) -> str | None:
    """The first stop word found in the text (case-insensitive substring, see normalized)."""
    plain = normalized(text)
    if not plain:
        return None
    return next((w for w in words if (n := normalized(w)) and n in plain), None)


def text_hash(text: str) -> str | None:
    """A short digest of the text as repeats compare it; None for texts too short to be
    a repeat and for commands. Only this is kept, never the text."""
    plain = normalized(text)
    if len(plain) < REPEAT_MIN_LENGTH or plain.startswith("/"):
        return None
    return hashlib.blake2b(plain.encode("utf-8"), digest_size=8).hexdigest()


@dataclass(frozen=True)
class MessageFeatures:
    """What anti-spam knows of one message (the text stays in memory, for stop words)."""

    text: str = ""
    link: bool = False  # a url / text_link entity, or a t.me / telegram.me link
    channel_forward: bool = False  # forwarded from a channel (forward_origin "channel")
    bot_mention: bool = False  # mentions @…bot
    media_only: bool = False  # a photo, video, file, … without any text or caption
    repeats: int = 1  # this text from this member in the repeat window, this one included

    def fires(self, rule: Rule, rules: ModerationRules) -> bool:
        """Whether the message shows what `rule` looks for."""
        if rule is Rule.LINK:
            return self.link
        if rule is Rule.FORWARD:
            return self.channel_forward
        if rule is Rule.BOT:
            return self.bot_mention
        if rule is Rule.MEDIA:
            return self.media_only
        if rule is Rule.REPEAT:
            return self.repeats >= REPEATS
        return bool(rules.stop_words) and stop_word_in(self.text, rules.stop_words) is not None


@dataclass(frozen=True)
class Posted:
    """A member's message as anti-spam is handed it (the text stays in memory)."""

    chat_id: int
    user_id: int
    at: dt.datetime  # as Telegram stamped it: the flood and repeat windows' time
    text: str = ""  # or the caption
    entity_types: tuple[str, ...] = ()
    channel_forward: bool = False
    media: bool = False
    edited: bool = False  # an edit of a message already seen: its content, not a new message


def features_of(
    text: str,
    *,
    entity_types: Iterable[str] = (),
    channel_forward: bool = False,
    media: bool = False,
    repeats: int = 1,
) -> MessageFeatures:
    """A message's features from what Telegram sent: its text or caption, the types of its
    entities, whether it is a channel's forward and whether it carries media."""
    kinds, lowered = set(entity_types), text.lower()
    written = (".me/" in lowered or ".dog/" in lowered) and TELEGRAM_LINK.search(text) is not None
    link = bool(kinds & {"url", "text_link"}) or written
    return MessageFeatures(
        text=text,
        link=link,
        channel_forward=channel_forward,
        bot_mention="@" in text and BOT_MENTION.search(text) is not None,
        media_only=media and not text.strip(),
        repeats=repeats,
    )


def needs_standing(features: MessageFeatures, rules: ModerationRules) -> bool:
    """Whether a rule could fire for a newcomer only: then (and only then) whether the
    member is a newcomer must be looked up."""
    if not rules.antispam or rules.newcomer_messages == 0:
        return False
    return any(not p.everyone and features.fires(r, rules) for r, p in rules.active)


def spam_rule(features: MessageFeatures, rules: ModerationRules, *, newcomer: bool) -> Rule | None:
    """The anti-spam rule the message breaks (the first in SPAM_RULES' order), or None.
    A rule for newcomers fires only for a newcomer; admins are the caller's to spare."""
    if not rules.antispam:
        return None
    for rule, policy in rules.active:
        if (policy.everyone or newcomer) and features.fires(rule, rules):
            return rule
    return None


def is_newcomer(messages_before: int, rules: ModerationRules) -> bool:
    """Within the first N messages in the group: fewer than N counted before this one."""
    return messages_before < rules.newcomer_messages


@dataclass(frozen=True)
class Verdict:
    """What to do about one message: delete it (anti-spam), warn or mute its author."""

    rule: Rule
    delete: bool
    warn: bool
    mute_minutes: int | None


def verdict(rule: Rule | None, flooded: bool, rules: ModerationRules) -> Verdict | None:
    """A broken anti-spam rule deletes the message and warns or mutes per its policy; a
    flood (with no rule broken) mutes for the flood's minutes."""
    if rule is not None:
        reaction = rules.policy(rule).reaction
        mute = rules.mute_minutes if reaction is Reaction.MUTE else None
        return Verdict(rule, delete=True, warn=reaction is Reaction.WARN, mute_minutes=mute)
    if flooded:
        return Verdict(Rule.FLOOD, delete=False, warn=False, mute_minutes=rules.flood_mute_minutes)
    return None


def limit_reached(active_warnings: int, rules: ModerationRules) -> ActionKind | None:
    """The action the warnings now call for: at the limit (or past it), mute or ban."""
    if active_warnings < rules.warn_limit:
        return None
    return ActionKind.BANNED if rules.warn_action is LimitAction.BAN else ActionKind.MUTED


def limit_until(now: dt.datetime, rules: ModerationRules) -> dt.datetime | None:
    """When the warning limit's mute ends (None: a ban, until an admin lifts it)."""
    if rules.warn_action is LimitAction.BAN:
        return None
    return now + dt.timedelta(hours=rules.warn_mute_hours)


def warnings_since(now: dt.datetime, rules: ModerationRules) -> dt.datetime:
    """Warnings older than this have expired."""
    return now - dt.timedelta(days=rules.warn_expiry_days)


REASON_MAX = 200  # characters of an admin's reason kept with a warning


def parse_reason(text: str) -> str | None:
    """The reason an admin typed after /warn: spaces collapsed, cut to REASON_MAX
    characters; None when there is none."""
    reason = " ".join(text.split())[:REASON_MAX].strip()
    return reason or None


# ---- what Telegram may refuse ---------------------------------------------------------------


class ModRight(StrEnum):
    """The administrator rights moderation needs, by Telegram's names."""

    DELETE = "can_delete_messages"
    RESTRICT = "can_restrict_members"
    INVITE = "can_invite_users"  # approve or decline join requests


class Refusal(StrEnum):
    """Why Telegram would not do a moderation action, other than a missing right."""

    ADMIN = "admin"  # the member is an admin (or the creator) of the group
    NOT_SUPERGROUP = "not_supergroup"  # restrictions exist in supergroups only
    GONE = "gone"  # the message is already deleted
    ERROR = "error"  # anything else (the network, a bot removed meanwhile)


@dataclass
class MissingRight(DomainError):
    """Telegram refused: the bot lacks this right in the group (the admins are told)."""

    right: ModRight


@dataclass
class CannotModerate(DomainError):
    """Telegram refused for another reason (see Refusal)."""

    reason: Refusal


@dataclass
class NotAMemberTarget(DomainError):
    """/warn, /unwarn or /warns named nobody a warning can be about: no reply, or a reply
    to a bot, a channel or the anonymous admin."""


@dataclass
class AdminTarget(DomainError):
    """An admin's warnings: admins are never warned, muted or banned by the bot."""


@dataclass
class NothingToUndo(DomainError):
    """The action is undone already, or it is of a kind that cannot be undone (a deleted
    message cannot be brought back), or there is no such action."""

    kind: ActionKind | None


# ---- in-memory state between messages ------------------------------------------------------

REPEATS = 3  # the same text this many times …
REPEAT_WINDOW = 600.0  # … within ten minutes is a repeat
MAX_WATCHED = 50_000  # members remembered before the oldest are forgotten


@dataclass
class _Member:
    times: deque[float] = field(default_factory=deque)  # recent message times (flood)
    texts: deque[tuple[float, str]] = field(default_factory=deque)  # recent text hashes


class Watch:
    """What anti-spam remembers between one member's messages, in memory (one process):
    their recent message times for flood control, the hashes of their recent texts for
    repeats, and the message counts of members it had to look up (then counted on here, so
    each member costs at most one database read while remembered).

    Times are seconds on any one clock (the messages' own times); `MAX_WATCHED` members
    are kept at most, the least recently seen forgotten first."""

    def __init__(self, max_members: int = MAX_WATCHED) -> None:
        self.max_members = max_members
        self._members: dict[Hashable, _Member] = {}
        self._counts: dict[Hashable, int] = {}

    def see(
        self, key: Hashable, at: float, digest: str | None, rules: ModerationRules
    ) -> tuple[bool, int]:
        """One message of the member `key` at `at`: (flooded, repeats). `flooded` once the
        member sent more than flood_messages within flood_seconds (their window then starts
        afresh, so one burst mutes once); `repeats` how often they sent this text within
        the repeat window, this one included (0 for a text that is never a repeat)."""
        member = self._members.pop(key, None) or _Member()
        self._members[key] = member  # most recently seen last
        if len(self._members) > self.max_members:
            del self._members[next(iter(self._members))]
        flooded = False
        if rules.flood_messages > 0:
            member.times.append(at)
            while member.times and member.times[0] <= at - rules.flood_seconds:
                member.times.popleft()
            if len(member.times) > rules.flood_messages:
                member.times.clear()
                flooded = True
        while member.texts and member.texts[0][0] <= at - REPEAT_WINDOW:
            member.texts.popleft()
        if digest is None:
            return flooded, 0
        member.texts.append((at, digest))
        return flooded, sum(1 for _, d in member.texts if d == digest)

    def count(self, key: Hashable) -> int | None:
        """The member's messages before this one, if looked up before (None: unknown)."""
        return self._counts.get(key)

    def learn(self, key: Hashable, messages_before: int) -> None:
        """The member's count as storage had it, before this message."""
        if len(self._counts) >= self.max_members:
            self._counts.clear()
        self._counts[key] = messages_before

    def counted(self, key: Hashable) -> None:
        """One more message of a member whose count is known (a message that stayed)."""
        if key in self._counts:
            self._counts[key] += 1
