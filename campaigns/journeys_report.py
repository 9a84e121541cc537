"""A journey's report: what the members it reached did afterwards, against its holdout.

A member *returned* within N days when their first message, check-in or order after their
step (the message, or in the holdout the moment they would have had it) came within N days
of it. Rates are over the members whose N days are over, so a report read mid-campaign is
not diluted by members who have not had their chance yet. GMV counts the orders members
placed within 14 days of their step, whatever coupon they used; *redeemed* counts the
journey's own coupons that were used. The arms compare members as assigned (messaged or
held out); *delivered* says how many messages reached their member.

Each measure (returned within 7 or 14 days, bought within 14) is an A/B test of the messaged
arm against the holdout (campaigns/experiments.py): over the members whose days are over, so
both arms had the same chance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from campaigns.experiments import ArmResult, Comparison, arm_result, compare
from campaigns.funnels import BOUGHT_WITHIN
from campaigns.journeys import GROUP_MEMBER, Journey, RunStatus
from campaigns.ports.journeys import Outcomes, RunRecord

RETURN_WINDOWS = (7, 14)
ORDER_WINDOW = BOUGHT_WITHIN


class Measure(StrEnum):
    """What counts as converting, in a report's A/B tests."""

    RETURNED_7 = "returned_7"
    RETURNED_14 = "returned_14"
    BOUGHT_14 = "bought_14"  # placed an order within 14 days


@dataclass(frozen=True)
class Arm:
    """The messaged members, or the holdout: how many, how many returned, what they bought."""

    members: int = 0
    delivered: int = 0  # messages that reached the member
    matured7: int = 0  # members whose 7 days are over
    returned7: int = 0
    matured14: int = 0
    returned14: int = 0
    buyers: int = 0  # placed an order within 14 days
    gmv: int = 0  # minor units
    bought14: int = 0  # buyers among the members whose 14 days are over

    def rate(self, days: int) -> float | None:
        matured, returned = (
            (self.matured7, self.returned7) if days == 7 else (self.matured14, self.returned14)
        )
        return returned / matured if matured else None

    def result(self, measure: Measure) -> ArmResult:
        """The arm's members whose days are over, and how many of them converted."""
        size, converted = {
            Measure.RETURNED_7: (self.matured7, self.returned7),
            Measure.RETURNED_14: (self.matured14, self.returned14),
            Measure.BOUGHT_14: (self.matured14, self.bought14),
        }[measure]
        return arm_result(size, converted)


@dataclass(frozen=True)
class JourneyReport:
    journey: Journey
    days: int  # the runs of the last `days` days
    entered: int  # members who entered (first steps, holdout included)
    messaged: Arm
    holdout: Arm
    second_steps: int  # win-back's second messages
    coupons: int  # coupons sent with the messages
    redeemed: int  # of those, used

    def test(self, measure: Measure) -> Comparison | None:
        """The messaged against the holdout; None when the journey held nobody out (or
        messaged nobody), so there is nothing to compare."""
        if not self.messaged.members or not self.holdout.members:
            return None
        return compare(self.holdout.result(measure), self.messaged.result(measure))


def _back(run: RunRecord, outcomes: Outcomes) -> dt.datetime | None:
    """The member's first activity after the step: a message, a check-in or an order."""
    placed = [at for at, _ in outcomes.orders.get(run.user_id, []) if at > run.at]
    times = [t for t in (run.first_active, min(placed, default=None)) if t is not None]
    return min(times, default=None)


def _arm(runs: list[RunRecord], outcomes: Outcomes, now: dt.datetime) -> Arm:
    names = ("matured7", "returned7", "matured14", "returned14", "buyers", "bought14")
    counts = dict.fromkeys(names, 0)
    gmv = 0
    for run in runs:
        back = _back(run, outcomes)
        for window in RETURN_WINDOWS:
            end = run.at + dt.timedelta(days=window)
            if now < end:
                continue
            counts[f"matured{window}"] += 1
            if back is not None and back <= end:
                counts[f"returned{window}"] += 1
        spent = [
            a
            for at, a in outcomes.orders.get(run.user_id, [])
            if run.at < at <= run.at + ORDER_WINDOW
        ]
        if spent:
            counts["buyers"] += 1
            gmv += sum(spent)
            if now >= run.at + ORDER_WINDOW:
                counts["bought14"] += 1
    delivered = sum(1 for r in runs if r.delivered)
    return Arm(members=len(runs), delivered=delivered, gmv=gmv, **counts)


def report_of(
    journey: Journey,
    runs: list[RunRecord],
    outcomes: Outcomes,
    now: dt.datetime,
    days: int,
) -> JourneyReport:
    firsts = [r for r in runs if r.step == 1 and r.user_id != GROUP_MEMBER]  # not a group's
    messaged = [r for r in firsts if r.status is RunStatus.QUEUED]
    held = [r for r in firsts if r.status is RunStatus.HOLDOUT]
    codes = [r.coupon_code for r in runs if r.coupon_code is not None]
    return JourneyReport(
        journey=journey,
        days=days,
        entered=len(firsts),
        messaged=_arm(messaged, outcomes, now),
        holdout=_arm(held, outcomes, now),
        second_steps=sum(1 for r in runs if r.step == 2 and r.status is RunStatus.QUEUED),
        coupons=len(codes),
        redeemed=sum(1 for c in codes if c in outcomes.redeemed),
    )
