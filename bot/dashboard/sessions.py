"""Dashboard sessions and one-time sign-ins, kept in the database.

The cookie is signed (bot/dashboard/auth.py) and names a session by a random secret; the
session's row is keyed by that secret's SHA-256, so the database never holds a usable
cookie. Every request asks the row: signing out ends the session for every copy of the
cookie, in every process, at once. One-time sign-ins (a login link's nonce, an initData's
signature) are spent by inserting a unique key: once, across processes and restarts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable

from storage.uow import SqlUnitOfWork

SWEEP_EVERY = dt.timedelta(hours=1)  # expired rows are deleted at most this often


def _key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SessionStore:
    def __init__(
        self,
        uow: Callable[[], SqlUnitOfWork],
        now: Callable[[], dt.datetime],
        lifetime: dt.timedelta,
    ) -> None:
        self.uow, self.now, self.lifetime = uow, now, lifetime
        self._swept: dt.datetime | None = None

    async def open(self, user_id: int) -> str:
        """A new session for the person: the secret the cookie carries."""
        secret, now = secrets.token_urlsafe(24), self.now()
        async with self.uow() as work:
            await work.dashboard.open(_key(secret), user_id, now, now + self.lifetime)
            if self._swept is None or now - self._swept >= SWEEP_EVERY:
                self._swept = now
                await work.dashboard.forget_before(now)
            await work.commit()
        return secret

    async def alive(self, secret: str, user_id: int) -> bool:
        if not secret:
            return False
        async with self.uow() as work:
            return await work.dashboard.alive(_key(secret), user_id, self.now())

    async def end(self, secret: str) -> None:
        async with self.uow() as work:
            await work.dashboard.end(_key(secret), self.now())
            await work.commit()

    async def spend(self, kind: str, value: str, usable_for: dt.timedelta) -> bool:
        """True the first time `kind:value` is spent, False ever after (while it could still
        be used: the row is kept until then)."""
        async with self.uow() as work:
            first = await work.dashboard.spend(f"{kind}:{_key(value)}", self.now() + usable_for)
            await work.commit()
        return first
