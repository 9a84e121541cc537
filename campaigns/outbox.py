"""The states of a broadcast and of one outbox delivery, as stored."""

from __future__ import annotations

from enum import StrEnum


class BroadcastStatus(StrEnum):
    DRAFT = "draft"  # previewed, not yet started
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"  # nothing left to send


class DeliveryStatus(StrEnum):
    """One message in the outbox: pending -> claimed -> sending -> sent, failed or uncertain."""

    PENDING = "pending"
    CLAIMED = "claimed"  # locked by a worker, not yet sent
    SENDING = "sending"  # the request may have gone out
    SENT = "sent"
    FAILED = "failed"  # refused for good
    UNCERTAIN = "uncertain"  # in flight when the bot stopped or timed out: never resent
    CANCELLED = "cancelled"  # its broadcast was cancelled
    SKIPPED = "skipped"  # a run the bot was down for, past the grace window
    HOLDOUT = "holdout"  # a broadcast's member held out of its A/B test: never sent


UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)
MISSED_RUNS = frozenset({DeliveryStatus.SKIPPED, DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN})
