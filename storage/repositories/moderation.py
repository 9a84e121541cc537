"""The mod log: actions recorded once per (group, update, kind), undone once, and the
counts analytics reads from the activity store's moderation events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, select, update

from campaigns.members import EventKind, Person
from campaigns.moderation import ActionKind, Rule
from campaigns.ports.moderation import ModAction, NewAction
from storage.models import ChatRow, EventRow, MembershipRow, ModerationActionRow, UserRow
from storage.repositories.base import Repository, aware, insert_for

MA = ModerationActionRow
LIMIT_ACTIONS = (str(ActionKind.MUTED), str(ActionKind.BANNED))


def _action(row: MA, user: UserRow | None) -> ModAction:
    name = (
        Person(user.id, user.first_name, user.last_name, user.username).display_name
        if user is not None
        else str(row.user_id)
    )
    return ModAction(
        id=row.id,
        chat_pk=row.chat_id,
        user_id=row.user_id,
        kind=ActionKind(row.kind),
        rule=Rule(row.rule),
        by=row.by_id,
        at=row.at,
        reason=row.reason,
        until=aware(row.until),
        undone_at=aware(row.undone_at),
        failed=row.failed,
        display_name=name,
    )


def _with_names() -> Any:
    return select(MA, UserRow).outerjoin(UserRow, UserRow.id == MA.user_id)


class SqlModeration(Repository):
    async def record(self, action: NewAction) -> int | None:
        stmt = (
            insert_for(self.session, MA)
            .values(
                chat_id=action.chat_pk,
                user_id=action.user_id,
                kind=str(action.kind),
                rule=str(action.rule),
                reason=action.reason,
                by_id=action.by,
                at=action.at,
                until=action.until,
                failed=action.failed,
                update_id=action.update_id,
            )
            .on_conflict_do_nothing(index_elements=["chat_id", "update_id", "kind"])
            .returning(MA.id)
        )
        found: int | None = (await self.session.execute(stmt)).scalar()
        return found

    async def fail(self, action_id: int, why: str) -> None:
        await self.session.execute(update(MA).where(MA.id == action_id).values(failed=why[:24]))

    async def get(self, action_id: int) -> ModAction | None:
        row = (await self.session.execute(_with_names().where(MA.id == action_id))).first()
        return _action(row[0], row[1]) if row is not None else None

    async def latest(self, chat_pk: int, limit: int) -> list[ModAction]:
        rows = await self.session.execute(
            _with_names().where(MA.chat_id == chat_pk).order_by(MA.id.desc()).limit(limit)
        )
        return [_action(a, u) for a, u in rows]

    async def warnings(self, chat_pk: int, user_id: int, since: dt.datetime) -> list[ModAction]:
        mine = and_(MA.chat_id == chat_pk, MA.user_id == user_id)
        spent = (
            select(func.max(MA.id))
            .where(
                mine,
                MA.kind.in_(LIMIT_ACTIONS),
                MA.rule == str(Rule.WARN_LIMIT),
                MA.undone_at.is_(None),
                MA.failed.is_(None),
            )
            .scalar_subquery()
        )
        rows = await self.session.execute(
            _with_names()
            .where(
                mine,
                MA.kind == str(ActionKind.WARNED),
                MA.undone_at.is_(None),
                MA.at > since,
                (spent.is_(None)) | (MA.id > spent),  # recorded after the limit's action
            )
            .order_by(MA.at, MA.id)
        )
        return [_action(a, u) for a, u in rows]

    async def undo(self, action_id: int, at: dt.datetime) -> bool:
        result = await self.session.execute(
            update(MA)
            .where(MA.id == action_id, MA.undone_at.is_(None))
            .values(undone_at=at)
            .returning(MA.id)
        )
        return result.scalar() is not None

    async def messages_before(self, chat_id: int, user_id: int) -> int:
        found = await self.session.scalar(
            select(MembershipRow.messages)
            .join(ChatRow, ChatRow.id == MembershipRow.chat_id)
            .where(ChatRow.telegram_id == chat_id, MembershipRow.user_id == user_id)
        )
        return int(found or 0)

    async def counts(self, chat_pk: int, since: dt.datetime) -> dict[ActionKind, int]:
        action = EventRow.meta["action"].as_string()
        rows = await self.session.execute(
            select(action, func.count())
            .where(
                EventRow.chat_id == chat_pk,
                EventRow.kind == str(EventKind.MODERATION),
                EventRow.at >= since,
            )
            .group_by(action)
        )
        return {ActionKind(a): n for a, n in rows if a in set(ActionKind)}
