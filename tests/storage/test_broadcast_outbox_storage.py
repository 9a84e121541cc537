"""Broadcast A/B tests in the outbox and the database: each member one row in their arm, the
holdout never sent, each arm's own message, and the per-arm SQL held to the Python rule."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.audience import Audience
from campaigns.broadcast_variants import HOLDOUT, arm_of, counts_of, member_of
from campaigns.content import PostContent
from campaigns.members import ChatInfo, Person
from campaigns.outbox import BroadcastStatus, DeliveryStatus
from campaigns.services import broadcasts, outbox
from campaigns.services.members import membership_changed
from campaigns.settings import ChatSettings
from storage.models import BroadcastRow, DeliveryRow, EventRow, OrderRow, UserRow
from tests.storage.test_rule_prefilters import seed_chat

GROUP = ChatInfo(chat_id=-1009876543211, type="supergroup", title="Store")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
PEOPLE = [Person(100 + i, f"M{i}") for i in range(40)]
TEXTS = {"A": "Hi from A", "B": "Hi from B"}


async def members_who_started(uow_factory) -> None:
    await membership_changed(
        uow_factory(), bot_id=1, update_id=1, chat=GROUP, people=PEOPLE, status="member",
        present=True, at=AT - dt.timedelta(days=1), source="test", defaults=ChatSettings(),
    )  # fmt: skip
    async with uow_factory() as u:
        for p in PEOPLE:
            await u.users.set_reachable(p.user_id, True)
        await u.commit()


async def variant_broadcast(uow_factory, holdout: int = 20) -> int:
    """A and B to the 40 members, `holdout` percent held out, sending since AT."""
    await members_who_started(uow_factory)
    a, b = (PostContent(text=t) for t in TEXTS.values())
    record, count, _held = await broadcasts.draft(
        uow_factory(), chat_id=GROUP.chat_id, target=broadcasts.Target.MEMBERS, content=a,
        audience=Audience(), created_by=None, now=AT, variants=[a, b], holdout=holdout,
    )  # fmt: skip
    assert count == len(PEOPLE)
    await broadcasts.start(uow_factory(), broadcast_id=record.id, now=AT)
    return record.id


async def send_all(uow_factory, now: dt.datetime) -> list[outbox.Delivery]:
    """Claim everything due and record it sent, as the sender would."""
    taken = await outbox.claim(uow_factory(), worker="w", now=now, limit=1000)
    going = await outbox.settle(uow_factory(), results=[], start=taken, worker="w", now=now)
    done = [outbox.Result(d, outbox.Outcome.SENT, now, message_id=i) for i, d in enumerate(going)]
    await outbox.settle(uow_factory(), results=done, worker="w", now=now)
    return going


async def test_each_member_gets_their_arms_message_once_and_the_holdout_nothing(uow_factory):
    bid = await variant_broadcast(uow_factory)
    arms = {p.user_id: arm_of(bid, p.user_id, 2, 20) for p in PEOPLE}
    held = sorted(u for u, arm in arms.items() if arm == HOLDOUT)

    sent = await send_all(uow_factory, AT)
    again = await send_all(uow_factory, AT + dt.timedelta(hours=1))
    done = await broadcasts.finish(uow_factory, now=AT + dt.timedelta(hours=1))
    p = await broadcasts.progress(uow_factory(), broadcast_id=bid, now=AT + dt.timedelta(hours=1))

    assert 0 < len(held) < len(PEOPLE) // 2
    assert {arm for arm in arms.values()} == {"A", "B", HOLDOUT}
    assert sorted(d.target_chat for d in sent) == sorted(set(arms) - set(held))
    assert all(d.content.text == TEXTS[arms[d.target_chat]] for d in sent)
    assert again == [] and done == [bid]
    assert (p.sent, p.held_out, p.left, p.broadcast.total) == (
        len(PEOPLE) - len(held), len(held), 0, len(PEOPLE) - len(held)
    )  # fmt: skip
    assert p.broadcast.status == BroadcastStatus.DONE


async def test_a_second_start_adds_no_row_and_a_cancel_leaves_the_holdout_as_it_was(uow_factory):
    bid = await variant_broadcast(uow_factory)
    async with uow_factory() as u:
        before = await u.outbox.counts(bid)
        again = await u.outbox.add_recipients(bid, [p.user_id for p in PEOPLE], AT, arm="A")

    await broadcasts.control(
        uow_factory(), broadcast_id=bid, action=broadcasts.Control.CANCEL, now=AT
    )
    async with uow_factory() as u:
        after = await u.outbox.counts(bid)

    assert again == 0
    assert sum(before.values()) == len(PEOPLE)
    assert after[DeliveryStatus.HOLDOUT] == before[DeliveryStatus.HOLDOUT]
    assert after[DeliveryStatus.CANCELLED] == before[DeliveryStatus.PENDING]


async def test_a_holdout_alone_sends_the_one_message_to_the_rest(uow_factory):
    await members_who_started(uow_factory)
    record, _, _ = await broadcasts.draft(
        uow_factory(), chat_id=GROUP.chat_id, target=broadcasts.Target.MEMBERS,
        content=PostContent(text="Only one"), audience=Audience(), created_by=None, now=AT,
        holdout=50,
    )  # fmt: skip
    await broadcasts.start(uow_factory(), broadcast_id=record.id, now=AT)

    sent = await send_all(uow_factory, AT)

    expected = [p.user_id for p in PEOPLE if arm_of(record.id, p.user_id, 1, 50) == "A"]
    assert sorted(d.target_chat for d in sent) == expected
    assert {d.content.text for d in sent} == {"Only one"}
    assert record.variants is None and record.holdout == 50


# --- the per-arm outcomes: SQL against the rule ---------------------------------------------

H = dt.timedelta(hours=1)
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
STATUSES = [DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.PENDING, "holdout"]
EDGES = [0, 1, 72 * 3600, 72 * 3600 + 1, 168 * 3600, 168 * 3600 + 1, -1]
OFFSET = st.sampled_from(EDGES) | st.integers(-3600, 200 * 3600)  # seconds after the reference
ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "arm": st.sampled_from([None, "A", "B", "C", HOLDOUT]),
            "status": st.sampled_from(STATUSES),
            "sent": st.integers(0, 6 * 3600),  # seconds after the start
            "events": st.lists(
                st.tuples(st.sampled_from(["message", "checkin", "join"]), OFFSET), max_size=3
            ),
            "orders": st.lists(OFFSET, max_size=2),
        }
    ),
    max_size=12,
)


@PROPERTY
@given(rows=ROWS, now_after=st.sampled_from([0, 3600, 80 * 3600, 200 * 3600, 400 * 3600]))
async def test_the_per_arm_counts_in_sql_are_the_rule_over_the_same_rows(
    uow_factory, rows, now_after
):
    start = AT + dt.timedelta(microseconds=250_000)  # the rule counts whole seconds, as SQL
    now = start + dt.timedelta(seconds=now_after)
    members, activity, orders = [], {}, {}
    async with uow_factory() as uow:
        s = uow.session
        chat = await seed_chat(s, -100555)
        other = await seed_chat(s, -100556)
        b = BroadcastRow(
            chat_id=chat.id, target="members", content={"text": "x"}, audience={},
            status="done", created_at=start, started_at=start, holdout=10,
        )  # fmt: skip
        s.add(b)
        await s.flush()
        for i, row in enumerate(rows):
            user = 7000 + i
            s.add(UserRow(id=user, first_name="u"))
            sent_at = start + dt.timedelta(seconds=row["sent"], microseconds=i)
            held = row["status"] == "holdout"
            s.add(
                DeliveryRow(
                    kind="broadcast", broadcast_id=b.id, target_chat=user, due_at=start,
                    status=row["status"], arm=row["arm"],
                    sent_at=None if held or row["status"] != "sent" else sent_at,
                )
            )  # fmt: skip
            since = start if row["arm"] == HOLDOUT else sent_at
            for kind, offset in row["events"]:
                at = since + dt.timedelta(seconds=offset)
                s.add(EventRow(chat_id=chat.id, user_id=user, kind=kind, at=at))
                s.add(EventRow(chat_id=other.id, user_id=user, kind="message", at=at))
                if kind != "join":
                    activity.setdefault(user, []).append(at)
            for n, offset in enumerate(row["orders"]):
                at = since + dt.timedelta(seconds=offset)
                for pk in (chat.id, other.id):
                    s.add(
                        OrderRow(
                            chat_id=pk, external_id=f"{user}-{n}", user_id=user, amount=1,
                            currency="CNY", at=at, coupon_codes={}, source="csv", created_at=at,
                        )
                    )  # fmt: skip
                orders.setdefault(user, []).append(at)
            m = member_of(
                user, row["arm"], row["status"], sent_at if row["status"] == "sent" else None,
                start,
            )  # fmt: skip
            if m is not None:
                members.append(m)
        await s.flush()

        counted = await uow.analytics.broadcast_arms(b.id, now)

    assert counted == counts_of(members, activity, orders, now)
