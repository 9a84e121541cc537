"""The time the bot reads and waits on, passed in by the composition root.

Workers, jobs and handlers never call the system clock themselves, so a test can hand the
application a clock that moves only when the test (or something waiting on it) says so.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    """Wall time for records, a monotonic reading for spacing requests, and a wait."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (rate limits and intervals)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait this long (measured on `monotonic`)."""
        ...


class SystemClock:
    """The real clock: what the bot uses outside tests."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM = SystemClock()
