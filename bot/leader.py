"""The jobs leader: of all processes on one database, one runs the scheduled jobs and sends
the outbox.

The lease is a row (`leases`: name, holder, expires_at) taken or renewed in one statement
that succeeds only for its holder or once it has expired, so the database decides who leads.
The leader renews it every third of its length. Locally a process counts itself leader only
until the renewal's start plus the lease length less a margin for clock skew between hosts:
it stops before anyone else may start, even if its renewals stall. A clean stop lets the
lease expire at once.

Why a lease row and not pg_try_advisory_lock: it works the same on SQLite (one process, one
code path), needs no connection held open for the process's life, and a leader cut off from
the database loses it after a known time instead of whenever TCP notices.

Why the leader alone sends the outbox rather than every process drawing from a token bucket
row: Telegram refuses more than 30 messages in any one second, which takes evenly spaced
sends (bot/outbox.py), and processes drawing tokens at the same instant would send in bursts;
a bucket row would also cost a write per message, and the 429 pauses of each chat would be
spread over processes. One process sends 29 a second with room to spare (bench_broadcast.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
from collections.abc import Awaitable, Callable

from bot.clock import SYSTEM, Clock
from bot.logs import log_failure
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)
JOBS = "jobs"
SKEW = 1.0  # seconds the hosts' clocks may disagree (NTP keeps them far closer)


class Leadership:
    """Whether this process leads; unstarted (tests, the demo: one process) it always does."""

    def __init__(
        self,
        uow: Callable[[], SqlUnitOfWork],
        holder: str,
        *,
        ttl: float = 15.0,
        name: str = JOBS,
        clock: Clock = SYSTEM,
        dead: Callable[[str], bool] = lambda _: False,
    ) -> None:
        self.uow, self.holder, self.ttl, self.name, self.clock = uow, holder, ttl, name, clock
        # Whether a holder is known to be gone (a process of this host that no longer runs):
        # its lease is taken over at once instead of after it expires.
        self.dead = dead
        self.margin = min(SKEW, ttl / 5)
        self.managed = False  # set by start(): from then on only the lease makes a leader
        self._until = -math.inf  # monotonic deadline of the lease as this process knows it
        self.on_gain: Callable[[], Awaitable[None]] | None = None
        self.gained = 0  # times this process became leader

    @property
    def leader(self) -> bool:
        """True while this process may run the jobs and send the outbox."""
        return not self.managed or self.clock.monotonic() < self._until

    async def start(self) -> bool:
        """From now on lead only with the lease; tries to take it at once."""
        self.managed = True
        return await self.renew()

    async def renew(self, _: object = None) -> bool:
        """Take or renew the lease (every ttl/3, from the job queue); True while leader."""
        was = self.leader
        started, now = self.clock.monotonic(), self.clock.now()
        try:
            until = now + dt.timedelta(seconds=self.ttl)
            async with self.uow() as work:
                held = await work.leases.acquire(self.name, self.holder, now, until)
                other = None if held else await work.leases.holder(self.name, now)
                if other is not None and self.dead(other):
                    held = await work.leases.take_over(self.name, self.holder, other, until)
                    if held:
                        log.info("leader: %s is gone; taking over its lease", other)
                await work.commit()
        except Exception as error:
            # The database is unreachable: keep leading until the known deadline, no longer.
            log_failure(log, error, "leader lease %r not renewed", self.name)
            return self.leader
        if held:
            self._until = started + self.ttl - self.margin
        else:
            self._until = -math.inf
        if held and not was:
            self.gained += 1
            log.info(
                "leader: this process (%s) now runs the scheduled jobs and sends the outbox",
                self.holder,
            )
            if self.on_gain is not None:
                await self.on_gain()
        elif was and not held:
            log.warning("leader: %s lost the lease %r to another process", self.holder, self.name)
        return self.leader

    async def stop(self) -> None:
        """Let the lease expire now, so another process takes over without waiting."""
        if not self.managed or not self.leader:
            return
        self._until = -math.inf
        with contextlib.suppress(Exception):
            async with self.uow() as work:
                await work.leases.release(self.name, self.holder, self.clock.now())
                await work.commit()
            log.info("leader: %s handed the lease %r back", self.holder, self.name)
