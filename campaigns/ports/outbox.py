"""The outbox: one row per message to send, claimed, sent and recorded once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from campaigns.content import PostContent
from campaigns.outbox import DeliveryStatus
from campaigns.surveys import Survey


@dataclass(frozen=True)
class Delivery:
    """One claimed outbox row with what it should send."""

    id: int
    kind: str  # post, broadcast, sequence, journey, survey
    target_chat: int
    content: PostContent
    attempts: int
    due_at: dt.datetime
    post_id: int | None = None
    broadcast_id: int | None = None
    member_id: int | None = None
    replace_message: int | None = None  # the previous run's message, to delete
    group_pk: int | None = None  # the group whose post, step or broadcast this is
    survey: Survey | None = None  # a survey's question: its rating buttons go under it


class Outbox(Protocol):
    async def add_run(
        self,
        post_id: int,
        target_chat: int,
        due_at: dt.datetime,
        *,
        status: DeliveryStatus,
        error: str | None,
    ) -> bool:
        """One run of a post; False if this run already exists."""

    async def add_recipients(
        self,
        broadcast_id: int,
        targets: Sequence[int],
        due_at: dt.datetime,
        *,
        arm: str | None = None,
        content: PostContent | None = None,
        status: DeliveryStatus = DeliveryStatus.PENDING,
    ) -> int:
        """A row per target (one per member and broadcast, whichever process adds it first);
        an A/B test's rows carry their `arm` and the variant's `content`, which the sender
        uses instead of the broadcast's. How many rows were added."""

    async def add_step_run(
        self,
        step_id: int,
        member_id: int,
        target_chat: int,
        due_at: dt.datetime,
        *,
        status: DeliveryStatus = DeliveryStatus.PENDING,
        error: str | None = None,
    ) -> bool: ...

    async def add_journey(
        self, run_id: int, target_chat: int, content: PostContent, due_at: dt.datetime
    ) -> bool:
        """A journey step's message (its content stored with the row): privately to a member
        (`target_chat` is their user id), or to the group (its Telegram id, negative) for a
        group-wide step. False if the run has one already."""

    async def add_survey(
        self, survey_id: int, targets: Sequence[int], content: PostContent, due_at: dt.datetime
    ) -> int:
        """A survey's question privately to each member (`targets`: their user ids), one row
        per survey and member whichever process adds it first; how many rows were added."""

    async def cancel_survey(self, survey_id: int) -> int:
        """A closed survey's questions not yet on their way are never sent."""

    async def survey_counts(self, survey_id: int) -> dict[str, int]:
        """A survey's private messages per delivery status."""

    async def claim(self, worker: str, now: dt.datetime, limit: int) -> list[Delivery]:
        """Due pending rows, locked and marked claimed by `worker` (skipping rows another
        process holds), oldest first; paused or cancelled broadcasts are left alone."""

    async def start(self, delivery_id: int, worker: str, at: dt.datetime) -> bool:
        """claimed -> sending, just before the request goes out; False if another process
        took the row, or its broadcast was paused meanwhile (the row goes back to pending)."""

    async def record(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        at: dt.datetime,
        message_id: int | None = None,
        error: str | None = None,
        retry_at: dt.datetime | None = None,
    ) -> None:
        """The outcome; with `retry_at` the row goes back to pending for then."""

    async def release(self, worker: str) -> int:
        """This worker's claimed rows back to pending (a clean shutdown)."""

    async def holders(self) -> list[str]:
        """Workers holding claimed or sending rows."""

    async def recover(
        self, now: dt.datetime, lease: dt.timedelta, *, worker: str | None = None
    ) -> tuple[int, int]:
        """After a crash: stale claimed rows (or all of `worker`'s) back to pending; such
        sending rows (the request may have gone out) marked uncertain, never resent."""

    async def counts(self, broadcast_id: int) -> dict[str, int]: ...

    async def cancel(self, broadcast_id: int, at: dt.datetime) -> int: ...

    async def rate(self, broadcast_id: int, since: dt.datetime) -> int:
        """Messages of the broadcast sent since `since` (for the ETA)."""

    async def waiting(self, now: dt.datetime) -> int:
        """Rows due by `now` and not yet sent (pending, claimed or sending), leaving out
        those of a broadcast that is not sending (paused: they wait on an admin, not on us)."""
