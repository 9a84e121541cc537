"""Groups and their settings."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.checkin import CheckinRules
from campaigns.journeys import book_from_json, book_to_json
from campaigns.listening import ListenSettings
from campaigns.members import ChatInfo
from campaigns.moderation import DEFAULT_MODERATION, ModerationRules
from campaigns.ports.chats import ChatRecord
from campaigns.referral import ReferralProgram
from campaigns.settings import ChatSettings
from campaigns.tiers import ladder_from_json, ladder_to_json
from storage.models import (
    AdminFocusRow,
    AudienceRow,
    ChatRow,
    MembershipRow,
    MemberTagRow,
    _now,
)
from storage.repositories.base import Repository, insert_for

SETTINGS_CHANNEL = "growthbot_settings"  # PostgreSQL NOTIFY: a group's settings changed


def to_record(row: Any) -> ChatRecord:
    """A group's row (ORM or Core, the column names are the same) to the domain's view."""
    settings = _settings(
        row.timezone,
        row.language,
        row.checkin_points,
        row.streak_bonus,
        row.streak_bonus_max,
        _key(row.milestones),
        _key(row.milestone_coupons),
        _key(row.referral),
        row.order_points or 0,
        _key(row.tiers),
        _key(row.journeys),
        row.points_expiry_months or 0,
        row.points_expire_from,
        _key(row.moderation),
        _key(row.listening),
    )
    return ChatRecord(
        pk=row.id, chat_id=row.telegram_id, title=row.title, active=row.active, settings=settings,
        rfm_from=row.rfm_from, username=row.username,
    )  # fmt: skip


def _key(value: dict[str, Any] | None) -> str:
    return json.dumps(value or {}, sort_keys=True)


@functools.lru_cache(maxsize=4096)
def _settings(
    timezone: str,
    language: str,
    points: int,
    streak_bonus: int,
    streak_bonus_max: int,
    milestones: str,
    milestone_coupons: str,
    referral: str,
    order_points: int,
    tiers: str = "{}",
    journeys: str = "{}",
    points_expiry_months: int = 0,
    points_expire_from: dt.date | None = None,
    moderation: str = "{}",
    listening: str = "{}",
) -> ChatSettings:
    """Settings parsed once per distinct stored value (they are frozen, so shared): every
    batch of chatter and every check-in reads its group's row."""
    rules = CheckinRules(
        points=points,
        streak_bonus=streak_bonus,
        streak_bonus_max=streak_bonus_max,
        milestones={int(day): int(pts) for day, pts in json.loads(milestones).items()},
        milestone_coupons={int(d): int(o) for d, o in json.loads(milestone_coupons).items()},
    )
    return ChatSettings(
        timezone=timezone,
        language=language,
        checkin=rules,
        referral=ReferralProgram.from_json(json.loads(referral)),
        order_points=order_points,
        tiers=ladder_from_json(json.loads(tiers)),
        journeys=book_from_json(json.loads(journeys)),
        points_expiry_months=points_expiry_months,
        points_expire_from=points_expire_from,
        moderation=ModerationRules.from_json(json.loads(moderation)),
        listening=ListenSettings.from_json(json.loads(listening)),
    )


_BY_TELEGRAM_ID = select(cast(Table, ChatRow.__table__)).where(
    ChatRow.__table__.c.telegram_id == bindparam("telegram_id")
)


def _write_settings(row: ChatRow, settings: ChatSettings) -> None:
    row.timezone = settings.timezone
    row.language = settings.language
    row.checkin_points = settings.checkin.points
    row.streak_bonus = settings.checkin.streak_bonus
    row.streak_bonus_max = settings.checkin.streak_bonus_max
    row.milestones = {str(day): pts for day, pts in sorted(settings.checkin.milestones.items())}
    row.milestone_coupons = {
        str(day): offer for day, offer in sorted(settings.checkin.milestone_coupons.items())
    }
    row.referral = settings.referral.to_json()
    row.order_points = settings.order_points
    row.points_expiry_months = settings.points_expiry_months
    row.points_expire_from = settings.points_expire_from
    row.tiers = None if settings.tiers.is_default() else ladder_to_json(settings.tiers)
    row.journeys = book_to_json(settings.journeys)
    row.moderation = (
        None if settings.moderation == DEFAULT_MODERATION else settings.moderation.to_json()
    )
    default = settings.listening == ListenSettings()
    row.listening = None if default else settings.listening.to_json()


async def notify_changed(session: AsyncSession, chat_pk: int) -> None:
    """On PostgreSQL, tell every process of the bot on commit (NOTIFY) that what it caches
    of the group (its settings, its reply book) is stale."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(func.pg_notify(SETTINGS_CHANNEL, ChatRow.telegram_id.cast(String))).where(
                ChatRow.id == chat_pk
            )
        )


class SqlChats(Repository):
    async def _row(self, chat_id: int) -> ChatRow | None:
        return await self.session.scalar(select(ChatRow).where(ChatRow.telegram_id == chat_id))

    async def get(self, chat_id: int) -> ChatRecord | None:
        """A prepared Core read: the activity batches ask this for every group they touch."""
        row = (await self.run(_BY_TELEGRAM_ID, {"telegram_id": chat_id})).first()
        return to_record(row) if row else None

    async def by_pk(self, pk: int) -> ChatRecord | None:
        row = await self.session.get(ChatRow, pk)
        return to_record(row) if row else None

    async def locked(self, pk: int) -> ChatRecord:
        row = await self.session.scalar(
            select(ChatRow)
            .where(ChatRow.id == pk)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert row is not None
        return to_record(row)

    async def focus_of(self, user_id: int) -> ChatRecord | None:
        row = await self.session.scalar(
            select(ChatRow)
            .join(AdminFocusRow, AdminFocusRow.chat_id == ChatRow.id)
            .where(AdminFocusRow.user_id == user_id)
        )
        return to_record(row) if row is not None else None

    async def set_focus(self, user_id: int, chat_pk: int, at: dt.datetime) -> None:
        stmt = insert_for(self.session, AdminFocusRow).values(
            user_id=user_id, chat_id=chat_pk, chosen_at=at
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id"], set_={"chat_id": chat_pk, "chosen_at": at}
            )
        )

    async def _adopt(self, twin: int, group: int) -> None:
        tags = cast(Table, MemberTagRow.__table__)
        audiences = cast(Table, AudienceRow.__table__)
        mine = tags.alias("mine")
        await self.session.execute(
            update(tags)
            .where(tags.c.chat_id == twin)
            .where(
                ~select(mine.c.id)
                .where(
                    mine.c.chat_id == group,
                    mine.c.user_id == tags.c.user_id,
                    mine.c.tag == tags.c.tag,
                )
                .exists()
            )
            .values(chat_id=group)
        )
        named = audiences.alias("named")
        await self.session.execute(
            update(audiences)
            .where(audiences.c.chat_id == twin)
            .where(
                ~select(named.c.id)
                .where(named.c.chat_id == group, named.c.name == audiences.c.name)
                .exists()
            )
            .values(chat_id=group)
        )

    async def active(self) -> list[ChatRecord]:
        rows = await self.session.scalars(
            select(ChatRow).where(ChatRow.active.is_(True)).order_by(ChatRow.id)
        )
        return [to_record(row) for row in rows]

    async def of_member(self, user_id: int) -> list[ChatRecord]:
        rows = await self.session.scalars(
            select(ChatRow)
            .join(MembershipRow, MembershipRow.chat_id == ChatRow.id)
            .where(
                MembershipRow.user_id == user_id,
                MembershipRow.present.is_(True),
                ChatRow.active.is_(True),
            )
            .order_by(ChatRow.title, ChatRow.id)
        )
        return [to_record(row) for row in rows]

    async def register(
        self, chat: ChatInfo, *, active: bool, bot_status: str | None, defaults: ChatSettings
    ) -> ChatRecord:
        row = await self._row(chat.chat_id)
        if row is None:
            # Many members can speak in a brand-new group at once: insert race-free.
            fresh = ChatRow(telegram_id=chat.chat_id, type=chat.type)
            _write_settings(fresh, defaults)
            values = {
                c.key: getattr(fresh, c.key)
                for c in ChatRow.__table__.c
                if getattr(fresh, c.key, None) is not None
            }
            await self.session.execute(
                insert_for(self.session, ChatRow.__table__)
                .values(**values, created_at=_now(), updated_at=_now())
                .on_conflict_do_nothing(index_elements=["telegram_id"])
            )
            row = await self._row(chat.chat_id)
            assert row is not None
        row.type = chat.type
        row.title = chat.title or row.title
        row.username = chat.username
        row.active = active
        if bot_status is not None:
            row.bot_status = bot_status
        await self.session.flush()
        return to_record(row)

    async def save_settings(self, pk: int, settings: ChatSettings) -> None:
        """Store a group's settings; on PostgreSQL the other processes of the bot are told
        on commit (NOTIFY), so none answers with its cached old settings."""
        row = await self.session.get_one(ChatRow, pk)
        _write_settings(row, settings)
        await self.session.flush()
        await notify_changed(self.session, pk)

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> bool:
        """Point the old group's row at the new id; the twin the supergroup's first updates
        may have registered is dropped, after what admins made there (tags, saved audiences)
        moves to the group, where it does not clash with what the group has."""
        old = await self._row(old_chat_id)
        if old is None:
            return False
        twin = await self._row(new_chat_id)
        if twin is not None:
            if twin.id == old.id:
                return False
            await self._adopt(twin.id, old.id)
            await self.session.execute(delete(ChatRow).where(ChatRow.id == twin.id))
            await self.session.flush()
        old.telegram_id = new_chat_id
        old.type = "supergroup"
        old.active = True
        await self.session.flush()
        return True
