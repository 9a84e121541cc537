"""Broadcasts in the database: pausing holds back what the sender took, the report's span."""

from __future__ import annotations

import datetime as dt

from campaigns.audience import Audience
from campaigns.content import PostContent
from campaigns.members import ChatInfo, Person
from campaigns.services import broadcasts, outbox
from campaigns.services.members import membership_changed
from campaigns.settings import ChatSettings
from handlers.calendar_texts import CalendarTexts

GROUP = ChatInfo(chat_id=-1009876543210, type="supergroup", title="Store")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
PEOPLE = [Person(41, "Ann"), Person(42, "Ben")]


async def started_broadcast(uow_factory) -> int:
    """Two members who started the bot, and a broadcast to them, sending since AT."""
    await membership_changed(
        uow_factory(), bot_id=1, update_id=1, chat=GROUP, people=PEOPLE, status="member",
        present=True, at=AT - dt.timedelta(days=1), source="test", defaults=ChatSettings(),
    )  # fmt: skip
    async with uow_factory() as u:
        for p in PEOPLE:
            await u.users.set_reachable(p.user_id, True)
        await u.commit()
    record, _, _ = await broadcasts.draft(
        uow_factory(), chat_id=GROUP.chat_id, target=broadcasts.Target.MEMBERS,
        content=PostContent(text="Hi"), audience=Audience(), created_by=None, now=AT,
    )  # fmt: skip
    await broadcasts.start(uow_factory(), broadcast_id=record.id, now=AT)
    return record.id


async def test_rows_claimed_before_a_pause_are_held_back_and_sent_after_resume(uow_factory):
    bid = await started_broadcast(uow_factory)
    taken = await outbox.claim(uow_factory(), worker="w", now=AT, limit=10)
    await broadcasts.control(
        uow_factory(), broadcast_id=bid, action=broadcasts.Control.PAUSE, now=AT
    )

    going = await outbox.settle(uow_factory(), results=[], start=taken, worker="w", now=AT)
    while_paused = await outbox.claim(uow_factory(), worker="w", now=AT, limit=10)
    await broadcasts.control(
        uow_factory(), broadcast_id=bid, action=broadcasts.Control.RESUME, now=AT
    )
    resumed = await outbox.claim(uow_factory(), worker="w", now=AT, limit=10)

    assert len(taken) == 2 and going == [] and while_paused == []
    assert sorted(d.target_chat for d in resumed) == [41, 42]


async def test_the_report_spans_first_start_to_finish_pauses_included(uow_factory):
    bid = await started_broadcast(uow_factory)
    for action, minutes in ((broadcasts.Control.PAUSE, 1), (broadcasts.Control.RESUME, 10)):
        await broadcasts.control(
            uow_factory(), broadcast_id=bid, action=action, now=AT + dt.timedelta(minutes=minutes)
        )
    end = AT + dt.timedelta(minutes=12)
    taken = await outbox.claim(uow_factory(), worker="w", now=end, limit=10)
    going = await outbox.settle(uow_factory(), results=[], start=taken, worker="w", now=end)
    sent = [outbox.Result(d, outbox.Outcome.SENT, end, message_id=i) for i, d in enumerate(going)]
    await outbox.settle(uow_factory(), results=sent, worker="w", now=end)

    assert await broadcasts.finish(uow_factory, now=end) == [bid]
    report = CalendarTexts("en").progress(
        await broadcasts.progress(uow_factory(), broadcast_id=bid, now=end)
    )
    assert "Sent 2 of 2" in report
    assert "12m 0s from start to finish, pauses included" in report


async def test_a_scheduled_post_still_goes_out_beside_a_paused_or_finished_broadcast(uow_factory):
    from campaigns.schedule import parse_when
    from campaigns.services.calendar import add_post

    bid = await started_broadcast(uow_factory)
    await broadcasts.control(
        uow_factory(), broadcast_id=bid, action=broadcasts.Control.PAUSE, now=AT
    )
    post = await add_post(
        uow_factory(), chat_id=GROUP.chat_id, content=PostContent(text="Menu"),
        when=parse_when("daily 09:00", "Asia/Shanghai", AT), at=AT,
    )  # fmt: skip
    async with uow_factory() as u:
        await u.outbox.add_run(post.id, GROUP.chat_id, AT, status="pending", error=None)
        await u.commit()

    taken = await outbox.claim(uow_factory(), worker="w", now=AT, limit=10)
    going = await outbox.settle(uow_factory(), results=[], start=taken, worker="w", now=AT)

    assert [d.post_id for d in going] == [post.id]


async def test_the_outbox_backlog_counts_due_unsent_rows_of_sending_broadcasts(uow_factory):
    bid = await started_broadcast(uow_factory)

    before_due = await outbox.waiting(uow_factory(), now=AT - dt.timedelta(seconds=1))
    due = await outbox.waiting(uow_factory(), now=AT)
    taken = await outbox.claim(uow_factory(), worker="w", now=AT, limit=1)
    claimed = await outbox.waiting(uow_factory(), now=AT)  # taken, not yet sent: still waiting
    going = await outbox.settle(uow_factory(), results=[], start=taken, worker="w", now=AT)
    sent = [outbox.Result(d, outbox.Outcome.SENT, AT, message_id=1) for d in going]
    await outbox.settle(uow_factory(), results=sent, worker="w", now=AT)
    one_sent = await outbox.waiting(uow_factory(), now=AT)
    await broadcasts.control(
        uow_factory(), broadcast_id=bid, action=broadcasts.Control.PAUSE, now=AT
    )
    paused = await outbox.waiting(uow_factory(), now=AT)

    assert (before_due, due, claimed, one_sent, paused) == (0, 2, 2, 1, 0)
