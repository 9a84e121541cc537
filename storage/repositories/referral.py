"""Invite links, invites, pending claims and granted tiers."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.sql import ColumnElement

from campaigns.members import Ranked
from campaigns.ports.referral import Candidate, Claim, InviteRecord, LinkRecord
from campaigns.referral import ATTRIBUTED, InviteStatus, RejectReason, Source
from campaigns.settings import utc
from storage.models import (
    InviteLinkRow,
    InviteRow,
    MembershipRow,
    ReferralClaimRow,
    ReferralRewardRow,
    UserRow,
)
from storage.repositories import stats as daily
from storage.repositories.base import (
    Repository,
    aware,
    id_list,
    ids_param,
    insert_for,
    prepared,
)
from storage.repositories.members import name_of

I = InviteRow  # noqa: E741 - short alias keeps the queries readable
M = MembershipRow
CREDITED = [InviteStatus.PENDING, InviteStatus.CONFIRMED, InviteStatus.LEFT]


def _link(row: InviteLinkRow) -> LinkRecord:
    return LinkRecord(
        id=row.id,
        chat_pk=row.chat_id,
        owner_id=row.owner_id,
        url=row.url,
        name=row.name,
        kind=row.kind,
        expires_at=aware(row.expires_at),
    )


def _invite(row: InviteRow) -> InviteRecord:
    return InviteRecord(
        id=row.id,
        chat_pk=row.chat_id,
        invitee_id=row.invitee_id,
        inviter_id=row.inviter_id,
        source=Source(row.source),
        status=InviteStatus(row.status),
        reason=RejectReason(row.reason) if row.reason else None,
        was_member=row.was_member,
        joined_at=utc(row.joined_at),
        confirmed_at=aware(row.confirmed_at),
    )


def confirmable_prefilter(cutoff: dt.datetime, require_activity: bool) -> list[ColumnElement[bool]]:
    """SQL pre-filter of `campaigns.referral.confirmable` at `now`, with `cutoff` = now - hold;
    the predicate decides, and the two must agree (tests/storage/test_rule_prefilters.py)."""
    where: list[ColumnElement[bool]] = [I.joined_at <= cutoff, M.present.is_(True)]
    if require_activity:  # the index narrows by status and time; this skips the silent
        where.append(M.last_active_at >= I.joined_at)
    return where


class SqlInviteLinks(Repository):
    async def live(self, chat_pk: int, owner_id: int) -> LinkRecord | None:
        row = await self.session.scalar(
            select(InviteLinkRow).where(
                InviteLinkRow.chat_id == chat_pk,
                InviteLinkRow.owner_id == owner_id,
                InviteLinkRow.kind == "member",
                InviteLinkRow.revoked_at.is_(None),
            )
        )
        return _link(row) if row else None

    async def add(
        self,
        chat_pk: int,
        owner_id: int,
        *,
        url: str,
        name: str,
        kind: str,
        at: dt.datetime,
        creates_join_request: bool = False,
        for_user_id: int | None = None,
        expires_at: dt.datetime | None = None,
    ) -> LinkRecord | None:
        table = InviteLinkRow.__table__
        stmt = (
            insert_for(self.session, table)
            .values(
                chat_id=chat_pk,
                owner_id=owner_id,
                url=url,
                name=name,
                kind=kind,
                for_user_id=for_user_id,
                creates_join_request=creates_join_request,
                created_at=at,
                expires_at=expires_at,
            )
            .on_conflict_do_nothing()
            .returning(table.c.id)
        )
        new_id = (await self.session.execute(stmt)).scalar()
        if new_id is None:
            return None
        return LinkRecord(new_id, chat_pk, owner_id, url, name, kind, expires_at)

    async def by_url(self, url: str) -> LinkRecord | None:
        row = await self.session.scalar(select(InviteLinkRow).where(InviteLinkRow.url == url))
        return _link(row) if row else None

    async def for_visitor(
        self, chat_pk: int, owner_id: int, visitor_id: int, now: dt.datetime
    ) -> LinkRecord | None:
        row = await self.session.scalar(
            select(InviteLinkRow)
            .where(
                InviteLinkRow.chat_id == chat_pk,
                InviteLinkRow.for_user_id == visitor_id,
                InviteLinkRow.owner_id == owner_id,
                InviteLinkRow.revoked_at.is_(None),
                InviteLinkRow.expires_at > now,
            )
            .order_by(InviteLinkRow.id.desc())
            .limit(1)
        )
        return _link(row) if row else None

    async def revoke(self, link_id: int, at: dt.datetime) -> None:
        await self.session.execute(
            update(InviteLinkRow)
            .where(InviteLinkRow.id == link_id)
            .values(revoked_at=at)
            .execution_options(synchronize_session=False)
        )


def _pending_of(insert: Any) -> Any:
    ids = id_list(insert)
    return (
        SqlInvites._candidates()
        .where(
            I.status == InviteStatus.PENDING,
            I.chat_id == bindparam("chat_pk"),
            I.invitee_id.in_(select(ids.c.value)),
        )
        .order_by(I.id)
    )


_PENDING_OF = prepared(_pending_of)


class SqlInvites(Repository):
    async def add(
        self,
        chat_pk: int,
        invitee_id: int,
        *,
        inviter_id: int | None,
        link_id: int | None,
        source: Source,
        status: InviteStatus,
        reason: RejectReason | None,
        was_member: bool,
        at: dt.datetime,
    ) -> int | None:
        table = I.__table__
        stmt = (
            insert_for(self.session, table)
            .values(
                chat_id=chat_pk,
                invitee_id=invitee_id,
                inviter_id=inviter_id,
                link_id=link_id,
                source=str(source),
                status=str(status),
                reason=str(reason) if reason else None,
                was_member=was_member,
                joined_at=at,
            )
            .on_conflict_do_nothing(index_elements=["chat_id", "invitee_id", "joined_at"])
            .returning(table.c.id)
        )
        value = (await self.session.execute(stmt)).scalar()
        return int(value) if value is not None else None

    async def latest(self, chat_pk: int, invitee_id: int) -> InviteRecord | None:
        row = await self.session.scalar(
            select(I)
            .where(I.chat_id == chat_pk, I.invitee_id == invitee_id)
            .order_by(I.joined_at.desc(), I.id.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )
        return _invite(row) if row else None

    async def attribute(
        self,
        invite_id: int,
        *,
        inviter_id: int | None,
        link_id: int | None,
        source: Source,
        status: InviteStatus,
        reason: RejectReason | None,
    ) -> bool:
        result = await self.session.execute(
            update(I)
            .where(I.id == invite_id, I.status == InviteStatus.ORGANIC)
            .values(
                inviter_id=inviter_id,
                link_id=link_id,
                source=str(source),
                status=str(status),
                reason=str(reason) if reason else None,
            )
            .returning(I.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def move(
        self,
        invite_ids: Sequence[int],
        *,
        from_status: InviteStatus,
        to_status: InviteStatus,
        at: dt.datetime,
        reason: RejectReason | None = None,
    ) -> set[int]:
        if not invite_ids:
            return set()
        values: dict[str, Any] = {"status": str(to_status)}
        if reason is not None:
            values["reason"] = str(reason)
        if to_status is InviteStatus.CONFIRMED:
            values["confirmed_at"] = at
        elif to_status is InviteStatus.LEFT:
            values["left_at"] = at
        result = await self.session.execute(
            update(I)
            .where(I.id.in_(sorted(set(invite_ids))), I.status == str(from_status))
            .values(**values)
            .returning(I.id, I.chat_id)
            .execution_options(synchronize_session=False)
        )
        moved = result.all()
        if to_status is InviteStatus.CONFIRMED and moved:
            per_chat = Counter(int(chat_pk) for _id, chat_pk in moved)
            await daily.add_at(
                self, [(c, at, {"invites_confirmed": n}) for c, n in sorted(per_chat.items())]
            )
        return {int(i) for i, _chat in moved}

    async def recent_credited(self, chat_pk: int, inviter_id: int, since: dt.datetime) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(I)
            .where(
                I.chat_id == chat_pk,
                I.inviter_id == inviter_id,
                I.joined_at >= since,
                I.source.in_([str(s) for s in ATTRIBUTED]),
            )
        )
        return int(count or 0)

    @staticmethod
    def _candidates() -> Any:
        return select(
            I.id, I.inviter_id, I.invitee_id, I.joined_at, M.present, M.last_active_at
        ).join(M, and_(M.chat_id == I.chat_id, M.user_id == I.invitee_id))

    @staticmethod
    def _rows(result: Any) -> list[Candidate]:
        return [
            Candidate(
                invite_id=int(r.id),
                inviter_id=int(r.inviter_id),
                invitee_id=int(r.invitee_id),
                joined_at=utc(r.joined_at),
                present=bool(r.present),
                last_active_at=aware(r.last_active_at),
            )
            for r in result
        ]

    async def pending_of(self, chat_pk: int, invitee_ids: Sequence[int]) -> list[Candidate]:
        """Asked by every activity batch: a prepared statement, the ids as one array."""
        if not invitee_ids:
            return []
        params = {"chat_pk": chat_pk, "ids": ids_param(self.session, sorted(set(invitee_ids)))}
        return self._rows(await self.run(_PENDING_OF(self.session), params))

    async def due(
        self,
        chat_pk: int,
        *,
        cutoff: dt.datetime,
        require_activity: bool,
        after_id: int,
        limit: int,
    ) -> list[Candidate]:
        where = [
            I.status == InviteStatus.PENDING,
            I.chat_id == chat_pk,
            I.id > after_id,
            *confirmable_prefilter(cutoff, require_activity),
        ]
        result = await self.session.execute(
            self._candidates().where(*where).order_by(I.id).limit(limit)
        )
        return self._rows(result)

    async def chats_with_pending(self, cutoff: dt.datetime) -> list[int]:
        rows = await self.session.scalars(
            select(I.chat_id)
            .where(I.status == InviteStatus.PENDING, I.joined_at <= cutoff)
            .distinct()
            .order_by(I.chat_id)
        )
        return [int(pk) for pk in rows]

    async def counts(self, chat_pk: int, inviter_id: int) -> dict[str, int]:
        return (await self.counts_of(chat_pk, [inviter_id])).get(inviter_id, {})

    async def counts_of(
        self, chat_pk: int, inviter_ids: Sequence[int]
    ) -> dict[int, dict[str, int]]:
        result = await self.session.execute(
            select(I.inviter_id, I.status, func.count())
            .where(I.chat_id == chat_pk, I.inviter_id.in_(sorted(set(inviter_ids))))
            .group_by(I.inviter_id, I.status)
        )
        out: dict[int, dict[str, int]] = {}
        for uid, status, n in result:
            out.setdefault(int(uid or 0), {})[str(status)] = int(n)
        return out

    async def rejected(
        self, chat_pk: int, inviter_id: int, limit: int
    ) -> list[tuple[str, RejectReason, dt.datetime]]:
        result = await self.session.execute(
            select(I.invitee_id, I.reason, I.joined_at, UserRow)
            .outerjoin(UserRow, UserRow.id == I.invitee_id)
            .where(
                I.chat_id == chat_pk,
                I.inviter_id == inviter_id,
                I.status == InviteStatus.REJECTED,
            )
            .order_by(I.joined_at.desc(), I.id.desc())
            .limit(limit)
        )
        return [
            (
                name_of(r.UserRow) if r.UserRow else str(r.invitee_id),
                RejectReason(r.reason or RejectReason.QUALITY),
                utc(r.joined_at),
            )
            for r in result
        ]

    def _confirmed_since(self, chat_pk: int, since: dt.datetime | None) -> ColumnElement[bool]:
        where = and_(
            I.chat_id == chat_pk,
            I.status == InviteStatus.CONFIRMED,
            I.inviter_id.is_not(None),
        )
        return and_(where, I.confirmed_at >= since) if since is not None else where

    async def top(self, chat_pk: int, since: dt.datetime | None, limit: int) -> list[Ranked]:
        n = func.count().label("n")
        counted = (
            select(I.inviter_id.label("uid"), n)
            .where(self._confirmed_since(chat_pk, since))
            .group_by(I.inviter_id)
            .subquery()
        )
        result = await self.session.execute(
            select(
                func.rank().over(order_by=counted.c.n.desc()).label("rank"),
                counted.c.uid,
                counted.c.n,
                UserRow,
            )
            .outerjoin(UserRow, UserRow.id == counted.c.uid)
            .order_by(counted.c.n.desc(), counted.c.uid)
            .limit(limit)
        )
        return [
            Ranked(
                rank=int(r.rank),
                user_id=int(r.uid),
                display_name=name_of(r.UserRow) if r.UserRow else str(r.uid),
                value=int(r.n),
            )
            for r in result
        ]

    async def rank_of(self, chat_pk: int, user_id: int, since: dt.datetime | None) -> Ranked | None:
        where = self._confirmed_since(chat_pk, since)
        mine = await self.session.scalar(
            select(func.count()).select_from(I).where(where, I.inviter_id == user_id)
        )
        if not mine:
            return None
        per = select(func.count().label("n")).where(where).group_by(I.inviter_id).subquery()
        ahead = await self.session.scalar(
            select(func.count()).select_from(per).where(per.c.n > mine)
        )
        user = await self.session.get(UserRow, user_id)
        return Ranked(
            rank=int(ahead or 0) + 1,
            user_id=user_id,
            display_name=name_of(user) if user else str(user_id),
            value=int(mine),
        )

    async def joins_by_source(
        self, chat_pk: int, since: dt.datetime, until: dt.datetime
    ) -> dict[str, int]:
        result = await self.session.execute(
            select(I.source, func.count())
            .where(*self._people_joined(chat_pk, since, until))
            .group_by(I.source)
        )
        return {str(source): int(n) for source, n in result}

    @staticmethod
    def _people_joined(
        chat_pk: int, since: dt.datetime, until: dt.datetime
    ) -> list[ColumnElement[bool]]:
        """Joins in the period, bots left out (they are recorded only to explain rejections)."""
        return [
            I.chat_id == chat_pk,
            I.joined_at >= since,
            I.joined_at <= until,
            or_(I.reason.is_(None), I.reason != str(RejectReason.BOT)),
        ]

    async def new_members(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(I)
            .where(*self._people_joined(chat_pk, since, until), I.was_member.is_(False))
        )
        return int(count or 0)

    async def attributed_status(
        self, chat_pk: int, since: dt.datetime, until: dt.datetime
    ) -> dict[str, int]:
        result = await self.session.execute(
            select(I.status, func.count())
            .where(
                I.chat_id == chat_pk,
                I.joined_at >= since,
                I.joined_at <= until,
                I.inviter_id.is_not(None),
            )
            .group_by(I.status)
        )
        return {str(status): int(n) for status, n in result}

    async def summary(self, chat_pk: int) -> dict[int, tuple[int | None, dict[str, int]]]:
        out: dict[int, tuple[int | None, dict[str, int]]] = {}
        counts = await self.session.execute(
            select(I.inviter_id, I.status, func.count())
            .where(I.chat_id == chat_pk, I.inviter_id.is_not(None))
            .group_by(I.inviter_id, I.status)
        )
        for uid, status, n in counts:
            out.setdefault(int(uid or 0), (None, {}))[1][str(status)] = int(n)
        credited = await self.session.execute(
            select(I.invitee_id, I.inviter_id)
            .where(
                I.chat_id == chat_pk,
                I.inviter_id.is_not(None),
                I.status.in_([str(s) for s in CREDITED]),
            )
            .order_by(I.joined_at, I.id)
        )
        for invitee, inviter in credited:  # later joins overwrite earlier ones
            out[int(invitee)] = (int(inviter or 0), out.get(int(invitee), (None, {}))[1])
        return out


class SqlClaims(Repository):
    async def add(
        self,
        chat_pk: int,
        visitor_id: int,
        *,
        inviter_id: int,
        link_id: int | None,
        source: Source,
        at: dt.datetime,
    ) -> bool:
        table = ReferralClaimRow.__table__
        stmt = (
            insert_for(self.session, table)
            .values(
                chat_id=chat_pk,
                visitor_id=visitor_id,
                inviter_id=inviter_id,
                link_id=link_id,
                source=str(source),
                at=at,
            )
            .on_conflict_do_nothing(index_elements=["chat_id", "visitor_id"])
            .returning(table.c.visitor_id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def get(self, chat_pk: int, visitor_id: int) -> Claim | None:
        row = await self.session.get(ReferralClaimRow, (chat_pk, visitor_id))
        if row is None:
            return None
        return Claim(row.inviter_id, row.link_id, Source(row.source), utc(row.at))


class SqlRewards(Repository):
    R = ReferralRewardRow

    async def granted(self, chat_pk: int, user_id: int) -> set[int]:
        return (await self.granted_to(chat_pk, [user_id])).get(user_id, set())

    async def granted_to(self, chat_pk: int, user_ids: Sequence[int]) -> dict[int, set[int]]:
        rows = await self.session.execute(
            select(self.R.user_id, self.R.tier).where(
                self.R.chat_id == chat_pk,
                self.R.user_id.in_(sorted(set(user_ids))),
                self.R.revoked_at.is_(None),
            )
        )
        out: dict[int, set[int]] = {}
        for uid, tier in rows:
            out.setdefault(int(uid), set()).add(int(tier))
        return out

    async def grant(self, chat_pk: int, user_id: int, tier: int, at: dt.datetime) -> bool:
        table = self.R.__table__
        stmt = (
            insert_for(self.session, table)
            .values(chat_id=chat_pk, user_id=user_id, tier=tier, granted_at=at)
            .on_conflict_do_nothing(index_elements=["chat_id", "user_id", "tier"])
            .returning(table.c.tier)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def revoke(self, chat_pk: int, user_id: int, tier: int, at: dt.datetime) -> bool:
        result = await self.session.execute(
            update(self.R)
            .where(
                self.R.chat_id == chat_pk,
                self.R.user_id == user_id,
                self.R.tier == tier,
                self.R.revoked_at.is_(None),
            )
            .values(revoked_at=at)
            .returning(self.R.tier)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None
