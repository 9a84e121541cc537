"""Messages the bot sent with buttons: a tap counts only on the right one."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from campaigns.access import ButtonKind


class Buttons(Protocol):
    """Messages the bot sent with buttons, and the object each was sent for."""

    async def remember(
        self, kind: ButtonKind, object_id: int, chat_id: int, message_id: int, at: dt.datetime
    ) -> None:
        """Record that this message carries buttons for the object (idempotent)."""

    async def sent_for(
        self, kind: ButtonKind, object_id: int, chat_id: int, message_id: int
    ) -> bool:
        """Whether the bot sent this message for this object."""
