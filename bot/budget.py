"""Each chat's share of Telegram's flood limits: one view for everything this process sends.

Telegram refuses (429, with retry_after) more than about 20 messages a minute in one group,
more than about one a second in one private chat (short bursts pass), and more than about 30
a second overall. Edits are limited too, so in a chat they count like messages. The outbox,
interactive replies and background edits all record here, so together they stay inside the
limits: a broadcast posting in a group and a check-in rush in that group share its 20 a
minute. An album (sendMediaGroup) of N items is N messages to Telegram, and N here.

`BudgetLimiter` puts every Bot API request through the budget (PTB's rate-limiter hook on
ExtBot): a request waits for room in its group and overall, a 429 pauses that chat for
everyone (several chats refused within a second pause everything) and the request is sent
again after retry_after instead of failing. Waiting in the limiter is the last resort: the
workers that answer many members at once (bot/acks.py, bot/edits.py, bot/deal_posts.py) ask
`room_at(chat, keep=…)` first and only send when there is room, leaving some of the group's
minute for the replies that cannot wait. PTB's own AIORateLimiter is not used: it pauses
every chat on any 429, has no per-chat view the outbox can share, and waits on the real
clock (tests run minutes of virtual time on bot.clock's Clock).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import warnings
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from typing import Any

import httpx
from telegram.error import NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.clock import SYSTEM, Clock

log = logging.getLogger(__name__)

GROUP_WINDOW = 60.0  # seconds: the group limit is per minute
# Telegram counts a request when it arrives, and requests noted together arrive spread out by
# the way there (a busy machine, a slow network): the windows here are a little longer than
# Telegram's, so the next second's first message never lands within the last one's second.
GROUP_MARGIN = 0.5
ARRIVAL_MARGIN = 0.15
PRIVATE_LIMIT, PRIVATE_WINDOW = 1, 1.0 + ARRIVAL_MARGIN
OVERALL_WINDOW = 1.0 + ARRIVAL_MARGIN
GLOBAL_FLOOD_CHATS = 3  # distinct chats refused within a second: Telegram means everything
MAX_CHATS = 10_000  # chats remembered before those with nothing recent are dropped
EDITS = ("editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia")
NOT_MESSAGES = {"sendChatAction", "sendInvoice"}  # "send…" methods outside the limits
RETRIES = 5  # 429s in a row on one request before it fails after all
# A request that never reached Telegram (no connection, or none free in the pool) is sent
# again after 0.5, 1, 2 and 4 s: a reply is not lost to a blip of the network. One that may
# have arrived (a read timed out, the connection dropped mid-answer) is not: sent twice, it
# would be two messages.
NETWORK_RETRIES = 4
NETWORK_BACKOFF = 0.5
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# Set while the outbox sends: it has paced the request itself and settles a 429 its own way
# (the row goes back to the queue), so the limiter does not retry it.
_PACED: ContextVar[bool] = ContextVar("paced_by_caller", default=False)


@contextlib.contextmanager
def paced_by_caller() -> Iterator[None]:
    """Requests in this block were paced by their sender, who handles a 429 itself."""
    token = _PACED.set(True)
    try:
        yield
    finally:
        _PACED.reset(token)


def retry_seconds(error: RetryAfter) -> float:
    """retry_after in seconds (PTB warns that it becomes a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class ChatBudget:
    """Recent sends per chat and overall, and the pauses Telegram asked for."""

    def __init__(
        self,
        *,
        group_limit: int = 20,
        overall: float = 29.0,
        clock: Clock = SYSTEM,
    ) -> None:
        self.clock = clock
        self.group_limit = group_limit
        self.overall_limit = max(1, int(overall))
        self.sent: dict[int, deque[float]] = {}  # chat -> times of its sends and edits
        self.overall: deque[float] = deque()  # times of new messages, any chat
        self.paused: dict[int, float] = {}  # chat -> until when Telegram asked it to wait
        self.global_until = 0.0
        self.refusals: deque[tuple[float, int]] = deque()
        self.waiting = 0  # requests asleep in the rate limiter, waiting for room or a 429

    def _window(self, chat_id: int) -> tuple[int, float]:
        if chat_id < 0:
            return self.group_limit, GROUP_WINDOW + GROUP_MARGIN
        return PRIVATE_LIMIT, PRIVATE_WINDOW

    def _recent(self, chat_id: int, now: float) -> deque[float]:
        _, window = self._window(chat_id)
        times = self.sent.get(chat_id)
        if times is None:
            return deque()
        while times and times[0] <= now - window:
            times.popleft()
        return times

    def used(self, chat_id: int) -> int:
        """Sends and edits in the chat within its window (a group's minute)."""
        return len(self._recent(chat_id, self.clock.monotonic()))

    def chat_wait(self, chat_id: int) -> float:
        """Seconds this chat (or everything) must still wait after a 429."""
        now = self.clock.monotonic()
        return max(self.paused.get(chat_id, 0.0), self.global_until) - now

    def room_at(self, chat_id: int, *, keep: int = 0, count: int = 1) -> float:
        """When the chat may next get `count` messages (an album of N is N to Telegram),
        leaving `keep` of its window's room unused (monotonic time; now or earlier if they
        may go now). Pauses count. More than the window allows waits for an empty window."""
        now = self.clock.monotonic()
        limit, window = self._window(chat_id)
        times = self._recent(chat_id, now)
        allowed = max(1, limit - keep)
        need = min(max(1, count), allowed)
        over = len(times) + need - allowed  # the oldest sends that must leave the window
        at = now if over <= 0 else times[over - 1] + window
        return max(at, self.paused.get(chat_id, 0.0), self.global_until)

    def overall_room_at(self, count: int = 1) -> float:
        """When the next `count` new messages may go, for the limit over all chats."""
        now = self.clock.monotonic()
        while self.overall and self.overall[0] <= now - OVERALL_WINDOW:
            self.overall.popleft()
        over = len(self.overall) + min(max(1, count), self.overall_limit) - self.overall_limit
        if over <= 0:
            return max(now, self.global_until)
        return max(self.overall[over - 1] + OVERALL_WINDOW, now)

    async def until_room(self, chat_id: int) -> None:
        """Sleep (on the clock, counted in `waiting`) until the chat has room: one a second
        in a private chat, the group's minute in a group."""
        while (wait := self.room_at(chat_id) - self.clock.monotonic()) > 0:
            self.waiting += 1
            try:
                await self.clock.sleep(wait)
            finally:
                self.waiting -= 1

    def note(self, chat_id: int, *, new: bool, count: int = 1) -> float:
        """A message (`new`; `count` of them for an album) or an edit goes to the chat now;
        when, as `forget` takes it."""
        now = self.clock.monotonic()
        if len(self.sent) > MAX_CHATS:
            self.sent = {c: t for c, t in self.sent.items() if t and t[-1] > now - GROUP_WINDOW}
            self.paused = {c: until for c, until in self.paused.items() if until > now}
        times = self._recent(chat_id, now)
        if not times:
            times = self.sent[chat_id] = deque()
        times.extend([now] * count)
        if new:
            self.overall.extend([now] * count)
        return now

    def forget(self, chat_id: int, at: float, *, new: bool, count: int = 1) -> None:
        """What `note` noted at `at` never reached Telegram (no connection): out of the
        windows again, so a blip of the network does not use up a group's minute."""
        windows = [self.sent.get(chat_id), self.overall if new else None]
        for times in (t for t in windows if t is not None):
            for _ in range(count):
                if at not in times:
                    break
                times.remove(at)

    def refused(self, chat_id: int | None, seconds: float) -> None:
        """Telegram answered 429: the chat waits `seconds`; several chats within a second, or
        a request for no chat, mean everything waits."""
        now = self.clock.monotonic()
        if chat_id is None:
            self.global_until = max(self.global_until, now + seconds)
            return
        self.paused[chat_id] = max(self.paused.get(chat_id, 0.0), now + seconds)
        self.refusals.append((now, chat_id))
        while self.refusals and self.refusals[0][0] < now - 1:
            self.refusals.popleft()
        if len({c for _, c in self.refusals}) >= GLOBAL_FLOOD_CHATS:
            self.global_until = max(self.global_until, now + seconds)
            log.warning("global flood wait: everything pauses for %.0f s", seconds)


def never_sent(error: NetworkError) -> bool:
    """The request failed before any of it reached Telegram (PTB raises its NetworkError
    from httpx's error), so sending it again cannot make a second message."""
    cause = error.__cause__
    return isinstance(cause, NEVER_SENT)


def chat_of(data: dict[str, Any]) -> int | None:
    """The numeric chat a request goes to (None for inline messages and @usernames)."""
    chat = data.get("chat_id")
    if isinstance(chat, int):
        return chat
    if isinstance(chat, str) and chat.lstrip("-").isdigit():
        return int(chat)
    return None


def messages_in(endpoint: str, data: dict[str, Any]) -> int:
    """How many messages a request puts in the chat as Telegram counts them: an album
    (sendMediaGroup) is one message per item."""
    if endpoint == "sendMediaGroup":
        media = data.get("media")
        return max(1, len(media)) if isinstance(media, list | tuple) else 1
    return 1


def is_message(endpoint: str) -> bool:
    """A request that puts a new message in a chat."""
    return (endpoint.startswith("send") and endpoint not in NOT_MESSAGES) or endpoint in {
        "copyMessage",
        "forwardMessage",
    }


class BudgetLimiter(BaseRateLimiter[None]):
    """PTB's rate-limiter hook over the ChatBudget: every request the bot makes.

    Messages and edits wait for room in their group (interactive replies in a private chat go
    at once: Telegram lets short bursts pass there, and a 429 is still waited out) and new
    messages for room overall. A 429 pauses the chat for every sender, and the request is sent
    again after retry_after, up to RETRIES times; a request that never reached Telegram
    (never_sent) is sent again with backoff, up to NETWORK_RETRIES times. Requests the outbox
    paced itself get both back instead: it settles them its own way.
    """

    def __init__(
        self,
        budget: ChatBudget,
        *,
        retries: int = RETRIES,
        network_retries: int = NETWORK_RETRIES,
        on_429: Callable[[], None] | None = None,
    ) -> None:
        self.budget = budget
        self.retries = retries
        self.network_retries = network_retries
        self.waited_429 = 0  # requests that met a 429 and were sent again
        self.on_429 = on_429  # counts it (the metrics' retry_after{source="reply"})

    async def initialize(self) -> None:
        """Nothing to set up: the budget lives as long as the application."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat, paced = chat_of(data), _PACED.get()
        new, counted = is_message(endpoint), is_message(endpoint) or endpoint in EDITS
        count = messages_in(endpoint, data)
        attempt = unreached = 0
        while True:
            noted = await self._wait(chat, new=new, counted=counted, paced=paced, count=count)
            try:
                return await callback(*args, **kwargs)
            except NetworkError as error:
                if noted is not None and chat is not None and never_sent(error):
                    self.budget.forget(chat, noted, new=new, count=count)
                if paced or unreached >= self.network_retries or not never_sent(error):
                    raise
                seconds = NETWORK_BACKOFF * 2**unreached
                unreached += 1
                log.warning(
                    "%s to %s could not reach Telegram (%s): sent again in %.1f s",
                    endpoint, chat, error, seconds,
                )  # fmt: skip
                self.budget.waiting += 1  # asleep in the limiter, as for room or a 429
                try:
                    await self.budget.clock.sleep(seconds)
                finally:
                    self.budget.waiting -= 1
            except RetryAfter as error:
                if paced or attempt >= self.retries:
                    raise
                attempt += 1
                seconds = retry_seconds(error)
                self.budget.refused(chat, seconds)
                self.waited_429 += 1
                if self.on_429 is not None:
                    self.on_429()
                log.warning(
                    "%s to %s refused with a flood wait: sent again in %.0f s",
                    endpoint,
                    chat,
                    seconds,
                )

    async def _wait(
        self, chat: int | None, *, new: bool, counted: bool, paced: bool, count: int = 1
    ) -> float | None:
        """Until the request (`count` messages) may go; then it is noted (no await between
        the two), and when is returned (None: nothing noted)."""
        b, clock = self.budget, self.budget.clock
        while True:
            if chat is None or not counted:  # a 429 on a message does not hold other requests
                at = b.global_until
            elif chat < 0 or paced:
                at = b.room_at(chat, count=count)
            else:  # an interactive message or edit in a private chat: only pauses hold it
                at = max(b.paused.get(chat, 0.0), b.global_until)
            if new:
                at = max(at, b.overall_room_at(count))
            wait = at - clock.monotonic()
            if wait <= 0:
                break
            b.waiting += 1
            try:
                await clock.sleep(wait)
            finally:
                b.waiting -= 1
        if counted and chat is not None:
            return b.note(chat, new=new, count=count)
        return None
