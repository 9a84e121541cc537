"""Coupon offers and issued coupons: stock, per-member slots, single use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from campaigns.coupon_variants import HeldOut, Issue
from campaigns.coupons import CouponState, OfferPurpose, Template
from campaigns.experiments import LABELS, is_experiment
from campaigns.ports.members import Contact


@dataclass(frozen=True)
class TemplateRecord:
    """A stored coupon offer."""

    id: int
    chat_pk: int
    name: str
    template: Template
    stock: int | None
    issued: int
    per_member: int
    active: bool
    audience_joined_days: int | None = None
    purpose: OfferPurpose = OfferPurpose.OFFER
    # An A/B test (campaigns/coupon_variants.py): each variant's terms, A first (empty for an
    # offer with one set of terms and no holdout), and the percent an audience grant holds out.
    variants: tuple[Template, ...] = ()
    holdout: int = 0
    planned: int | None = None  # members per arm to reach before the test is read
    arm: str | None = None  # set on a member's coupon: the arm whose terms `template` holds

    @property
    def is_test(self) -> bool:
        return is_experiment(len(self.variants), self.holdout)

    def for_arm(self, arm: str | None) -> TemplateRecord:
        """The offer as a member of `arm` holds it: that variant's terms (None: as it is)."""
        if arm is None or arm not in LABELS[: len(self.variants)]:
            return self
        return replace(self, template=self.variants[LABELS.index(arm)], arm=arm)


@dataclass(frozen=True)
class CouponRecord:
    """An issued coupon with its offer."""

    id: int
    code: str
    user_id: int
    chat_pk: int
    status: CouponState
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    redeemed_at: dt.datetime | None
    discount: int | None
    offer: TemplateRecord


class Coupons(Protocol):
    async def add_template(
        self,
        chat_pk: int,
        *,
        name: str,
        template: Template,
        stock: int | None,
        per_member: int,
        at: dt.datetime,
        audience_joined_days: int | None = None,
        purpose: OfferPurpose = OfferPurpose.OFFER,
        variants: Sequence[Template] = (),
        holdout: int = 0,
        planned: int | None = None,
    ) -> int:
        """A new offer; `variants` (A first, A's terms being `template`'s) make it a test."""

    async def template(self, template_id: int) -> TemplateRecord | None: ...

    async def end(self, template_id: int) -> bool:
        """No more coupons of this offer (claims, grants, rewards); False if already ended."""

    async def offers_of(self, chat_pk: int) -> list[tuple[TemplateRecord, int]]:
        """The group's own offers (not group-buy payouts), newest first, each with how many
        of its coupons were redeemed."""

    async def held(self, template_id: int, user_id: int) -> int:
        """How many of this offer the member has been issued."""

    async def issue(
        self,
        offer: TemplateRecord,
        user_id: int,
        *,
        code: str,
        slot: int,
        source: str,
        at: dt.datetime,
        expires_at: dt.datetime | None,
        arm: str | None = None,
    ) -> bool:
        """Insert the coupon (of `arm` in a test); False if that slot (or, rarely, that
        code) is taken."""

    async def hold_out(self, offer: TemplateRecord, user_id: int, at: dt.datetime) -> bool:
        """Record that an audience grant held the member out of the offer's test (no coupon);
        False when they were already (one row per offer and member)."""

    async def test_members(self, template_id: int) -> tuple[list[Issue], list[HeldOut]]:
        """The offer's coupons (member, arm, issued, by an audience grant, used) and the
        members held out: what its A/B report counts."""

    async def take_stock(self, template_id: int) -> bool:
        """Count one more issued, unless the stock is gone (a conditional UPDATE)."""

    async def release_stock(self, template_id: int) -> None:
        """Give back one taken by a claim that then failed."""

    async def by_code(self, code: str) -> CouponRecord | None: ...

    async def redeem(
        self, coupon_id: int, *, by: int, order_amount: int, discount: int, at: dt.datetime
    ) -> bool:
        """Mark used if still active; of racing redemptions exactly one gets True."""

    async def of_member(self, user_id: int) -> list[CouponRecord]: ...

    async def of_chat(self, chat_pk: int) -> list[CouponRecord]: ...

    async def counts(self, chat_pk: int) -> dict[int, tuple[int, int]]:
        """Per member: (coupons claimed, coupons redeemed)."""

    async def claim_reminders(
        self, now: dt.datetime, until: dt.datetime, limit: int
    ) -> list[tuple[CouponRecord, Contact, str | None, str]]:
        """Coupons `reminder_due` between `now` and `until` whose owner can be messaged, marked
        reminded.

        Returns (coupon, owner, group title, group timezone); marking first means a crash
        never repeats one.
        """
