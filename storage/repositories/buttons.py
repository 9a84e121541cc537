"""Messages the bot sent with buttons: a tap counts only on the message sent for its object."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from campaigns.access import ButtonKind
from storage.models import ButtonMessageRow
from storage.repositories.base import Repository, insert_for

BM = ButtonMessageRow


class SqlButtons(Repository):
    async def remember(
        self, kind: ButtonKind, object_id: int, chat_id: int, message_id: int, at: dt.datetime
    ) -> None:
        await self.session.execute(
            insert_for(self.session, BM)
            .values(
                kind=str(kind),
                object_id=object_id,
                chat_id=chat_id,
                message_id=message_id,
                created_at=at,
            )
            .on_conflict_do_nothing()
        )

    async def sent_for(
        self, kind: ButtonKind, object_id: int, chat_id: int, message_id: int
    ) -> bool:
        found = await self.session.scalar(
            select(BM.id).where(
                BM.chat_id == chat_id,
                BM.message_id == message_id,
                BM.kind == str(kind),
                BM.object_id == object_id,
            )
        )
        return found is not None
