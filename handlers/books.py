"""Each group's reply book (watch words, FAQs and their switches) kept in memory, and the
recent alerts and answers this process knows of, so an ordinary group message costs no
database statement and thirty members asking at once cost one.

A book is read once and kept until its group's words, questions or settings change (this
process drops it at once; another process hears PostgreSQL's NOTIFY through
`Deps.forget_settings`), or for BOOK_TTL at most, should a notice be missed. What was
recently alerted or answered only spares the database a claim it would refuse: the
database decides (campaigns/services/watch.py, faq.py).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable, Hashable

from campaigns.listening import ReplyBook

BOOK_TTL = 600.0
MAX_HELD = 10_000  # recent alerts and answers remembered, all groups together


class ReplyBooks:
    """The books by group, and until when an alert or answer is known to be done."""

    def __init__(self, ttl: float = BOOK_TTL) -> None:
        self.ttl = ttl
        self._books: dict[int, tuple[float, ReplyBook]] = {}
        self._held: dict[int, dict[Hashable, dt.datetime]] = {}
        self._size = 0

    async def book(self, chat_id: int, load: Callable[[], Awaitable[ReplyBook]]) -> ReplyBook:
        """The group's book, read with `load` when it is not cached (or is too old)."""
        hit = self._books.get(chat_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        book = await load()
        self._books[chat_id] = (time.monotonic() + self.ttl, book)
        return book

    def forget(self, chat_id: int) -> None:
        """The group's words, questions or settings changed: read them again next time
        (and forget what was held: a shorter cooldown counts at once)."""
        self._books.pop(chat_id, None)
        self._size -= len(self._held.pop(chat_id, {}))

    def held(self, chat_id: int, key: Hashable, at: dt.datetime) -> bool:
        """Whether `key` (a member's alert, a question's answer) is known done until after
        `at`."""
        until = self._held.get(chat_id, {}).get(key)
        return until is not None and at < until

    def hold(self, chat_id: int, key: Hashable, until: dt.datetime) -> None:
        """`key` is done until `until` (the hour of an alert, a question's cooldown)."""
        if self._size >= MAX_HELD:  # the oldest group's go first; the database still decides
            self._size -= len(self._held.pop(next(iter(self._held)), {}))
        group = self._held.setdefault(chat_id, {})
        self._size += key not in group
        group[key] = until
