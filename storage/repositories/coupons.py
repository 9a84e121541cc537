"""Coupon offers and issued coupons; stock and single use are conditional UPDATEs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.sql import ColumnElement

from campaigns.coupon_variants import AUDIENCE_SOURCE, HeldOut, Issue
from campaigns.coupons import CouponKind, CouponState, OfferPurpose, Template
from campaigns.ports.coupons import CouponRecord, TemplateRecord
from campaigns.ports.members import Contact
from campaigns.settings import utc
from storage.models import ChatRow, CouponHoldoutRow, CouponRow, CouponTemplateRow, UserRow
from storage.repositories import stats as daily
from storage.repositories.base import Repository, aware, insert_for
from storage.repositories.members import name_of

T = CouponTemplateRow
C = CouponRow
H = CouponHoldoutRow


def reminder_due_prefilter(now: dt.datetime, until: dt.datetime) -> list[ColumnElement[bool]]:
    """SQL pre-filter of `campaigns.coupons.reminder_due`, which decides; the two must agree
    (tests/storage/test_rule_prefilters.py): active, not expired at `now`, expiring by `until`."""
    return [C.status == CouponState.ACTIVE, C.expires_at > now, C.expires_at <= until]


def _terms(template: Template) -> dict[str, Any]:
    """A variant's money terms as stored (validity and currency are the offer's)."""
    t = template
    return {"kind": str(t.kind), "value": t.value, "min_spend": t.min_spend, "cap": t.cap}


def _offer(row: CouponTemplateRow, arm: str | None = None) -> TemplateRecord:
    """The stored offer; with `arm`, as a member of that arm of its test holds it."""
    template = Template(
        kind=CouponKind(row.kind),
        value=row.value,
        currency=row.currency,
        min_spend=row.min_spend,
        cap=row.cap,
        valid_from=aware(row.valid_from),
        valid_until=aware(row.valid_until),
        valid_days=row.valid_days,
    )
    variants = tuple(
        replace(
            template,
            kind=CouponKind(v["kind"]),
            value=int(v["value"]),
            min_spend=int(v["min_spend"]),
            cap=None if v["cap"] is None else int(v["cap"]),
        )
        for v in row.variants or ()
    )
    return TemplateRecord(
        id=row.id,
        chat_pk=row.chat_id,
        name=row.name,
        template=template,
        stock=row.stock,
        issued=row.issued,
        per_member=row.per_member,
        active=row.active,
        audience_joined_days=row.audience_joined_days,
        purpose=OfferPurpose(row.purpose),
        variants=variants,
        holdout=row.holdout,
        planned=row.planned,
    ).for_arm(arm)


def _coupon(row: CouponRow, offer: CouponTemplateRow) -> CouponRecord:
    return CouponRecord(
        id=row.id,
        code=row.code,
        user_id=row.user_id,
        chat_pk=row.chat_id,
        status=CouponState(row.status),
        issued_at=utc(row.issued_at),
        expires_at=aware(row.expires_at),
        redeemed_at=aware(row.redeemed_at),
        discount=row.discount,
        offer=_offer(offer, row.arm),  # the member's terms: their arm's
    )


class SqlCoupons(Repository):
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
        row = T(
            purpose=str(purpose),
            chat_id=chat_pk,
            name=name,
            kind=str(template.kind),
            value=template.value,
            currency=template.currency,
            min_spend=template.min_spend,
            cap=template.cap,
            valid_from=template.valid_from,
            valid_until=template.valid_until,
            valid_days=template.valid_days,
            stock=stock,
            issued=0,
            per_member=per_member,
            audience_joined_days=audience_joined_days,
            active=True,
            created_at=at,
            variants=[_terms(v) for v in variants] or None,
            holdout=holdout,
            planned=planned,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def template(self, template_id: int) -> TemplateRecord | None:
        row = await self.session.get(T, template_id, populate_existing=True)
        return _offer(row) if row else None

    async def end(self, template_id: int) -> bool:
        result = await self.session.execute(
            update(T)
            .where(T.id == template_id, T.active.is_(True))
            .values(active=False)
            .returning(T.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def offers_of(self, chat_pk: int) -> list[tuple[TemplateRecord, int]]:
        used = (
            select(C.template_id, func.count().label("n"))
            .where(C.chat_id == chat_pk, C.status == CouponState.USED)
            .group_by(C.template_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(T, func.coalesce(used.c.n, 0))
            .outerjoin(used, used.c.template_id == T.id)
            .where(T.chat_id == chat_pk, T.purpose == str(OfferPurpose.OFFER))
            .order_by(T.id.desc())
        )
        return [(_offer(row), int(n)) for row, n in rows]

    async def held(self, template_id: int, user_id: int) -> int:
        rows = await self.session.scalars(
            select(C.slot).where(C.template_id == template_id, C.user_id == user_id)
        )
        return len(list(rows))

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
        table = C.__table__
        stmt = (
            insert_for(self.session, table)
            .values(
                template_id=offer.id,
                chat_id=offer.chat_pk,
                code=code,
                user_id=user_id,
                slot=slot,
                source=source,
                status=CouponState.ACTIVE,
                issued_at=at,
                expires_at=expires_at,
                arm=arm,
            )
            .on_conflict_do_nothing()
            .returning(table.c.id)
        )
        if (await self.session.execute(stmt)).first() is None:
            return False
        await daily.add_at(self, [(offer.chat_pk, at, {"coupons_claimed": 1})])
        return True

    async def hold_out(self, offer: TemplateRecord, user_id: int, at: dt.datetime) -> bool:
        table = H.__table__
        stmt = (
            insert_for(self.session, table)
            .values(template_id=offer.id, chat_id=offer.chat_pk, user_id=user_id, held_at=at)
            .on_conflict_do_nothing()
            .returning(table.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def test_members(self, template_id: int) -> tuple[list[Issue], list[HeldOut]]:
        coupons = await self.session.execute(
            select(C.user_id, C.arm, C.issued_at, C.source, C.status).where(
                C.template_id == template_id
            )
        )
        held = await self.session.execute(
            select(H.user_id, H.held_at).where(H.template_id == template_id)
        )
        return (
            [
                Issue(int(uid), arm, utc(at), source == AUDIENCE_SOURCE, status == CouponState.USED)
                for uid, arm, at, source, status in coupons
            ],
            [HeldOut(int(uid), utc(at)) for uid, at in held],
        )

    async def take_stock(self, template_id: int) -> bool:
        result = await self.session.execute(
            update(T)
            .where(
                T.id == template_id,
                T.active.is_(True),  # ending an offer wins over a claim racing it
                (T.stock.is_(None)) | (T.issued < T.stock),
            )
            .values(issued=T.issued + 1)
            .returning(T.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def release_stock(self, template_id: int) -> None:
        await self.session.execute(
            update(T)
            .where(T.id == template_id)
            .values(issued=T.issued - 1)
            .execution_options(synchronize_session=False)
        )

    def _joined(self) -> Any:
        return select(C, T).join(T, T.id == C.template_id)

    async def by_code(self, code: str) -> CouponRecord | None:
        row = (
            await self.session.execute(
                self._joined().where(C.code == code).execution_options(populate_existing=True)
            )
        ).first()
        return _coupon(row[0], row[1]) if row else None

    async def redeem(
        self, coupon_id: int, *, by: int, order_amount: int, discount: int, at: dt.datetime
    ) -> bool:
        result = await self.session.execute(
            update(C)
            .where(C.id == coupon_id, C.status == CouponState.ACTIVE)
            .values(
                status=CouponState.USED,
                redeemed_at=at,
                redeemed_by=by,
                order_amount=order_amount,
                discount=discount,
            )
            .returning(C.chat_id)
            .execution_options(synchronize_session=False)
        )
        used = result.first()
        if used is None:
            return False
        counts = {"coupons_redeemed": 1, "discount": discount}
        await daily.add_at(self, [(int(used.chat_id), at, counts)])
        return True

    async def of_member(self, user_id: int) -> list[CouponRecord]:
        rows = await self.session.execute(
            self._joined().where(C.user_id == user_id).order_by(C.issued_at.desc(), C.id.desc())
        )
        return [_coupon(c, t) for c, t in rows]

    async def of_chat(self, chat_pk: int) -> list[CouponRecord]:
        rows = await self.session.execute(
            self._joined().where(C.chat_id == chat_pk).order_by(C.issued_at, C.id)
        )
        return [_coupon(c, t) for c, t in rows]

    async def counts(self, chat_pk: int) -> dict[int, tuple[int, int]]:
        rows = await self.session.execute(
            select(C.user_id, func.count(), func.count(C.redeemed_at))
            .where(C.chat_id == chat_pk)
            .group_by(C.user_id)
        )
        return {int(uid): (int(claimed), int(used)) for uid, claimed, used in rows}

    async def claim_reminders(
        self, now: dt.datetime, until: dt.datetime, limit: int
    ) -> list[tuple[CouponRecord, Contact, str | None, str]]:
        rows = (
            await self.session.execute(
                select(C, T, UserRow, ChatRow.title, ChatRow.timezone)
                .join(T, T.id == C.template_id)
                .join(UserRow, UserRow.id == C.user_id)
                .join(ChatRow, ChatRow.id == C.chat_id)
                .where(
                    *reminder_due_prefilter(now, until),
                    C.reminded_at.is_(None),
                    UserRow.reachable.is_(True),
                )
                .order_by(C.expires_at, C.id)
                .limit(limit)
            )
        ).all()
        if not rows:
            return []
        marked = set(
            (
                await self.session.execute(
                    update(C)
                    .where(C.id.in_([r[0].id for r in rows]), C.reminded_at.is_(None))
                    .values(reminded_at=now)
                    .returning(C.id)
                    .execution_options(synchronize_session=False)
                )
            ).scalars()
        )
        return [
            (_coupon(c, t), Contact(u.id, name_of(u), u.language_code, True), title, tz)
            for c, t, u, title, tz in rows
            if c.id in marked
        ]
