"""The mod log's one writer: every moderation action (anti-spam, flood, warnings, the join
captcha, raid mode, undo) is recorded once, and each Telegram carried out is also an event in
the activity store, which `/modlog`'s totals and analytics count."""

from __future__ import annotations

import datetime as dt

from campaigns.members import EventKind
from campaigns.ports import UnitOfWork
from campaigns.ports.moderation import NewAction


def action_event(
    action: NewAction,
) -> tuple[int, int, EventKind, dt.datetime, None, dict[str, str]]:
    """An action as an activity event: its kind and rule."""
    meta = {"action": str(action.kind), "rule": str(action.rule)}
    return (action.chat_pk, action.user_id, EventKind.MODERATION, action.at, None, meta)


async def log_actions(uow: UnitOfWork, actions: list[NewAction]) -> list[int | None]:
    """Record actions once each (None: recorded already); those Telegram did (not failed)
    are events too."""
    ids = [await uow.moderation.record(a) for a in actions]
    done = [a for a, i in zip(actions, ids, strict=True) if i is not None and a.failed is None]
    await uow.events.add([action_event(a) for a in done])
    return ids
