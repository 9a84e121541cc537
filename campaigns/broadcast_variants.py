"""Broadcast A/B tests: variants of the message, a holdout, and what each arm did after.

In the /broadcast body, lines holding only `---` split the text into variants A, B, … (at
most four, none empty); `holdout=10` among the rules keeps that percent of the audience out
(0–50). Each member's arm is `assign(f"broadcast:{id}", member, …)` of campaigns/experiments.py
(a hash: the same in every process and after a restart), the holdout first and the variants
sharing the rest equally. A broadcast's arms are fixed when it is drafted.

The report's measures follow the broadcast funnel (campaigns/funnels.py): a member was
*active* when they wrote or checked in in the group within 3 days of their message, and
*ordered* when they placed an order there within 7 days, counted up to now. The variants'
members are those whose message was sent (from its `sent_at`); the holdout's are all its
members (from the broadcast's start, when they would have had it). Each variant is compared
with the holdout, or with A when nobody is held out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from campaigns.content import PostContent, read_post
from campaigns.errors import DomainError
from campaigns.experiments import (
    HOLDOUT,
    LABELS,
    MAX_VARIANTS,
    ArmResult,
    Comparison,
    arm_result,
    arms,
    assign,
    compare,
    labels,
)
from campaigns.funnels import ACTIVE_WITHIN, ORDER_WITHIN, converted_within
from campaigns.outbox import DeliveryStatus

SEPARATOR = re.compile(r"^[ \t]*-{3}[ \t]*$", re.MULTILINE)  # a line holding only ---


class VariantProblem(StrEnum):
    TOO_MANY = "too_many"  # more than MAX_VARIANTS
    EMPTY = "empty"  # a variant with no text


@dataclass
class VariantsRefused(DomainError, ValueError):
    """The body's variants cannot be sent as written."""

    problem: VariantProblem
    count: int = 0  # how many variants there were (TOO_MANY)
    label: str = ""  # the empty variant (EMPTY)
    limit: int = MAX_VARIANTS


def split_variants(body: str) -> list[str]:
    """The body's variants, in order (one when it has no `---` line); VariantsRefused for
    more than four or an empty one, nothing else."""
    parts = SEPARATOR.split(body)
    if len(parts) == 1:
        return [body]
    if len(parts) > MAX_VARIANTS:
        raise VariantsRefused(VariantProblem.TOO_MANY, count=len(parts))
    for label, part in zip(LABELS, parts, strict=False):
        if not part.strip():
            raise VariantsRefused(VariantProblem.EMPTY, label=label)
    return [part.strip() for part in parts]


def read_variants(body: str, photo: str | None = None) -> list[PostContent]:
    """Each variant as a post (the photo goes with every one); VariantsRefused, or the
    first variant's ContentRefused that Telegram would refuse."""
    return [read_post(part, photo) for part in split_variants(body)]


def arm_of(broadcast_id: int, user_id: int, variants: int, holdout: int) -> str:
    """The member's arm of this broadcast's test."""
    return assign(f"broadcast:{broadcast_id}", user_id, arms(variants, holdout))


def split(
    broadcast_id: int, targets: Iterable[int], variants: int, holdout: int
) -> dict[str, list[int]]:
    """The recipients by arm, every arm present (empty when nobody landed in it)."""
    out: dict[str, list[int]] = {arm: [] for arm in arms(variants, holdout)}
    for user in targets:
        out[arm_of(broadcast_id, user, variants, holdout)].append(user)
    return out


# --- the report -----------------------------------------------------------------------------


class Measure(StrEnum):
    ACTIVE_3D = "active_3d"  # wrote or checked in within 3 days
    ORDERED_7D = "ordered_7d"  # ordered within 7 days


@dataclass(frozen=True)
class ArmCounts:
    """An arm's members and how many of them converted on each measure."""

    members: int = 0
    active: int = 0
    ordered: int = 0

    def result(self, measure: Measure) -> ArmResult:
        converted = self.active if measure is Measure.ACTIVE_3D else self.ordered
        return arm_result(self.members, converted)


@dataclass(frozen=True)
class Recipient:
    """A member of an arm, from when they count (sent, or the start for the holdout)."""

    user_id: int
    arm: str
    since: dt.datetime


def member_of(
    user_id: int,
    arm: str | None,
    status: str,
    sent_at: dt.datetime | None,
    started_at: dt.datetime | None,
) -> Recipient | None:
    """Who counts in an arm: a variant's member once their message was sent (from then), and
    every member of the holdout (from the broadcast's start)."""
    if arm == HOLDOUT and status == DeliveryStatus.HOLDOUT and started_at is not None:
        return Recipient(user_id, arm, started_at)
    if arm not in {None, HOLDOUT} and status == DeliveryStatus.SENT and sent_at is not None:
        assert arm is not None
        return Recipient(user_id, arm, sent_at)
    return None


def counts_of(
    members: Sequence[Recipient],
    activity: Mapping[int, Sequence[dt.datetime]],
    orders: Mapping[int, Sequence[dt.datetime]],
    now: dt.datetime,
) -> dict[str, ArmCounts]:
    """The rule: per arm, members, those active (a message or check-in) within 3 days of
    their `since` and those who ordered within 7 days, counted up to `now`."""
    tally: dict[str, list[int]] = {}
    for m in members:
        row = tally.setdefault(m.arm, [0, 0, 0])
        row[0] += 1
        row[1] += converted_within(activity.get(m.user_id, ()), m.since, now, ACTIVE_WITHIN)
        row[2] += converted_within(orders.get(m.user_id, ()), m.since, now, ORDER_WITHIN)
    return {arm: ArmCounts(*row) for arm, row in tally.items()}


@dataclass(frozen=True)
class VariantReport:
    """A broadcast's arms (A, B, …, then the holdout when there is one) and their numbers."""

    broadcast_id: int
    variants: int
    holdout: int  # percent
    arms: dict[str, ArmCounts] = field(default_factory=dict)
    counting: bool = False  # a member's 7 days are not over yet: the numbers may still grow

    @property
    def control(self) -> str:
        """What each variant is compared with: the holdout, else variant A."""
        return HOLDOUT if self.holdout else LABELS[0]

    @property
    def order(self) -> list[str]:
        """The arms as shown: the variants, then the holdout."""
        return labels(self.variants) + ([HOLDOUT] if self.holdout else [])

    def counts(self, arm: str) -> ArmCounts:
        return self.arms.get(arm, ArmCounts())

    def tested(self) -> list[str]:
        """The arms compared with the control."""
        return [arm for arm in labels(self.variants) if arm != self.control]

    def test(self, arm: str, measure: Measure) -> Comparison:
        return compare(self.counts(self.control).result(measure), self.counts(arm).result(measure))


def report_of(
    broadcast_id: int,
    *,
    variants: int,
    holdout: int,
    arms: Mapping[str, ArmCounts],
    last_sent: dt.datetime | None,
    now: dt.datetime,
) -> VariantReport:
    """The report: `counting` while the last message's 7 days are not over."""
    counting = last_sent is None or now < last_sent + ORDER_WITHIN
    return VariantReport(broadcast_id, variants, holdout, dict(arms), counting)


class ReportRefusal(StrEnum):
    USAGE = "usage"  # no broadcast id
    UNKNOWN = "unknown"  # no such broadcast in this group
    NOT_STARTED = "not_started"  # a draft, or cancelled before it started


@dataclass
class ReportRefused(DomainError):
    reason: ReportRefusal
    broadcast_id: int | None = None


def parse_report(words: Sequence[str]) -> int:
    """`report <id>` (also `#12`): the broadcast id; ReportRefused(USAGE) for anything else."""
    if len(words) != 2:
        raise ReportRefused(ReportRefusal.USAGE)
    text = words[1].removeprefix("#")
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise ReportRefused(ReportRefusal.USAGE)
    return int(text)
