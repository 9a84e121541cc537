"""Scheduled posts handed to the outbox, and the outbox's rows sent once, against the fakes."""

import datetime as dt

from campaigns.access import Tap
from campaigns.content import Button, PostContent
from campaigns.coupons import CouponKind, Template
from campaigns.members import ChatInfo, Person
from campaigns.outbox import DeliveryStatus
from campaigns.schedule import PostStatus, parse_when
from campaigns.services import calendar, coupons, outbox
from campaigns.services.outbox import Outcome, Result
from campaigns.settings import ChatSettings
from tests.fakes import EVERYONE
from tests.services.fakes import FakeDatabase

GROUP = ChatInfo(chat_id=-1005, type="supergroup", title="Morning club")
CREATED = dt.datetime(2026, 11, 16, 0, 0, tzinfo=dt.UTC)
DUE = dt.datetime(2026, 11, 16, 1, 0, tzinfo=dt.UTC)  # daily 09:00 in Shanghai
GRACE = dt.timedelta(minutes=10)
SECOND = dt.timedelta(seconds=1)
DAY = dt.timedelta(days=1)
HELLO = PostContent(text="Good morning")


async def a_post(db: FakeDatabase, schedule="daily 09:00", content=HELLO) -> int:
    async with db.uow() as uow:
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=ChatSettings())
        await uow.commit()
    post = await calendar.add_post(
        db.uow(),
        chat_id=GROUP.chat_id,
        content=content,
        when=parse_when(schedule, "Asia/Shanghai", CREATED),
        at=CREATED,
    )
    return post.id


async def hand_over(db: FakeDatabase, now: dt.datetime) -> calendar.HandOver:
    return await calendar.hand_over_due(db.uow, now=now, grace=GRACE)


async def claim(db: FakeDatabase, now: dt.datetime, worker="w1"):
    return await outbox.claim(db.uow(), worker=worker, now=now, limit=10)


async def send(db: FakeDatabase, now: dt.datetime, message_id=55, worker="w1"):
    """One pass of a worker: claim due rows, mark them going out, record them sent."""
    going = await outbox.settle(db.uow(), results=[], start=await claim(db, now, worker),
                                worker=worker, now=now)  # fmt: skip
    results = [Result(d, Outcome.SENT, now, message_id=message_id) for d in going]
    await outbox.settle(db.uow(), results=results, worker=worker, now=now)
    return going


def rows(db: FakeDatabase) -> list[tuple[DeliveryStatus, dt.datetime]]:
    return [(d.status, d.due_at) for _id, d in sorted(db.t.deliveries.items())]


# -- hand-over ---------------------------------------------------------------------------------


async def test_a_due_run_is_handed_to_the_outbox_exactly_once():
    db = FakeDatabase()
    post = await a_post(db)

    early = await hand_over(db, DUE - SECOND)
    first = await hand_over(db, DUE)
    again = await hand_over(db, DUE + SECOND)

    assert (early.queued, first.queued, again.queued) == (0, 1, 0)
    assert rows(db) == [(DeliveryStatus.PENDING, DUE)]
    assert db.t.posts[post].next_run_at == DUE + DAY


async def test_a_run_missed_beyond_the_grace_window_is_recorded_skipped_and_never_sent():
    db = FakeDatabase()
    post = await a_post(db)

    handed = await hand_over(db, DUE + 2 * GRACE)

    assert handed.queued == 0
    assert [(p.id, at) for p, at in handed.skipped] == [(post, DUE)]
    assert rows(db) == [(DeliveryStatus.SKIPPED, DUE)]
    assert await claim(db, DUE + DAY) == []


async def test_after_a_long_downtime_only_the_latest_run_goes_out():
    db = FakeDatabase()
    post = await a_post(db)

    handed = await hand_over(db, DUE + 3 * DAY + SECOND)

    assert (handed.queued, handed.passed_over) == (1, 3)
    assert rows(db) == [(DeliveryStatus.PENDING, DUE + 3 * DAY)]
    assert db.t.posts[post].next_run_at == DUE + 4 * DAY


async def test_a_one_off_post_is_done_after_its_run():
    db = FakeDatabase()
    post = await a_post(db, schedule="2026-11-16 09:00")

    await hand_over(db, DUE)
    later = await hand_over(db, DUE + DAY)

    assert later.queued == 0
    assert (db.t.posts[post].status, db.t.posts[post].next_run_at) == (PostStatus.DONE, None)


# -- sending -----------------------------------------------------------------------------------


async def test_a_handed_over_run_is_sent_once_and_its_message_remembered():
    db = FakeDatabase()
    post = await a_post(db)
    await hand_over(db, DUE)

    sent = await send(db, DUE, message_id=55)
    again = await send(db, DUE + SECOND)

    assert [(d.post_id, d.target_chat, d.content.text) for d in sent] == [
        (post, GROUP.chat_id, "Good morning")
    ]
    assert again == []
    assert rows(db) == [(DeliveryStatus.SENT, DUE)]
    assert db.t.posts[post].last_message_id == 55


async def test_the_next_run_of_a_replacing_post_names_the_message_to_delete():
    db = FakeDatabase()
    await a_post(db, content=PostContent(text="Today's menu", replace_previous=True))
    await hand_over(db, DUE)
    await send(db, DUE, message_id=55)

    await hand_over(db, DUE + DAY)
    [tomorrow] = await claim(db, DUE + DAY)

    assert tomorrow.replace_message == 55


async def test_members_can_claim_from_the_coupon_button_of_a_post_that_went_out():
    db = FakeDatabase()
    async with db.uow() as uow:
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=ChatSettings())
        await uow.commit()
    offer = await coupons.create_offer(
        db.uow(), chat_id=GROUP.chat_id, name="¥5 off", template=Template(CouponKind.FIXED, 500),
        stock=None, per_member=1, at=CREATED,
    )  # fmt: skip
    await a_post(
        db, content=PostContent(text="Claim!", buttons=[Button(text="🎟", coupon=offer.id)])
    )
    await hand_over(db, DUE)
    await send(db, DUE, message_id=55)

    issued = await coupons.claim(
        db.uow(), gate=EVERYONE, bot_id=9, update_id=1, template_id=offer.id,
        person=Person(5, "May"), tap=Tap(GROUP.chat_id, 55), at=DUE,
    )  # fmt: skip

    assert issued.offer.id == offer.id


async def test_a_coupon_button_whose_offer_ended_before_sending_is_left_off():
    db = FakeDatabase()
    async with db.uow() as uow:
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=ChatSettings())
        await uow.commit()
    offer = await coupons.create_offer(
        db.uow(), chat_id=GROUP.chat_id, name="¥5 off", template=Template(CouponKind.FIXED, 500),
        stock=None, per_member=1, at=CREATED,
    )  # fmt: skip
    buttons = [Button(text="🎟", coupon=offer.id), Button(text="Menu", url="https://example.com")]
    await a_post(db, content=PostContent(text="Claim!", buttons=buttons))
    await hand_over(db, DUE)
    await coupons.end_offer(db.uow(), chat_id=GROUP.chat_id, template_id=offer.id)

    [going] = await claim(db, DUE)

    assert [b.text for b in going.content.buttons] == ["Menu"]


async def test_a_transient_error_is_retried_with_growing_waits_then_given_up_after_five_tries():
    db = FakeDatabase()
    await a_post(db)
    await hand_over(db, DUE)
    now, waits = DUE, []

    for _try in range(5):
        [d] = await outbox.settle(db.uow(), results=[], start=await claim(db, now), worker="w1",
                                  now=now)  # fmt: skip
        await outbox.settle(db.uow(), results=[Result(d, Outcome.RETRY, now, error="timeout")],
                            worker="w1", now=now)  # fmt: skip
        due = db.t.deliveries[d.id].due_at
        if due > now:
            assert await claim(db, due - SECOND) == []
            waits.append((due - now).total_seconds())
            now = due

    assert waits == [2, 4, 8, 16]
    assert rows(db)[0][0] is DeliveryStatus.FAILED


async def test_after_a_crash_unsent_rows_go_back_to_the_queue_and_in_flight_ones_are_never_resent():
    db = FakeDatabase()
    await a_post(db)
    await a_post(db, schedule="daily 09:00")
    await hand_over(db, DUE)
    first, second = await claim(db, DUE, worker="dead")
    await outbox.settle(db.uow(), results=[], start=[first], worker="dead", now=DUE)

    recovered = await outbox.recover(db.uow, now=DUE, dead=lambda worker: worker == "dead")
    resent = await send(db, DUE, worker="alive")

    assert recovered == (1, 1)
    assert [d.id for d in resent] == [second.id]
    assert db.t.deliveries[first.id].status is DeliveryStatus.UNCERTAIN


async def test_a_row_recovered_after_its_lease_is_not_sent_by_the_worker_that_lost_it():
    db = FakeDatabase()
    await a_post(db)
    await hand_over(db, DUE)
    [row] = await claim(db, DUE, worker="slow")

    await outbox.recover(db.uow, now=DUE + outbox.LEASE + SECOND, dead=lambda worker: False)
    going = await outbox.settle(db.uow(), results=[], start=[row], worker="slow", now=DUE)
    sent = await send(db, DUE + outbox.LEASE + SECOND, worker="fresh")

    assert going == []
    assert [d.id for d in sent] == [row.id]


async def test_a_clean_stop_hands_claimed_rows_to_the_next_worker():
    db = FakeDatabase()
    await a_post(db)
    await hand_over(db, DUE)
    await claim(db, DUE, worker="stopping")

    released = await outbox.release(db.uow(), worker="stopping")
    sent = await send(db, DUE, worker="next")

    assert released == 1
    assert len(sent) == 1
