"""Channels (渠道): the group's channel links and their costs, and the rows their figures are
computed from: every join through them, the joiners' membership and orders. Nothing is
counted here (campaigns/channels.py decides who is credited and what counts);
tests/storage/test_channels_storage.py holds the figures to the rule over the raw rows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from campaigns.channels import CHANNEL, Channel, ChannelFacts, ChannelJoin, MemberNow, OrderAt
from campaigns.settings import utc
from storage.models import InviteLinkRow, InviteRow, MembershipRow, OrderRow
from storage.repositories.base import Repository, aware

L, M, OD = InviteLinkRow, MembershipRow, OrderRow
I = InviteRow  # noqa: E741 - short alias keeps the queries readable


def _channel(row: InviteLinkRow) -> Channel:
    return Channel(row.id, row.name, row.url, row.cost, aware(row.revoked_at))


class SqlChannels(Repository):
    async def of_group(self, chat_pk: int) -> list[Channel]:
        rows = await self.session.scalars(
            select(L).where(L.chat_id == chat_pk, L.kind == CHANNEL).order_by(L.id)
        )
        return [_channel(row) for row in rows]

    async def by_name(self, chat_pk: int, name: str) -> Channel | None:
        row = await self.session.scalar(
            select(L).where(L.chat_id == chat_pk, L.kind == CHANNEL, L.name == name)
        )
        return _channel(row) if row is not None else None

    async def get(self, chat_pk: int, link_id: int) -> Channel | None:
        row = await self.session.scalar(
            select(L).where(L.id == link_id, L.chat_id == chat_pk, L.kind == CHANNEL)
        )
        return _channel(row) if row is not None else None

    async def set_cost(self, link_id: int, cost: int | None) -> None:
        await self.run(update(L).where(L.id == link_id, L.kind == CHANNEL).values(cost=cost))

    async def revoke(self, link_id: int, at: dt.datetime) -> bool:
        done = await self.run(
            update(L)
            .where(L.id == link_id, L.kind == CHANNEL, L.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(done.rowcount)

    async def rename(self, chat_pk: int, link_id: int, name: str) -> bool:
        taken = exists().where(L.chat_id == chat_pk, L.kind == CHANNEL, L.name == name)
        try:
            async with self.session.begin_nested():  # a racing rename fails on the index alone
                done = await self.run(
                    update(L)
                    .where(L.id == link_id, L.chat_id == chat_pk, L.kind == CHANNEL, ~taken)
                    .values(name=name)
                )
        except IntegrityError:
            return False
        return bool(done.rowcount)

    async def facts(self, chat_pk: int) -> ChannelFacts:
        channel_links = select(L.id).where(L.chat_id == chat_pk, L.kind == CHANNEL)
        joined = await self.session.execute(
            select(I.link_id, I.invitee_id, I.joined_at)
            .where(I.chat_id == chat_pk, I.link_id.in_(channel_links))
            .order_by(I.id)
        )
        joins = [ChannelJoin(int(link), int(user), utc(at)) for link, user, at in joined if link]
        joiners = select(I.invitee_id).where(I.chat_id == chat_pk, I.link_id.in_(channel_links))
        members = {
            int(user): MemberNow(bool(present), aware(active))
            for user, present, active in await self.session.execute(
                select(M.user_id, M.present, M.last_active_at).where(
                    M.chat_id == chat_pk, M.user_id.in_(joiners)
                )
            )
        }
        orders: dict[int, list[OrderAt]] = {}
        for user, at, amount in await self.session.execute(
            select(OD.user_id, OD.at, OD.amount)
            .where(OD.chat_id == chat_pk, OD.user_id.in_(joiners))
            .order_by(OD.at, OD.id)
        ):
            orders.setdefault(int(user), []).append(OrderAt(utc(at), int(amount)))
        return ChannelFacts(joins, members, {u: tuple(o) for u, o in orders.items()})
