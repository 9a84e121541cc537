"""The webhook inbox: updates stored before they are acknowledged, leased to workers chat by
chat, and marked done once their effects are committed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnElement, Table, delete, exists, func, or_, select, update

from storage.models import InboxRow
from storage.repositories.base import Repository, insert_for

INBOX = cast(Table, InboxRow.__table__)
CHANNEL = "growthbot_inbox"  # PostgreSQL NOTIFY channel: new updates were stored
EARLIER = INBOX.alias("earlier")


@dataclass(frozen=True)
class InboxItem:
    """One leased update: its id, the chat it is ordered in, and its JSON."""

    update_id: int
    chat_id: int
    body: str
    attempts: int = 0  # earlier runs whose handler failed


class SqlInbox(Repository):
    async def store(
        self, bot_id: int, update_id: int, chat_id: int, body: str, at: dt.datetime
    ) -> bool:
        """Insert the update; False when its id is already there (a redelivery)."""
        stmt = (
            insert_for(self.session, INBOX)
            .values(bot_id=bot_id, update_id=update_id, chat_id=chat_id, body=body, received_at=at)
            .on_conflict_do_nothing(index_elements=["bot_id", "update_id"])
            .returning(INBOX.c.update_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def store_many(
        self, bot_id: int, updates: Sequence[tuple[int, int, str]], at: dt.datetime
    ) -> set[int]:
        """Insert (update_id, chat_id, body) rows in one statement; returns the new ids."""
        if not updates:
            return set()
        stmt = (
            insert_for(self.session, INBOX)
            .values(
                [
                    {"bot_id": bot_id, "update_id": u, "chat_id": c, "body": b, "received_at": at}
                    for u, c, b in updates
                ]
            )
            .on_conflict_do_nothing(index_elements=["bot_id", "update_id"])
            .returning(INBOX.c.update_id)
        )
        return set((await self.session.execute(stmt)).scalars())

    async def announce(self) -> None:
        """Tell listening workers (PostgreSQL LISTEN) that updates were stored; delivered
        when this transaction commits, never before. SQLite has one process: nothing to do."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(select(func.pg_notify(CHANNEL, "")))

    async def claim(
        self,
        bot_id: int,
        holder: str,
        now: dt.datetime,
        until: dt.datetime,
        *,
        chats: int,
        per_chat: int,
    ) -> list[InboxItem]:
        """Lease the pending updates of up to `chats` chats, oldest chats first, at most
        `per_chat` each, in update order.

        A chat is taken only at its head (its oldest pending update) and only when that head
        is not leased: while anyone holds a chat's head, none of its later updates can be
        taken, since they are not heads. So one worker at a time has a chat, and a chat's
        updates run in order even across workers. Heads are locked with SKIP LOCKED (two
        workers claiming at once take different chats); SQLite has one writer anyway.
        """
        pending = INBOX.c.done_at.is_(None)
        earlier = (
            exists()
            .where(
                EARLIER.c.bot_id == INBOX.c.bot_id,
                EARLIER.c.chat_id == INBOX.c.chat_id,
                EARLIER.c.done_at.is_(None),
                EARLIER.c.update_id < INBOX.c.update_id,
            )
            .correlate(INBOX)
        )
        heads = (
            select(INBOX.c.chat_id)
            .where(
                INBOX.c.bot_id == bot_id,
                pending,
                or_(INBOX.c.lease_until.is_(None), INBOX.c.lease_until < now),
                ~earlier,
            )
            .order_by(INBOX.c.update_id)
            .limit(chats)
            .with_for_update(skip_locked=True)
        )
        chat_ids = list((await self.session.execute(heads)).scalars())
        if not chat_ids:
            return []
        # Ids first, then an UPDATE by primary key: a subquery inside the UPDATE can be
        # planned as a loop over the whole backlog when the statistics still describe an
        # empty table (a backlog delivered at start-up), which took minutes for 20,000 rows.
        ranked = (
            select(
                INBOX.c.update_id,
                func.row_number()
                .over(partition_by=INBOX.c.chat_id, order_by=INBOX.c.update_id)
                .label("n"),
            )
            .where(INBOX.c.bot_id == bot_id, pending, INBOX.c.chat_id.in_(chat_ids))
            .subquery()
        )
        ids = list(
            (
                await self.session.execute(select(ranked.c.update_id).where(ranked.c.n <= per_chat))
            ).scalars()
        )
        taken = await self.session.execute(
            update(INBOX)
            .where(INBOX.c.bot_id == bot_id, pending, INBOX.c.update_id.in_(ids))
            .values(holder=holder, lease_until=until)
            .returning(INBOX.c.update_id, INBOX.c.chat_id, INBOX.c.body, INBOX.c.attempts)
        )
        items = [InboxItem(u, c, b or "", n) for u, c, b, n in taken]
        return sorted(items, key=lambda i: i.update_id)

    async def renew(
        self, bot_id: int, holder: str, update_ids: Collection[int], until: dt.datetime
    ) -> int:
        """Extend the lease on updates still held and pending; returns how many."""
        if not update_ids:
            return 0
        result = await self.session.execute(
            update(INBOX)
            .where(*self._held(bot_id, holder, update_ids))
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def done(
        self, bot_id: int, holder: str, update_ids: Collection[int], at: dt.datetime
    ) -> int:
        """Mark updates done (their body is dropped); only those this holder still holds."""
        if not update_ids:
            return 0
        result = await self.session.execute(
            update(INBOX)
            .where(*self._held(bot_id, holder, update_ids))
            .values(done_at=at, body=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def release(self, bot_id: int, holder: str, update_ids: Collection[int]) -> int:
        """Give back held updates that were not processed: free for any worker at once."""
        if not update_ids:
            return 0
        result = await self.session.execute(
            update(INBOX)
            .where(*self._held(bot_id, holder, update_ids))
            .values(holder=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def retry_later(self, bot_id: int, holder: str, update_id: int, at: dt.datetime) -> int:
        """A failed run: count it and give the update back, free only from `at`. It is its
        chat's head, so the chat's later updates wait too and their order holds."""
        result = await self.session.execute(
            update(INBOX)
            .where(*self._held(bot_id, holder, [update_id]))
            .values(holder=None, lease_until=at, attempts=INBOX.c.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def holders(self, bot_id: int) -> list[str]:
        """Workers holding pending updates now or until their lease runs out."""
        found = await self.session.execute(
            select(INBOX.c.holder)
            .where(INBOX.c.bot_id == bot_id, INBOX.c.done_at.is_(None), INBOX.c.holder.is_not(None))
            .distinct()
        )
        return [h for h in found.scalars() if h is not None]

    async def release_all(self, bot_id: int, holder: str) -> int:
        """Free every pending update `holder` has (a worker known to be gone)."""
        result = await self.session.execute(
            update(INBOX)
            .where(INBOX.c.bot_id == bot_id, INBOX.c.done_at.is_(None), INBOX.c.holder == holder)
            .values(holder=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    @staticmethod
    def _held(
        bot_id: int, holder: str, update_ids: Collection[int]
    ) -> tuple[ColumnElement[bool], ...]:
        return (
            INBOX.c.bot_id == bot_id,
            INBOX.c.update_id.in_(list(update_ids)),
            INBOX.c.holder == holder,
            INBOX.c.done_at.is_(None),
        )

    async def depth(self, bot_id: int | None = None) -> int:
        """Updates stored and not yet done (the backlog workers have to drain)."""
        query = select(func.count()).select_from(INBOX).where(INBOX.c.done_at.is_(None))
        if bot_id is not None:
            query = query.where(INBOX.c.bot_id == bot_id)
        return int((await self.session.execute(query)).scalar_one())

    async def prune(self, before: dt.datetime) -> int:
        """Forget done updates received before `before` (Telegram no longer redelivers them)."""
        result = await self.session.execute(
            delete(INBOX).where(INBOX.c.received_at < before, INBOX.c.done_at.is_not(None))
        )
        return int(getattr(result, "rowcount", 0) or 0)
