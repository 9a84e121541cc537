"""Rehearsals at start: the hot paths' statements compiled before a member needs them."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from campaigns.checkin import local_day
from campaigns.members import ChatInfo, Person
from campaigns.ports import UnitOfWork
from campaigns.ports.members import MessageSeen
from campaigns.services.checkin import CheckedIn, check_in
from campaigns.services.members import record_messages
from campaigns.settings import ChatSettings

log = logging.getLogger(__name__)

NOBODY = Person(user_id=0, first_name="rehearsal")  # no Telegram user has id 0
NOWHERE = ChatInfo(chat_id=-1, type="supergroup", title="rehearsal")  # nor is -1 a group


async def rehearse(
    rehearsal: Callable[[], UnitOfWork], *, bot_id: int, defaults: ChatSettings, now: dt.datetime
) -> None:
    """A made-up group message and a made-up check-in, each through a unit of work that
    keeps nothing (`rehearsal`: its commit rolls back).

    SQLAlchemy compiles a statement the first time a process runs it and then caches it: the
    first activity batch compiled a dozen statements on the event loop (holding it 10-20 ms
    amid the chatter), and the first check-in as many again. The made-up group, person and
    update (-1, 0, -1) are no one's. A rehearsal that fails is logged and the bot starts
    anyway: it only spares the first members a few milliseconds.
    """
    try:
        await _rehearse(rehearsal, bot_id=bot_id, defaults=defaults, now=now)
    except Exception as error:
        summary = str(error).split("\n", 1)[0][:200]  # not the statement's SQL and values
        log.warning("the start's rehearsal failed (the first writes compile instead): %s", summary)


async def _rehearse(
    rehearsal: Callable[[], UnitOfWork], *, bot_id: int, defaults: ChatSettings, now: dt.datetime
) -> None:
    message = MessageSeen(update_id=-1, chat=NOWHERE, person=NOBODY, at=now, kind="text")
    await record_messages(rehearsal(), bot_id=bot_id, messages=[message], at=now, defaults=defaults)
    known = CheckedIn()  # as if NOBODY had checked in today: the quick refusal too
    known.saw(NOWHERE.chat_id, NOBODY.user_id, local_day(now, defaults.timezone))
    await check_in(
        rehearsal(), bot_id=bot_id, update_id=-1, chat=NOWHERE, person=NOBODY, at=now,
        defaults=defaults, settings=defaults, checked_in=known,
    )  # fmt: skip
