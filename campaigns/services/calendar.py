"""Content calendar use cases: drafting, confirming and managing posts; handing due runs
to the outbox; enrolling members into day-N sequences.

The scheduler only ticks. Whether a run is due is read from the rows, so a run that fell
due while the bot was down is found on the next tick: sent if still within the grace
window, otherwise recorded as skipped (and shown in /posts), never sent twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from campaigns.access import AccessDenied, ButtonKind, Denied, Gate, Tap
from campaigns.content import PostContent
from campaigns.errors import DomainError
from campaigns.outbox import DeliveryStatus
from campaigns.ports import UnitOfWork
from campaigns.ports.calendar import PostRecord, StepRecord
from campaigns.schedule import LIVE, PostStatus, ScheduleError, StepStatus, When, WhenError
from campaigns.services.access import authorize_admin, check_buttons, checked_tap
from campaigns.services.campaigns import attach_plan_posts
from campaigns.services.chats import claim_update, require_chat
from campaigns.services.journeys import configure_journeys

HANDOVER_BATCH = 200
SEQUENCE_GRACE = dt.timedelta(days=1)  # a day-N message later than this is skipped
MAX_DAY = 365


class PostAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    DELETE = "delete"


class PostRefusal(StrEnum):
    UNKNOWN = "unknown"  # no such post in this group
    STATE = "state"  # e.g. resuming a post that is not paused


@dataclass
class StepDayRefused(DomainError, ValueError):
    """A sequence step's day outside 0 (the day they join) to `most`."""

    day: int
    most: int = MAX_DAY


@dataclass
class PostRefused(DomainError):
    """`status` is the post's state when the action (None: the ✅ confirm) could not apply."""

    reason: PostRefusal
    post_id: int
    status: str | None = None
    action: PostAction | None = None


@dataclass
class HandOver:
    """What one tick handed to the outbox."""

    queued: int = 0
    skipped: list[tuple[PostRecord, dt.datetime]] = field(default_factory=list)
    passed_over: int = 0  # earlier runs of recurring posts that fell in a long downtime


async def add_post(
    uow: UnitOfWork,
    *,
    chat_id: int,
    content: PostContent,
    when: When,
    at: dt.datetime,
    created_by: int | None = None,
    draft: bool = False,
    campaign: str | None = None,
    phase: str | None = None,
    update: tuple[int, int] | None = None,
) -> PostRecord:
    """Store a post; a draft waits for the admin's ✅ after the preview. `update` is
    (bot id, update id) for a post made in chat, so a redelivery makes nothing twice."""
    nxt = when.next_after(at)
    if nxt is None:
        raise ScheduleError(WhenError.PAST, when.describe())
    async with uow:
        if update is not None:
            await claim_update(uow, update[0], update[1], at)
        chat = await require_chat(uow, chat_id)
        await check_buttons(uow, chat.pk, content, at)
        post_id = await uow.calendar.add_post(
            chat.pk,
            content,
            when,
            status=PostStatus.DRAFT if draft else PostStatus.ACTIVE,
            next_run_at=None if draft else nxt,
            created_by=created_by,
            at=at,
            campaign=campaign,
            phase=phase,
        )
        post = await uow.calendar.post(post_id)
        await uow.commit()
    assert post is not None
    return post


async def confirm_post(
    uow: UnitOfWork, *, chat_id: int, post_id: int, at: dt.datetime
) -> PostRecord:
    """Draft -> active (a second tap changes nothing and says so)."""
    async with uow:
        chat = await require_chat(uow, chat_id)
        post = await uow.calendar.post(post_id)
        if post is None or post.chat_pk != chat.pk:
            raise PostRefused(PostRefusal.UNKNOWN, post_id)
        await check_buttons(uow, chat.pk, post.content, at)
        nxt = post.when.next_after(at)
        if nxt is None:
            raise ScheduleError(WhenError.PAST, post.when.describe())
        if not await uow.calendar.set_status(
            post_id, old=[PostStatus.DRAFT], new=PostStatus.ACTIVE, next_run_at=nxt
        ):
            raise PostRefused(PostRefusal.STATE, post_id, post.status)
        post = await uow.calendar.post(post_id)
        await uow.commit()
    assert post is not None
    return post


class CampaignExists(DomainError):
    """The group already has live posts of this campaign (import with replace)."""

    def __init__(self, campaign: str, posts: int) -> None:
        super().__init__(campaign)
        self.campaign, self.posts = campaign, posts


@dataclass(frozen=True)
class PlanImport:
    """One document of a calendar file, resolved: its group, campaign and posts (and which of
    them are imported paused, in the same order)."""

    chat_id: int
    campaign: str | None
    posts: Sequence[tuple[str | None, When, PostContent]]  # (phase, schedule, content)
    paused: Sequence[bool] = ()
    journeys: dict[str, dict[Any, object]] = field(default_factory=dict)  # `journeys:`


async def import_plan(
    uow: UnitOfWork,
    *,
    chat_id: int,
    campaign: str | None,
    posts: list[tuple[str, When, PostContent]],
    at: dt.datetime,
    replace: bool = False,
) -> list[PostRecord]:
    """One plan's posts (see import_plans)."""
    plan = PlanImport(chat_id, campaign, posts)
    return await import_plans(uow, plans=[plan], at=at, replace=replace)


async def import_plans(
    uow: UnitOfWork, *, plans: list[PlanImport], at: dt.datetime, replace: bool = False
) -> list[PostRecord]:
    """All of a file's posts in one transaction: a file is imported whole or not at all.

    Importing a campaign again is refused unless `replace`, which deletes its live posts; a
    document without a campaign replaces the group's posts that are in no campaign (what an
    export of the group wrote), so an export imports back to the same posts."""
    async with uow:
        chats = {p.chat_id: await require_chat(uow, p.chat_id) for p in plans}
        for chat_id, campaign in dict.fromkeys((p.chat_id, p.campaign) for p in plans):
            pk = chats[chat_id].pk
            live = [p for p in await uow.calendar.posts(pk, LIVE) if p.campaign == campaign]
            if live and campaign is not None and not replace:
                raise CampaignExists(campaign, len(live))
            for p in live if replace else []:
                await uow.calendar.set_status(
                    p.id, old=[p.status], new=PostStatus.DELETED, next_run_at=None
                )
        for plan in plans:
            if plan.journeys:
                chats[plan.chat_id] = await configure_journeys(
                    uow, chats[plan.chat_id], plan.journeys, at
                )
        ids: list[int] = []
        per_plan: list[int] = []
        for plan in plans:
            per_plan.append(len(ids))
            pk = chats[plan.chat_id].pk
            paused = list(plan.paused) or [False] * len(plan.posts)
            for (phase, when, content), pause in zip(plan.posts, paused, strict=True):
                await check_buttons(uow, pk, content, at)
                ids.append(
                    await uow.calendar.add_post(
                        pk,
                        content,
                        when,
                        status=PostStatus.PAUSED if pause else PostStatus.ACTIVE,
                        next_run_at=when.next_after(at),
                        created_by=None,
                        at=at,
                        campaign=plan.campaign,
                        phase=phase,
                    )
                )
        stored = [await uow.calendar.post(i) for i in ids]
        for plan, first in zip(plans, per_plan, strict=True):
            if plan.campaign is not None:  # the campaign's 复盘 counts its posts
                mine = [p for p in stored[first : first + len(plan.posts)] if p is not None]
                await attach_plan_posts(uow, chats[plan.chat_id], plan.campaign, mine, at)
        await uow.commit()
    return [p for p in stored if p is not None]


async def decide_draft(
    uow: Callable[[], UnitOfWork],
    gate: Gate,
    *,
    post_id: int,
    save: bool,
    tap: Tap,
    user_id: int,
    at: dt.datetime,
) -> PostRecord | None:
    """A /schedule preview's ✅ (save: the draft becomes active, returned) or ✖ (deleted,
    None): only on the preview the bot sent, only by an admin of the post's group. A forged
    id is refused before anything about the post is looked up."""
    await checked_tap(uow(), kind=ButtonKind.SCHEDULE, object_id=post_id, tap=tap)
    owner = await post_group(uow(), post_id=post_id)
    if owner is None:
        raise AccessDenied(Denied.NOT_ADMIN)
    await authorize_admin(gate, group_id=owner, user_id=user_id)
    if save:
        return await confirm_post(uow(), chat_id=owner, post_id=post_id, at=at)
    await change_post(uow(), chat_id=owner, post_id=post_id, action=PostAction.DELETE, at=at)
    return None


async def post_group(uow: UnitOfWork, *, post_id: int) -> int | None:
    """The Telegram id of the post's group (a preview's button may be tapped anywhere)."""
    async with uow:
        post = await uow.calendar.post(post_id)
    return post.chat_id if post is not None else None


async def group_posts(
    uow: UnitOfWork, *, chat_id: int, statuses: tuple[PostStatus, ...] = LIVE
) -> list[PostRecord]:
    async with uow:
        chat = await require_chat(uow, chat_id)
        return await uow.calendar.posts(chat.pk, statuses)


async def change_post(
    uow: UnitOfWork, *, chat_id: int, post_id: int, action: PostAction, at: dt.datetime
) -> PostRecord:
    """Pause, resume (the next run counted from now: paused runs are not caught up) or
    delete (drafts too)."""
    async with uow:
        chat = await require_chat(uow, chat_id)
        post = await uow.calendar.post(post_id)
        if post is None or post.chat_pk != chat.pk or post.status == PostStatus.DELETED:
            raise PostRefused(PostRefusal.UNKNOWN, post_id)
        if action is PostAction.PAUSE:
            changed = await uow.calendar.set_status(
                post_id,
                old=[PostStatus.ACTIVE],
                new=PostStatus.PAUSED,
                next_run_at=post.next_run_at,
            )
        elif action is PostAction.RESUME:
            nxt = post.when.next_after(at)
            changed = nxt is not None and await uow.calendar.set_status(
                post_id, old=[PostStatus.PAUSED], new=PostStatus.ACTIVE, next_run_at=nxt
            )
        else:
            changed = await uow.calendar.set_status(
                post_id,
                old=[PostStatus.DRAFT, PostStatus.ACTIVE, PostStatus.PAUSED, PostStatus.DONE],
                new=PostStatus.DELETED,
                next_run_at=None,
            )
        if not changed:
            raise PostRefused(PostRefusal.STATE, post_id, post.status, action)
        post = await uow.calendar.post(post_id)
        await uow.commit()
    assert post is not None
    return post


async def realign_runs(uow: UnitOfWork, *, now: dt.datetime) -> int:
    """Recurring posts whose stored next run is not a run of their schedule get the next
    run counted from now; how many. Runs stored before cron weekdays meant standard cron
    (Sunday = 0) fell on the wrong day; called when the bot starts."""
    moved = 0
    async with uow:
        for post in await uow.calendar.recurring(LIVE):
            due = post.next_run_at
            if due is None or due <= now:
                continue  # an overdue run is handed over (or skipped) as it is
            if post.when.next_after(due - dt.timedelta(microseconds=1)) == due:
                continue
            nxt = post.when.next_after(now)
            moved += await uow.calendar.set_status(
                post.id, old=[post.status], new=post.status, next_run_at=nxt
            )
        await uow.commit()
    return moved


async def hand_over_due(
    uow: Callable[[], UnitOfWork], *, now: dt.datetime, grace: dt.timedelta
) -> HandOver:
    """Every active post whose run is due becomes one outbox row (or a skipped one).

    The conditional advance of `next_run_at` and the unique (post, run time) row make this
    safe to run in several processes at once: each run is handed over exactly once.
    """
    result = HandOver()
    while True:
        async with uow() as work:
            due = await work.calendar.due(now, HANDOVER_BATCH)
            for post in due:
                assert post.next_run_at is not None
                latest, passed = post.when.latest_due(post.next_run_at, now)
                if not await work.calendar.advance(
                    post.id, old=post.next_run_at, new=post.when.next_after(latest)
                ):
                    continue  # another process took this run
                late = now - latest
                in_time = late <= grace
                error = (
                    None if in_time else f"missed: due {int(late.total_seconds() // 60)} min ago"
                )
                status = DeliveryStatus.PENDING if in_time else DeliveryStatus.SKIPPED
                if await work.outbox.add_run(
                    post.id, post.chat_id, latest, status=status, error=error
                ):
                    if in_time:
                        result.queued += 1
                    else:
                        result.skipped.append((post, latest))
                result.passed_over += passed
            await work.commit()
        if len(due) < HANDOVER_BATCH:
            return result


async def add_step(
    uow: UnitOfWork,
    *,
    chat_id: int,
    day: int,
    content: PostContent,
    private: bool,
    at: dt.datetime,
    update: tuple[int, int] | None = None,
) -> StepRecord:
    """Day N of the welcome sequence, for members who join from now on."""
    if not 0 <= day <= MAX_DAY:
        raise StepDayRefused(day)
    async with uow:
        if update is not None:
            await claim_update(uow, update[0], update[1], at)
        chat = await require_chat(uow, chat_id)
        await check_buttons(uow, chat.pk, content, at)
        step_id = await uow.calendar.add_step(chat.pk, day, content, private=private, at=at)
        steps = await uow.calendar.steps(chat.pk)
        await uow.commit()
    return next(s for s in steps if s.id == step_id)


async def group_steps(uow: UnitOfWork, *, chat_id: int) -> list[StepRecord]:
    async with uow:
        chat = await require_chat(uow, chat_id)
        return await uow.calendar.steps(chat.pk)


async def delete_step(uow: UnitOfWork, *, chat_id: int, step_id: int) -> None:
    async with uow:
        chat = await require_chat(uow, chat_id)
        if not await uow.calendar.set_step_status(step_id, chat.pk, StepStatus.DELETED):
            raise PostRefused(PostRefusal.UNKNOWN, step_id)
        await uow.commit()


async def enrol_due(uow: Callable[[], UnitOfWork], *, now: dt.datetime) -> int:
    """Queue each member's day-N message once; one joined long ago is not caught up."""
    queued = 0
    while True:
        async with uow() as work:
            due = await work.calendar.due_enrolments(now, HANDOVER_BATCH)
            for step, member, target, at in due:
                if now - at > SEQUENCE_GRACE:  # recorded as skipped, so never looked at again
                    await work.outbox.add_step_run(
                        step.id, member, target, at, status=DeliveryStatus.SKIPPED, error="missed"
                    )
                else:
                    queued += await work.outbox.add_step_run(step.id, member, target, at)
            await work.commit()
        if len(due) < HANDOVER_BATCH:
            return queued


MEDIA_PREFIX = "media:"


async def store_media(uow: UnitOfWork, *, name: str, data: bytes, at: dt.datetime) -> str:
    """A photo from a file, for a post's `photo`: uploaded when the post is first sent."""
    async with uow:
        media_id = await uow.calendar.add_media(name, data, at)
        await uow.commit()
    return f"{MEDIA_PREFIX}{media_id}"


async def media_of(uow: UnitOfWork, *, ref: str) -> tuple[str, bytes, str | None] | None:
    if not ref.startswith(MEDIA_PREFIX) or not ref[len(MEDIA_PREFIX) :].isdigit():
        return None
    async with uow:
        return await uow.calendar.media(int(ref[len(MEDIA_PREFIX) :]))


async def remember_media(uow: UnitOfWork, *, ref: str, file_id: str) -> None:
    async with uow:
        await uow.calendar.set_media_file(int(ref[len(MEDIA_PREFIX) :]), file_id)
        await uow.commit()
