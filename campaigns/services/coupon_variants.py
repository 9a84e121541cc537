"""Coupon-offer A/B tests: an admin's /coupon new with variant terms, and the report.

Assignment happens where coupons are issued (campaigns/services/coupons.py: `issue_coupon`,
`grant_to_audience`); the rules are campaigns/coupon_variants.py.
"""

from __future__ import annotations

import datetime as dt

from campaigns.coupon_variants import (
    NewOffer,
    NotATest,
    OfferReport,
    assigned_of,
    currency_of,
    report_of,
    templates_of,
)
from campaigns.coupons import Template
from campaigns.ports import UnitOfWork
from campaigns.ports.coupons import TemplateRecord
from campaigns.services.chats import require_chat
from campaigns.services.coupons import create_offer, own_offer

DEFAULT_CURRENCY = "CNY"


async def new_offer(
    uow: UnitOfWork, *, chat_id: int, new: NewOffer, at: dt.datetime, update: tuple[int, int]
) -> TemplateRecord:
    """`/coupon new`: the offer with its variants (an A/B test when there are several, or a
    holdout), in the currency its terms name (¥ when none does). Once per update."""
    currency = currency_of(new.terms, None) or DEFAULT_CURRENCY
    base = Template(new.terms[0].kind, new.terms[0].value, currency, valid_days=new.valid_days)
    variants = templates_of(new.terms, base)
    return await create_offer(
        uow, chat_id=chat_id, name=new.name, template=variants[0], stock=new.stock,
        per_member=new.per_member, at=at, variants=variants if len(variants) > 1 else (),
        holdout=new.holdout, planned=new.planned, update=update,
    )  # fmt: skip


async def offer_report(
    uow: UnitOfWork, *, chat_id: int, template_id: int, now: dt.datetime
) -> tuple[TemplateRecord, OfferReport]:
    """The offer's A/B test: each arm's members, redemptions, orders and GMV within 14 days;
    only for an offer of this group (another group's id is unknown here)."""
    async with uow:
        record = await require_chat(uow, chat_id)
        offer = await own_offer(uow, record.pk, template_id)
        if not offer.is_test:
            raise NotATest(template_id)
        issues, held = await uow.coupons.test_members(offer.id)
        members = assigned_of(issues, held)
        since = min((m.since for m in members), default=now)
        orders = await uow.orders.placed(record.pk, [m.user_id for m in members], since)
    report = report_of(
        offer.id, variants=len(offer.variants), holdout=offer.holdout, planned=offer.planned,
        members=members, orders=orders, now=now,
    )  # fmt: skip
    return offer, report
