"""Coupon offers and issued coupons: stock, per-member slots, single use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from campaigns.coupons import CouponState, OfferPurpose, Template
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
    ) -> int: ...

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
    ) -> bool:
        """Insert the coupon; False if that slot (or, rarely, that code) is taken."""

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
