"""Channels (渠道): the group's channel links, and their joiners with presence, activity and
first order (what counts is campaigns/channels.py's)."""

from __future__ import annotations

from sqlalchemy import and_, func, select

from campaigns.channels import CHANNEL, Joiner
from campaigns.ports.referral import LinkRecord
from campaigns.settings import utc
from storage.models import InviteLinkRow, InviteRow, MembershipRow, OrderRow
from storage.repositories.base import Repository, aware

L, M, OD = InviteLinkRow, MembershipRow, OrderRow
I = InviteRow  # noqa: E741 - short alias keeps the queries readable


def _record(row: InviteLinkRow) -> LinkRecord:
    return LinkRecord(row.id, row.chat_id, row.owner_id, row.url, row.name, row.kind)


class SqlChannels(Repository):
    async def of_group(self, chat_pk: int) -> list[LinkRecord]:
        rows = await self.session.scalars(
            select(L).where(L.chat_id == chat_pk, L.kind == CHANNEL).order_by(L.id)
        )
        return [_record(row) for row in rows]

    async def by_name(self, chat_pk: int, name: str) -> LinkRecord | None:
        row = await self.session.scalar(
            select(L).where(L.chat_id == chat_pk, L.kind == CHANNEL, L.name == name)
        )
        return _record(row) if row is not None else None

    async def joiners(self, chat_pk: int, link_ids: list[int]) -> dict[int, list[Joiner]]:
        if not link_ids:
            return {}
        first_order = (
            select(OD.user_id, func.min(OD.at).label("at"))
            .where(OD.chat_id == chat_pk)
            .group_by(OD.user_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(I.link_id, I.invitee_id, I.joined_at, M.present, M.last_active_at,
                   first_order.c.at)
            .outerjoin(M, and_(M.chat_id == I.chat_id, M.user_id == I.invitee_id))
            .outerjoin(first_order, first_order.c.user_id == I.invitee_id)
            .where(I.chat_id == chat_pk, I.link_id.in_(link_ids))
            .order_by(I.id)
        )  # fmt: skip
        found: dict[int, list[Joiner]] = {}
        for link_id, user_id, joined_at, present, last_active, ordered in rows:
            found.setdefault(link_id, []).append(
                Joiner(user_id, utc(joined_at), bool(present), aware(last_active), aware(ordered))
            )
        return found
