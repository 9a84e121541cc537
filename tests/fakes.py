"""Small hand-written fakes for the ports the use cases take (cosmicpython style)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from campaigns.access import ButtonKind, Tap

POSTED = Tap(chat_id=-1, message_id=1)  # where the bot's post with the buttons is, in tests
AT = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)


@dataclass
class FakeGate:
    """Telegram's word on who is in which group, as a test sets it up."""

    members: set[tuple[int, int]] = field(default_factory=set)  # (chat id, user id)
    admins: set[tuple[int, int]] = field(default_factory=set)
    owners: set[int] = field(default_factory=set)
    everyone: bool = False  # every user is a member of every group

    def is_owner(self, user_id: int) -> bool:
        return user_id in self.owners

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        return user_id in self.owners or (chat_id, user_id) in self.admins

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        return self.everyone or (chat_id, user_id) in self.members


EVERYONE = FakeGate(everyone=True)


async def posted(uow_factory: Callable[[], Any], kind: ButtonKind, object_id: int) -> Tap:
    """The bot has posted the object's buttons (on POSTED); taps there are honoured."""
    async with uow_factory() as uow:
        await uow.buttons.remember(kind, object_id, POSTED.chat_id, POSTED.message_id, AT)
        await uow.commit()
    return POSTED


async def claim_posted(uow: Any, **kwargs: Any) -> Any:
    """A present member taps 🎟 on the offer's post (recorded first, in its own transaction)."""
    from campaigns.services import coupons

    async with uow as work:
        await work.buttons.remember(
            ButtonKind.COUPON, kwargs["template_id"], POSTED.chat_id, POSTED.message_id, AT
        )
        await work.commit()
    return await coupons.claim(uow, gate=EVERYONE, tap=POSTED, **kwargs)
