"""Campaigns, their attachments, and the rows their 复盘 is computed from.

What each figure means is campaigns/campaign.py's: here the rows are only narrowed to the
campaign's objects and days (orders in its span, the messages of its broadcasts and
journeys, the coupons of its offers and deals), and two things are counted per object
because a broadcast may have many recipients: the recipients active within 3 days
(`responded`, in whole seconds as the rule measures) and a post's claims.
tests/storage/test_campaigns_storage.py holds both to the rule on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, case, exists, func, select, update

from campaigns.campaign import (
    RESPONSE_WITHIN,
    AttachKind,
    Campaign,
    CampaignStatus,
    CouponFact,
    OrderFact,
    Phase,
    Reach,
    ReachKind,
    Response,
)
from campaigns.content import PostContent, headline
from campaigns.members import EventKind
from campaigns.outbox import DeliveryStatus
from campaigns.ports.campaigns import Attached, CampaignRecord
from campaigns.referral import InviteStatus
from campaigns.schedule import PostStatus
from campaigns.stats import Kpi
from storage.models import (
    BroadcastRow,
    CampaignItemRow,
    CampaignRow,
    ChatRow,
    CouponRow,
    CouponTemplateRow,
    DealRow,
    DeliveryRow,
    EventRow,
    InviteRow,
    JourneyRunRow,
    LedgerRow,
    OrderRow,
    ScheduledPostRow,
    SurveyRow,
    UserRow,
)
from storage.repositories.base import Repository, aware, insert_for
from storage.repositories.members import name_of
from storage.repositories.segments import epoch_seconds

C, CI, DL = CampaignRow, CampaignItemRow, DeliveryRow
# The ledger's reasons for referral rewards (campaigns/services/points.py: PointsReason).
REFERRAL_REASONS = ("referral_tier", "referral_first_order", "referral_clawback")
CLAIM = "claim"  # a coupon claimed with a post's button


def _record(row: CampaignRow, chat_id: int) -> CampaignRecord:
    phases = tuple(
        Phase(name, dt.date.fromisoformat(start), dt.date.fromisoformat(end))
        for name, start, end in row.phases.get("phases", [])
    )
    targets = {Kpi(k): float(v) for k, v in row.targets.items() if k in Kpi.__members__.values()}
    campaign = Campaign(
        name=row.name,
        start=row.start_day,
        end=row.end_day,
        phases=phases,
        targets=targets,
        budget=row.budget,
        point_value=row.point_value,
        window_days=row.window_days,
    )
    return CampaignRecord(
        row.id, row.chat_id, chat_id, campaign, CampaignStatus(row.status), row.ended_at,
        aware(row.created_at),
    )  # fmt: skip


def label(content: dict[str, Any]) -> str:
    """What a report calls a stored post or broadcast (campaigns.content.headline)."""
    return headline(str(content.get("text") or ""))


class SqlCampaigns(Repository):
    async def add(
        self, chat_pk: int, campaign: Campaign, *, by: int | None, at: dt.datetime
    ) -> int | None:
        stmt = (
            insert_for(self.session, C)
            .values(
                chat_id=chat_pk,
                name=campaign.name,
                start_day=campaign.start,
                end_day=campaign.end,
                phases={
                    "phases": [
                        [p.name, p.start.isoformat(), p.end.isoformat()] for p in campaign.phases
                    ]
                },
                targets={str(k): v for k, v in campaign.targets.items()},
                budget=campaign.budget,
                point_value=campaign.point_value,
                window_days=campaign.window_days,
                status=CampaignStatus.ACTIVE,
                created_by=by,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["chat_id", "name"])
            .returning(C.id)
        )
        new_id = (await self.session.execute(stmt)).scalar()
        return int(new_id) if new_id is not None else None

    async def _one(self, *where: Any) -> CampaignRecord | None:
        found = (
            await self.session.execute(
                select(C, ChatRow.telegram_id).join(ChatRow, ChatRow.id == C.chat_id).where(*where)
            )
        ).first()
        return _record(found[0], found[1]) if found is not None else None

    async def get(self, campaign_id: int) -> CampaignRecord | None:
        return await self._one(C.id == campaign_id)

    async def by_name(self, chat_pk: int, name: str) -> CampaignRecord | None:
        return await self._one(C.chat_id == chat_pk, C.name == name)

    async def _many(self, *where: Any) -> list[CampaignRecord]:
        rows = await self.session.execute(
            select(C, ChatRow.telegram_id)
            .join(ChatRow, ChatRow.id == C.chat_id)
            .where(*where)
            .order_by(C.start_day.desc(), C.id.desc())
        )
        return [_record(row, chat_id) for row, chat_id in rows]

    async def of_group(self, chat_pk: int) -> list[CampaignRecord]:
        return await self._many(C.chat_id == chat_pk)

    async def set_targets(self, campaign_id: int, targets: Mapping[Kpi, float]) -> None:
        await self.session.execute(
            update(C)
            .where(C.id == campaign_id)
            .values(targets={str(k): v for k, v in targets.items()})
        )

    async def attach(self, campaign_id: int, kind: AttachKind, ref: str, at: dt.datetime) -> bool:
        stmt = (
            insert_for(self.session, CI)
            .values(campaign_id=campaign_id, kind=kind, ref=ref, created_at=at)
            .on_conflict_do_nothing()  # attached already, or a channel held by another campaign
            .returning(CI.id)
        )
        return (await self.session.execute(stmt)).scalar() is not None

    async def holding(self, kind: AttachKind, ref: str) -> int | None:
        found = await self.session.scalar(
            select(CI.campaign_id).where(CI.kind == kind, CI.ref == ref).order_by(CI.id).limit(1)
        )
        return int(found) if found is not None else None

    async def attached(self, campaign_id: int) -> list[Attached]:
        rows = await self.session.execute(
            select(CI.kind, CI.ref).where(CI.campaign_id == campaign_id).order_by(CI.id)
        )
        return [Attached(AttachKind(kind), ref) for kind, ref in rows]

    async def owner(self, kind: AttachKind, object_id: int) -> int | None:
        table: Any = {
            AttachKind.OFFER: CouponTemplateRow,
            AttachKind.DEAL: DealRow,
            AttachKind.POST: ScheduledPostRow,
            AttachKind.BROADCAST: BroadcastRow,
            AttachKind.SURVEY: SurveyRow,
        }[kind]
        where = [table.id == object_id]
        if kind is AttachKind.POST:
            where.append(table.status != PostStatus.DELETED)
        if kind is AttachKind.BROADCAST:
            where.append(table.target == "members")
        found = await self.session.scalar(select(table.chat_id).where(*where))
        return int(found) if found is not None else None

    async def ending_before(self, day: dt.date) -> list[CampaignRecord]:
        return await self._many(C.status == CampaignStatus.ACTIVE, C.end_day < day)

    async def running_around(self, day: dt.date) -> list[CampaignRecord]:
        one = dt.timedelta(days=1)
        return await self._many(
            C.status == CampaignStatus.ACTIVE, C.start_day <= day + one, C.end_day >= day - one
        )

    async def finish(self, campaign_id: int, at: dt.datetime) -> bool:
        done = await self.run(
            update(C)
            .where(C.id == campaign_id, C.status == CampaignStatus.ACTIVE)
            .values(status=CampaignStatus.FINISHED, ended_at=at)
        )
        return bool(done.rowcount)

    async def coupons(self, offer_ids: Sequence[int], deal_ids: Sequence[int]) -> list[CouponFact]:
        deal_offers = select(DealRow.offer_id).where(DealRow.id.in_(list(deal_ids)))
        rows = await self.session.execute(
            select(CouponRow.code, CouponRow.user_id, CouponRow.issued_at, CouponRow.redeemed_at,
                   CouponRow.discount)
            .where(CouponRow.template_id.in_(list(offer_ids))
                   | CouponRow.template_id.in_(deal_offers))
            .order_by(CouponRow.id)
        )  # fmt: skip
        return [
            CouponFact(code, int(user), issued, redeemed, int(discount or 0) if redeemed else 0)
            for code, user, issued, redeemed, discount in rows
        ]

    async def orders(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> list[OrderFact]:
        OT = OrderRow
        rows = await self.session.execute(
            select(OT.id, OT.user_id, OT.at, OT.amount, OT.coupon_codes)
            .where(OT.chat_id == chat_pk, OT.at >= since, OT.at < until)
            .order_by(OT.at, OT.id)
        )
        return [
            OrderFact(int(i), int(u), at, int(amount), tuple((codes or {}).get("codes", [])))
            for i, u, at, amount, codes in rows
        ]

    async def reaches(
        self,
        chat_pk: int,
        broadcast_ids: Sequence[int],
        journeys: Sequence[str],
        since: dt.datetime,
        until: dt.datetime,
    ) -> list[Reach]:
        sent = and_(DL.status == DeliveryStatus.SENT, DL.target_chat > 0, DL.sent_at.is_not(None))
        out: list[Reach] = []
        if broadcast_ids:
            rows = await self.session.execute(
                select(DL.target_chat, DL.sent_at)
                .join(BroadcastRow, BroadcastRow.id == DL.broadcast_id)
                .where(sent, BroadcastRow.chat_id == chat_pk, DL.broadcast_id.in_(broadcast_ids))
            )
            out += [Reach(int(u), at, ReachKind.BROADCAST) for u, at in rows if at is not None]
        if journeys:
            JR = JourneyRunRow
            rows = await self.session.execute(
                select(DL.target_chat, DL.sent_at)
                .join(JR, JR.id == DL.journey_run_id)
                .where(sent, JR.chat_id == chat_pk, JR.journey.in_(list(journeys)),
                       DL.sent_at >= since, DL.sent_at < until)
            )  # fmt: skip
            out += [Reach(int(u), at, ReachKind.JOURNEY) for u, at in rows if at is not None]
        return out

    async def referral_points(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> int:
        L = LedgerRow
        total = await self.session.scalar(
            select(func.coalesce(func.sum(L.delta), 0)).where(
                L.chat_id == chat_pk, L.reason.in_(REFERRAL_REASONS), L.at >= since, L.at < until
            )
        )
        return int(total or 0)

    async def confirmed_invites(
        self, chat_pk: int, since: dt.datetime, until: dt.datetime
    ) -> list[tuple[int, str]]:
        I = InviteRow  # noqa: E741
        rows = await self.session.execute(
            select(func.coalesce(I.inviter_id, 0), UserRow)
            .outerjoin(UserRow, UserRow.id == I.inviter_id)
            .where(I.chat_id == chat_pk, I.status == InviteStatus.CONFIRMED,
                   I.inviter_id.is_not(None), I.confirmed_at >= since, I.confirmed_at < until)
            .order_by(I.id)
        )  # fmt: skip
        return [(int(u), name_of(user) if user else str(u)) for u, user in rows]

    async def responses(
        self,
        chat_pk: int,
        broadcast_ids: Sequence[int],
        post_ids: Sequence[int],
        since: dt.datetime,
        until: dt.datetime,
        as_of: dt.datetime,
    ) -> list[Response]:
        out = await self._broadcast_responses(chat_pk, broadcast_ids, as_of)
        return out + await self._post_responses(chat_pk, post_ids, since, until)

    async def _broadcast_responses(
        self, chat_pk: int, broadcast_ids: Sequence[int], as_of: dt.datetime
    ) -> list[Response]:
        if not broadcast_ids:
            return []
        E, B = EventRow, BroadcastRow
        gap = epoch_seconds(E.at) - epoch_seconds(DL.sent_at)
        active = exists().where(
            E.chat_id == chat_pk,
            E.user_id == DL.target_chat,
            E.kind.in_([EventKind.MESSAGE, EventKind.CHECKIN]),
            gap >= 0,
            gap <= int(RESPONSE_WITHIN.total_seconds()),
            E.at <= as_of,
        )
        sent = and_(DL.status == DeliveryStatus.SENT, DL.target_chat > 0, DL.sent_at.is_not(None))
        counted = (
            select(
                DL.broadcast_id,
                func.count().label("sent"),
                func.count(case((active, 1))).label("active"),
            )
            .where(sent, DL.broadcast_id.in_(list(broadcast_ids)))
            .group_by(DL.broadcast_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(B.id, B.content, counted.c.sent, counted.c.active, B.variants)
            .outerjoin(counted, counted.c.broadcast_id == B.id)
            .where(B.id.in_(list(broadcast_ids)), B.chat_id == chat_pk)
        )
        return [
            Response(
                AttachKind.BROADCAST,
                int(i),
                label(c),
                int(s or 0),
                int(a or 0),
                variants=len(v) if v else 1,
            )
            for i, c, s, a, v in rows
        ]

    async def _post_responses(
        self, chat_pk: int, post_ids: Sequence[int], since: dt.datetime, until: dt.datetime
    ) -> list[Response]:
        if not post_ids:
            return []
        P = ScheduledPostRow
        runs = (
            select(func.count())
            .where(DL.post_id == P.id, DL.status == DeliveryStatus.SENT)
            .scalar_subquery()
        )
        rows = (
            await self.session.execute(
                select(P.id, P.content, runs).where(P.id.in_(list(post_ids)), P.chat_id == chat_pk)
            )
        ).all()
        offers = {
            int(i): sorted({b.coupon for b in PostContent.model_validate(c).buttons if b.coupon})
            for i, c, _ in rows
        }
        wanted = sorted({o for ids in offers.values() for o in ids})
        claims: dict[int, int] = {}
        if wanted:
            counted = await self.session.execute(
                select(CouponRow.template_id, func.count())
                .where(CouponRow.chat_id == chat_pk, CouponRow.template_id.in_(wanted),
                       CouponRow.source == CLAIM, CouponRow.issued_at >= since,
                       CouponRow.issued_at < until)
                .group_by(CouponRow.template_id)
            )  # fmt: skip
            claims = {int(t): int(n) for t, n in counted}
        return [
            Response(
                AttachKind.POST,
                int(i),
                label(c),
                int(n or 0),
                sum(claims.get(o, 0) for o in offers[int(i)]) if offers[int(i)] else None,
            )
            for i, c, n in rows
        ]
