"""A clock for tests (bot.clock.Clock): time stands still until the test moves it.

Nothing in a test waits for real. A sleeper parks until the time reaches its deadline;
`advance()` moves the time and wakes whoever is due, in deadline order. Inside `run()` (the
awaitable it runs and every task that starts) a sleep moves the time to its own deadline at
once instead, so the outbox sender's pacing and flood waits take no real time, while the
activity buffer's tick and a deal post's delayed edit, started elsewhere, stay parked
until a test advances the time. `held()` stops time even inside `run()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import itertools
from collections.abc import Awaitable, Iterator
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
BASE = 10_000.0  # the monotonic reading at the start: a machine that has been up a while
_RUNNING: ContextVar[bool] = ContextVar("fake_clock_running", default=False)


class FakeClock:
    """`now()`, `monotonic()` and `sleep()` on one virtual time line."""

    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self.elapsed = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None], bool]] = []
        self._order = itertools.count()
        self._holding = False
        self._slept = asyncio.Event()

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return BASE + self.elapsed

    async def sleep(self, seconds: float) -> None:
        deadline, running = self.elapsed + max(seconds, 0.0), _RUNNING.get()
        self._slept.set()
        if running and not self._holding:
            self._move_to(deadline)
            await asyncio.sleep(0)  # a real sleep would let others run: so does this one
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (deadline, next(self._order), future, running))
        await future

    def advance(self, seconds: float) -> None:
        """Move the time on; everything due by then wakes, the earliest first."""
        self._move_to(self.elapsed + seconds)

    async def run(self, awaitable: Awaitable[T]) -> T:
        """Await this with time passing by itself: each sleep under it ends at once."""
        token = _RUNNING.set(True)
        try:
            task = asyncio.ensure_future(awaitable)  # the task copies the context now
        finally:
            _RUNNING.reset(token)
        return await task

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Time stands still, even under `run()`, until the block ends; then the sleepers
        from `run()` that parked meanwhile wake at their deadlines."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            parked = [deadline for deadline, _, _, running in self._sleepers if running]
            if parked:
                self._move_to(max(parked))

    async def next_sleep(self) -> None:
        """Return when something next goes to sleep on this clock (reached a wait)."""
        self._slept.clear()
        await self._slept.wait()

    def _move_to(self, target: float) -> None:
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future, _ = heapq.heappop(self._sleepers)
            self.elapsed = max(self.elapsed, deadline)
            if not future.done():  # a cancelled sleeper is simply dropped
                future.set_result(None)
        self.elapsed = max(self.elapsed, target)
