"""Every callback_data the bot puts on a button: one typed value per kind, built and parsed here.

The wire format is frozen (`cpn:42`, `gb:j:7`, `ref:invite:-1001…`): messages already in chats
carry it. The CallbackQueryHandler patterns are derived from the same table, so a value that
`parse` reads is exactly what a handler is registered for. Any client can send any
callback_data, so `parse` never raises: anything that is not one of these is None.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import astuple, dataclass
from enum import StrEnum
from typing import TypeVar

from telegram import InlineKeyboardButton, Update

ROW_ID = r"(\d{1,18})"  # a database row: positive, fits a BIGINT
CHAT_ID = r"(-?\d{1,16})"  # a Telegram chat (at most 52 bits): groups are negative
PAGE = r"(\d{1,4})"  # a page of a list


class GroupBuyVerb(StrEnum):
    """The buttons of a deal post (start, join any) and of a team card (join, leave)."""

    START = "s"
    JOIN_ANY = "a"
    JOIN = "j"
    LEAVE = "l"


class ScheduleVerb(StrEnum):
    """The buttons under a scheduled post's preview."""

    SAVE = "ok"
    DISCARD = "no"


class BroadcastVerb(StrEnum):
    """The preview's send and discard, then the progress message's pause, resume and cancel."""

    SEND = "go"
    DISCARD = "no"
    PAUSE = "p"
    RESUME = "r"
    CANCEL = "c"


class ChooserVerb(StrEnum):
    """What a private group chooser was opened for: /invite or /invites."""

    INVITE = "invite"
    INVITES = "invites"


@dataclass(frozen=True)
class ClaimButton:
    """🎟 under a coupon post (and on a post's coupon button): `cpn:<offer>`."""

    offer_id: int


@dataclass(frozen=True)
class GroupBuyButton:
    """`gb:<verb>:<id>`: a deal's id for START and JOIN_ANY, a team's for JOIN and LEAVE."""

    verb: GroupBuyVerb
    target: int


@dataclass(frozen=True)
class ScheduleButton:
    """`sch:<verb>:<post>`."""

    verb: ScheduleVerb
    post_id: int


@dataclass(frozen=True)
class BroadcastButton:
    """`bc:<verb>:<broadcast>`."""

    verb: BroadcastVerb
    broadcast_id: int


@dataclass(frozen=True)
class ChooserButton:
    """A group on the private /invite or /invites chooser: `ref:<verb>:<chat>`."""

    verb: ChooserVerb
    chat_id: int


@dataclass(frozen=True)
class ManageButton:
    """A group on the private /manage chooser: `mg:<chat>`."""

    chat_id: int


class SegmentView(StrEnum):
    """A list /segments opens: a stage (s-), an RFM segment (r-) or a tier level (t-)."""

    NEW = "s-new"
    ACTIVE = "s-active"
    SILENT = "s-silent"
    DORMANT = "s-dormant"
    LEFT = "s-left"
    CHAMPIONS = "r-champions"
    LOYAL = "r-loyal"
    POTENTIAL_LOYALIST = "r-potential_loyalist"
    RFM_NEW = "r-new"
    PROMISING = "r-promising"
    NEED_ATTENTION = "r-need_attention"
    ABOUT_TO_SLEEP = "r-about_to_sleep"
    AT_RISK = "r-at_risk"
    CANT_LOSE = "r-cant_lose"
    HIBERNATING = "r-hibernating"
    LOST = "r-lost"
    TIER_0 = "t-0"
    TIER_1 = "t-1"
    TIER_2 = "t-2"
    TIER_3 = "t-3"
    TIER_4 = "t-4"


@dataclass(frozen=True)
class SegmentButton:
    """A list under the /segments report, opened in a message of its own:
    `sg:<view>:<page>:<chat>`."""

    view: SegmentView
    page: int
    chat_id: int


@dataclass(frozen=True)
class SegmentPageButton:
    """◀ / ▶ on a /segments list, turning its pages in place: `sgp:<view>:<page>:<chat>`."""

    view: SegmentView
    page: int
    chat_id: int


@dataclass(frozen=True)
class ShopButton:
    """Redeem under a /shop list, one per item: `shop:<item>`."""

    item_id: int


@dataclass(frozen=True)
class SurveyButton:
    """A rating under a survey's question: `sv:<survey>:<value>` (the scale is the survey's:
    the use case refuses a value off it)."""

    survey_id: int
    value: int


@dataclass(frozen=True)
class ModLogButton:
    """↩️ under /modlog, one per action that can be undone: `ml:<action>`."""

    action_id: int


@dataclass(frozen=True)
class CaptchaButton:
    """An option under a join captcha's prompt: `cap:<captcha>:<option>`."""

    captcha_id: int
    option: int


Callback = (
    ClaimButton
    | GroupBuyButton
    | ScheduleButton
    | BroadcastButton
    | ChooserButton
    | ManageButton
    | SegmentButton
    | SegmentPageButton
    | ShopButton
    | SurveyButton
    | ModLogButton
    | CaptchaButton
)
C = TypeVar("C", ClaimButton, GroupBuyButton, ScheduleButton, BroadcastButton, ChooserButton,
            ManageButton, SegmentButton, SegmentPageButton, ShopButton, SurveyButton,
            ModLogButton, CaptchaButton)  # fmt: skip


@dataclass(frozen=True)
class _Kind:
    """One prefix on the wire: its verbs (none: the prefix alone), its ids and its value."""

    prefix: str
    verbs: type[StrEnum] | None
    id: str  # one or more numbers, each a regex group, separated by ":"
    make: Callable[[str, tuple[int, ...]], Callback]  # (verb or "", ids) -> value

    @property
    def pattern(self) -> re.Pattern[str]:
        verbs = f"({'|'.join(self.verbs)}):" if self.verbs is not None else ""
        return re.compile(rf"^{self.prefix}:{verbs}{self.id}\Z", re.ASCII)


_KINDS: dict[type[Callback], _Kind] = {
    ClaimButton: _Kind("cpn", None, ROW_ID, lambda _, n: ClaimButton(n[0])),
    GroupBuyButton: _Kind(
        "gb", GroupBuyVerb, ROW_ID, lambda v, n: GroupBuyButton(GroupBuyVerb(v), n[0])
    ),
    ScheduleButton: _Kind(
        "sch", ScheduleVerb, ROW_ID, lambda v, n: ScheduleButton(ScheduleVerb(v), n[0])
    ),
    BroadcastButton: _Kind(
        "bc", BroadcastVerb, ROW_ID, lambda v, n: BroadcastButton(BroadcastVerb(v), n[0])
    ),
    ChooserButton: _Kind(
        "ref", ChooserVerb, CHAT_ID, lambda v, n: ChooserButton(ChooserVerb(v), n[0])
    ),
    ManageButton: _Kind("mg", None, CHAT_ID, lambda _, n: ManageButton(n[0])),
    SegmentButton: _Kind(
        "sg", SegmentView, rf"{PAGE}:{CHAT_ID}", lambda v, n: SegmentButton(SegmentView(v), *n)
    ),
    SegmentPageButton: _Kind(
        "sgp",
        SegmentView,
        rf"{PAGE}:{CHAT_ID}",
        lambda v, n: SegmentPageButton(SegmentView(v), *n),
    ),
    ShopButton: _Kind("shop", None, ROW_ID, lambda _, n: ShopButton(n[0])),
    SurveyButton: _Kind("sv", None, rf"{ROW_ID}:(\d{{1,2}})", lambda _, n: SurveyButton(*n)),
    ModLogButton: _Kind("ml", None, ROW_ID, lambda _, n: ModLogButton(n[0])),
    CaptchaButton: _Kind("cap", None, rf"{ROW_ID}:(\d)", lambda _, n: CaptchaButton(*n)),
}
_PATTERNS = {kind: spec.pattern for kind, spec in _KINDS.items()}


def build(value: Callback) -> str:
    """The callback_data for a button: `cpn:42`, `gb:j:7`, `mg:-1001…`."""
    return ":".join([_KINDS[type(value)].prefix, *map(str, astuple(value))])


def parse(data: object) -> Callback | None:
    """The value a button's callback_data stands for; None for anything the bot never builds."""
    if not isinstance(data, str):
        return None
    for kind, pattern in _PATTERNS.items():
        if found := pattern.match(data):
            spec, groups = _KINDS[kind], found.groups()
            verb, numbers = (groups[0], groups[1:]) if spec.verbs is not None else ("", groups)
            return spec.make(verb, tuple(int(n) for n in numbers))
    return None


def pattern(kind: type[Callback]) -> re.Pattern[str]:
    """What the CallbackQueryHandler for `kind` is registered with."""
    return _PATTERNS[kind]


def tapped(update: Update, kind: type[C]) -> C | None:
    """The tapped button as `kind`, or None when the update is not such a tap."""
    query = update.callback_query
    value = parse(query.data if query is not None else None)
    return value if isinstance(value, kind) else None


def callback_button(text: str, value: Callback) -> InlineKeyboardButton:
    """An inline button that sends `value` back when tapped."""
    return InlineKeyboardButton(text, callback_data=build(value))
