"""Member summaries, stages and RFM in the database, held to campaigns/segments.py.

The stage and RFM of a whole group are computed by one SQL statement each; on random groups,
on SQLite and PostgreSQL, they equal what stage_of and score_group say member by member.
Every example seeds in one transaction and rolls back.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update

from campaigns.checkin import local_day
from campaigns.members import ChatInfo, EventKind, Person
from campaigns.orders import OrderIn
from campaigns.ports.members import MessageSeen
from campaigns.ports.segments import ActiveDay
from campaigns.segments import (
    QUINTILE_MIN,
    RfmFacts,
    Stage,
    StageThresholds,
    days_since,
    score_group,
    segment_of,
    stage_of,
)
from campaigns.services.members import membership_changed, record_messages
from campaigns.services.orders import record_order
from campaigns.settings import ChatSettings
from storage.models import (
    EventRow,
    MemberDayRow,
    MemberMonthRow,
    MembershipRow,
    OrderRow,
    UserRow,
)
from storage.repositories.segments import SqlSegments
from tests.storage.test_rule_prefilters import seed_chat

NOW = dt.datetime(2026, 11, 20, 3, 0, 30, 250_000, tzinfo=dt.UTC)
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DAY = 86_400


def ago(seconds: int | None) -> dt.datetime | None:
    return None if seconds is None else NOW - dt.timedelta(seconds=seconds)


def around(*days: int) -> st.SearchStrategy[int]:
    """Seconds ago: exactly on a day boundary (and a second either side), or anywhere."""
    edges = sorted({d * DAY + s for d in days for s in (-1, 0, 1)})
    return st.sampled_from(edges) | st.integers(0, 400 * DAY)


async def seed_members(session, chat_pk: int, members: list[dict]) -> None:
    session.add_all(
        [UserRow(id=10_000 + i, first_name=f"M{i}", reachable=True) for i in range(len(members))]
    )
    await session.flush()
    session.add_all(
        [
            MembershipRow(chat_id=chat_pk, user_id=10_000 + i, status="member", **m)
            for i, m in enumerate(members)
        ]
    )
    await session.flush()


STAGE_MEMBERS = st.lists(
    st.fixed_dictionaries(
        {
            "present": st.booleans(),
            "joined_at": st.none() | around(7, 3).map(ago),
            "last_active_at": st.none() | around(3, 7, 14, 30).map(ago),
        }
    ),
    min_size=1,
    max_size=12,
)


@PROPERTY
@given(
    members=STAGE_MEMBERS,
    silent=st.sampled_from([3, 7]),
    dormant=st.sampled_from([14, 30]),
    by_key_at_most=st.sampled_from([0, 10_000]),
)
async def test_stored_stages_are_exactly_what_stage_of_says(
    uow_factory, monkeypatch, members, silent, dormant, by_key_at_most
):
    """Whether the changed rows are few (rewritten by key) or many (read apart, and the
    scores rewritten in one UPDATE)."""
    from storage.repositories import segments as repository

    monkeypatch.setattr(repository, "REWRITTEN_BY_KEY", by_key_at_most)
    thresholds = StageThresholds(silent_days=silent, dormant_days=dormant, new_days=3)
    async with uow_factory() as uow:
        chat = await seed_chat(uow.session)
        await seed_members(uow.session, chat.id, members)
        await uow.segments.refresh(chat.id, NOW, thresholds)
        # A day later, from the stages stored: what changes is found among the stored ones.
        await uow.segments.refresh(chat.id, NOW + dt.timedelta(days=1), thresholds)
        rows = await uow.session.execute(
            select(MembershipRow.user_id, MembershipRow.stage).where(
                MembershipRow.chat_id == chat.id
            )
        )
        stored = {user_id: stage for user_id, stage in rows}
    later = NOW + dt.timedelta(days=1)
    expected = {
        10_000 + i: str(stage_of(now=later, thresholds=thresholds, **m))
        for i, m in enumerate(members)
    }
    assert stored == expected


@pytest.mark.parametrize("by_key_at_most", [0, 10_000])
async def test_a_stage_change_is_recorded_once_as_an_event_and_a_first_stage_is_none(
    uow_factory, monkeypatch, by_key_at_most
):
    from storage.repositories import segments as repository

    monkeypatch.setattr(repository, "REWRITTEN_BY_KEY", by_key_at_most)
    thresholds = StageThresholds()
    async with uow_factory() as uow:
        chat = await seed_chat(uow.session)
        await seed_members(
            uow.session,
            chat.id,
            [
                {"present": True, "joined_at": ago(60 * DAY), "last_active_at": ago(DAY)},
                {"present": True, "joined_at": ago(60 * DAY), "last_active_at": ago(20 * DAY)},
            ],
        )
        assert await uow.segments.refresh(chat.id, NOW, thresholds) == []
        later = NOW + dt.timedelta(days=15)
        changes = await uow.segments.refresh(chat.id, later, thresholds)
        again = await uow.segments.refresh(chat.id, later, thresholds)
        events = (
            await uow.session.execute(
                select(EventRow.user_id, EventRow.meta).where(EventRow.kind == EventKind.STAGE)
            )
        ).all()
    assert [(c.user_id, c.old, c.new) for c in changes] == [
        (10_000, Stage.ACTIVE, Stage.SILENT),
        (10_001, Stage.SILENT, Stage.DORMANT),
    ]
    assert again == []
    assert sorted(events) == [
        (10_000, {"from": "active", "to": "silent"}),
        (10_001, {"from": "silent", "to": "dormant"}),
    ]


RFM_MEMBER = st.fixed_dictionaries(
    {
        "present": st.booleans() | st.just(True),
        "last_order": st.none() | around(7, 30, 90, 180).map(ago),
        "last_active": st.none() | around(7, 30).map(ago),
        "months": st.lists(
            st.tuples(
                st.integers(0, 14),  # months ago
                st.integers(0, 12),  # orders
                st.sampled_from([0, 4_999, 5_000, 30_000]) | st.integers(0, 900_000),  # spend
                st.integers(0, 31),  # active days
            ),
            max_size=3,
            unique_by=lambda t: t[0],
        ),
    }
)


def month_ago(n: int) -> dt.date:
    year, month = NOW.year, NOW.month - n
    while month < 1:
        year, month = year - 1, month + 12
    return dt.date(year, month, 1)


RFM = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SMALL_GROUPS = st.lists(RFM_MEMBER, min_size=1, max_size=QUINTILE_MIN - 1)
BIG_GROUPS = st.lists(
    RFM_MEMBER.map(lambda m: {**m, "present": True}),
    min_size=QUINTILE_MIN,
    max_size=QUINTILE_MIN + 15,
)


@RFM
@given(members=SMALL_GROUPS | BIG_GROUPS, with_orders=st.booleans())
async def test_stored_rfm_scores_are_exactly_what_score_group_says(
    uow_factory, members, with_orders
):
    window_start = month_ago(11)
    async with uow_factory() as uow:
        chat = await seed_chat(uow.session)
        await seed_members(
            uow.session,
            chat.id,
            [
                {
                    "present": m["present"],
                    "joined_at": ago(500 * DAY),
                    "last_active_at": m["last_active"],
                    "last_order_at": m["last_order"],
                }
                for m in members
            ],
        )
        uow.session.add_all(
            [
                MemberMonthRow(
                    chat_id=chat.id,
                    user_id=10_000 + i,
                    month=month_ago(back),
                    orders=orders,
                    spend=spend,
                    active_days=days,
                    points_earned=0,
                )
                for i, m in enumerate(members)
                for back, orders, spend, days in m["months"]
            ]
        )
        if with_orders:
            uow.session.add(an_order(chat.id))
        await uow.session.flush()
        assert await uow.segments.keep_window(chat.id, window_start)  # first: summed afresh
        assert not await uow.segments.keep_window(chat.id, window_start)  # done already
        await uow.segments.refresh(chat.id, NOW, StageThresholds())
        stored = {
            r.user_id: (r.rfm_r, r.rfm_f, r.rfm_m, r.rfm_segment)
            for r in (
                await uow.session.execute(
                    select(MembershipRow).where(MembershipRow.chat_id == chat.id)
                )
            ).scalars()
        }

    present = [(i, m) for i, m in enumerate(members) if m["present"]]
    facts = []
    for i, m in present:
        last = m["last_order"] if with_orders else m["last_active"]
        inside = [t for t in m["months"] if month_ago(t[0]) >= window_start]
        facts.append(
            RfmFacts(
                user_id=10_000 + i,
                recency_days=None if last is None else max(0, days_since(NOW, last)),
                frequency=sum(t[1] if with_orders else t[3] for t in inside),
                monetary=sum(t[2] for t in inside),
            )
        )
    expected = {
        s.user_id: (s.r, s.f, s.m, str(s.segment))
        for s in score_group(facts, by_orders=with_orders)
    }
    expected |= {
        10_000 + i: (None, None, None, None) for i, m in enumerate(members) if not m["present"]
    }
    assert stored == expected


async def test_active_days_count_each_local_day_once_in_days_months_and_the_summary(
    uow_factory,
):
    async with uow_factory() as uow:
        chat = await seed_chat(uow.session)
        await seed_members(uow.session, chat.id, [{"present": True, "joined_at": None}])
        member = 10_000
        days = [dt.date(2026, 10, 31), dt.date(2026, 11, 1), dt.date(2026, 11, 1)]
        first = await uow.segments.active_days([ActiveDay(chat.id, member, d) for d in days])
        again = await uow.segments.active_days([ActiveDay(chat.id, member, days[1])])
        late = await uow.segments.active_days([ActiveDay(chat.id, member, dt.date(2026, 10, 5))])
        await uow.segments.order_seen(chat.id, member, 1_500, NOW, dt.date(2026, 11, 1))
        await uow.segments.order_seen(
            chat.id, member, 500, NOW - dt.timedelta(days=40), dt.date(2026, 10, 1)
        )
        row = (
            await uow.session.execute(
                select(
                    MembershipRow.active_days,
                    MembershipRow.last_active_day,
                    MembershipRow.orders,
                    MembershipRow.spend,
                    MembershipRow.last_order_at,
                    MembershipRow.last_active_at,
                ).where(MembershipRow.user_id == member)
            )
        ).one()
        months = {
            m.month: (m.active_days, m.orders, m.spend)
            for m in (await uow.session.execute(select(MemberMonthRow))).scalars()
        }
    assert (first, again, late) == (2, 0, 1)
    assert tuple(row) == (3, dt.date(2026, 11, 1), 2, 2_000, NOW, NOW)  # an order is activity
    assert months == {dt.date(2026, 10, 1): (2, 1, 500), dt.date(2026, 11, 1): (1, 1, 1_500)}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    buckets=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 24), st.integers(0, 5), st.integers(0, 9_999)),
        max_size=30,
        unique_by=lambda t: (t[0], t[1]),
    ),
    moves=st.lists(st.integers(0, 24), min_size=1, max_size=4),
)
async def test_moving_the_window_month_by_month_equals_summing_it_afresh(
    uow_factory, buckets, moves
):
    """Each move takes out the months that left (or sums afresh when the window grew): the
    counters always equal the buckets from the window's first month on."""
    async with uow_factory() as uow:
        chat = await seed_chat(uow.session)
        await seed_members(uow.session, chat.id, [{"present": True}] * 3)
        uow.session.add_all(
            [
                MemberMonthRow(
                    chat_id=chat.id,
                    user_id=10_000 + member,
                    month=month_ago(back),
                    orders=orders,
                    spend=spend,
                    active_days=orders + 1,
                    points_earned=0,
                )
                for member, back, orders, spend in buckets
            ]
        )
        await uow.session.flush()
        for back in sorted(moves, reverse=True) + moves:
            await uow.segments.keep_window(chat.id, month_ago(back))
            start = month_ago(back)
            rows = await uow.session.execute(
                select(
                    MembershipRow.user_id,
                    MembershipRow.w_orders,
                    MembershipRow.w_spend,
                    MembershipRow.w_days,
                ).where(MembershipRow.chat_id == chat.id)
            )
            counters = {u: (o, s, d) for u, o, s, d in rows}
            expected = {
                10_000 + member: (
                    sum(o for m, b, o, _ in buckets if m == member and month_ago(b) >= start),
                    sum(s for m, b, _, s in buckets if m == member and month_ago(b) >= start),
                    sum(o + 1 for m, b, o, _ in buckets if m == member and month_ago(b) >= start),
                )
                for member in range(3)
            }
            assert counters == expected


# -- the summary the writes keep equals a rebuild from the log ---------------------------------

TZ = "Asia/Shanghai"
EXAMPLES = itertools.count(1)  # examples share the database: each has its own group and ids
# Recent, or around the RFM window's start (eleven months back, in Shanghai's calendar).
HOURS_AGO = st.integers(0, 60 * 24) | st.integers(320 * 24, 420 * 24)
EVENTS = st.lists(
    st.one_of(
        st.tuples(
            st.just("messages"),
            st.lists(
                st.tuples(st.integers(0, 2), HOURS_AGO),  # member, hours ago
                min_size=1,
                max_size=5,
            ),
        ),
        st.tuples(
            st.just("order"),
            st.tuples(st.integers(0, 2), HOURS_AGO, st.integers(1, 90_000)),
        ),
        st.tuples(st.just("replay"), st.integers(0, 30)),
    ),
    max_size=14,
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=EVENTS)
async def test_the_summaries_the_writes_keep_equal_a_rebuild_from_the_log(uow_factory, events):
    """Batches of messages (some of them delivered again, some late) and orders, through the
    real use cases; the members' summaries, window counters and monthly buckets then equal
    what the stored messages and orders say, counted afresh."""
    defaults = ChatSettings(timezone=TZ)
    example = next(EXAMPLES)
    group = ChatInfo(chat_id=-100_424_000 - example, type="supergroup", title="Rebuild")
    people = [Person(30 + i, f"P{i}") for i in range(3)]
    sent: list[MessageSeen] = []
    update_ids = iter(range(example * 10_000, (example + 1) * 10_000))
    external = iter(range(1, 10_000))
    window_from = month_ago(11)
    await membership_changed(
        uow_factory(), bot_id=1, update_id=next(update_ids), chat=group, people=people,
        status="member", present=True, at=NOW - dt.timedelta(days=500), source="test",
        defaults=defaults,
    )  # fmt: skip
    async with uow_factory() as uow:
        record = await uow.chats.get(group.chat_id)
        assert record is not None
        await uow.segments.keep_window(record.pk, window_from)
        await uow.commit()
    for kind, what in events:
        if kind == "messages":
            batch = [
                MessageSeen(next(update_ids), group, people[m], NOW - dt.timedelta(hours=h), "text")
                for m, h in what
            ]
            sent += batch
        elif kind == "replay":
            batch = sent[-what:] if sent and what else []
        else:
            member, hours, amount = what
            order = OrderIn(
                external_id=f"o{next(external)}", member=people[member].user_id,
                amount=amount, at=NOW - dt.timedelta(hours=hours),
            )  # fmt: skip
            await record_order(uow_factory(), order, chat_id=group.chat_id, source="test",
                               received_at=NOW)  # fmt: skip
            continue
        if batch:
            await record_messages(
                uow_factory(), bot_id=1, messages=batch, at=NOW, defaults=defaults
            )

    async with uow_factory() as uow:
        record = await uow.chats.get(group.chat_id)
        assert record is not None
        kept, months = await summaries(uow.session, record.pk)
        logged = await uow.session.execute(
            select(EventRow.user_id, EventRow.at).where(
                EventRow.chat_id == record.pk, EventRow.kind == EventKind.MESSAGE
            )
        )
        active = {(u, local_day(at, TZ)) for u, at in logged}
        orders = (
            await uow.session.execute(
                select(OrderRow.user_id, OrderRow.amount, OrderRow.at).where(
                    OrderRow.chat_id == record.pk
                )
            )
        ).all()

    def month(day: dt.date) -> dt.date:
        return day.replace(day=1)

    rebuilt, expected_months = {}, {}
    for p in people:
        u = p.user_id
        days = sorted(d for who, d in active if who == u)
        mine = [(amount, at) for who, amount, at in orders if who == u]
        rebuilt[u] = (
            len(days),
            days[-1] if days else None,
            len(mine),
            sum(a for a, _ in mine),
            max((at for _, at in mine), default=None),
            sum(1 for _, at in mine if month(local_day(at, TZ)) >= window_from),
            sum(a for a, at in mine if month(local_day(at, TZ)) >= window_from),
            sum(1 for d in days if month(d) >= window_from),
        )
        for d in days:
            key = (u, month(d))
            dd, o, s = expected_months.get(key, (0, 0, 0))
            expected_months[key] = (dd + 1, o, s)
        for amount, at in mine:
            key = (u, month(local_day(at, TZ)))
            dd, o, s = expected_months.get(key, (0, 0, 0))
            expected_months[key] = (dd, o + 1, s + amount)
    assert kept == rebuilt
    assert months == expected_months

    # `growthbot segments --rebuild` counts the same from the log: nothing to mend, and
    # spoilt summaries, buckets and lost member days are mended.
    async with uow_factory() as uow:
        record = await uow.chats.get(group.chat_id)
        assert record is not None
        assert await uow.segments.rebuild(record.pk, TZ, record.rfm_from) == 0
        ours = MembershipRow.chat_id == record.pk
        await uow.session.execute(
            update(MembershipRow).where(ours).values(
                active_days=99, last_active_day=None, orders=7, spend=1, last_order_at=NOW,
                w_orders=3, w_spend=4, w_days=5,
            )
        )  # fmt: skip
        in_buckets = MemberMonthRow.chat_id == record.pk
        await uow.session.execute(  # lost buckets
            delete(MemberMonthRow).where(in_buckets, MemberMonthRow.user_id == people[1].user_id)
        )
        await uow.session.execute(
            update(MemberMonthRow)
            .where(in_buckets)
            .values(active_days=MemberMonthRow.active_days + 1, orders=0)
        )
        await uow.session.execute(delete(MemberDayRow).where(MemberDayRow.chat_id == record.pk))
        uow.session.add(
            MemberMonthRow(
                chat_id=record.pk, user_id=people[0].user_id, month=dt.date(2020, 1, 1),
                active_days=3, orders=1, spend=5, points_earned=0,
            )
        )  # fmt: skip
        await uow.session.flush()

        await uow.segments.rebuild(record.pk, TZ, record.rfm_from)

        assert await summaries(uow.session, record.pk) == (rebuilt, expected_months)


async def summaries(session, chat_pk: int) -> tuple[dict, dict]:
    """Each member's summary, and the monthly buckets that count anything."""
    rows = await session.execute(
        select(
            MembershipRow.user_id, MembershipRow.active_days, MembershipRow.last_active_day,
            MembershipRow.orders, MembershipRow.spend, MembershipRow.last_order_at,
            MembershipRow.w_orders, MembershipRow.w_spend, MembershipRow.w_days,
        ).where(MembershipRow.chat_id == chat_pk)
    )  # fmt: skip
    kept = {r[0]: tuple(r[1:]) for r in rows}
    buckets = await session.execute(
        select(
            MemberMonthRow.user_id, MemberMonthRow.month, MemberMonthRow.active_days,
            MemberMonthRow.orders, MemberMonthRow.spend,
        ).where(MemberMonthRow.chat_id == chat_pk)
    )  # fmt: skip
    months = {(u, m): (d, o, s) for u, m, d, o, s in buckets if (d, o, s) != (0, 0, 0)}
    return kept, months


async def test_a_rebuild_that_fails_midway_leaves_nothing_behind(uow_factory, monkeypatch):
    """The rebuild counts into temporary tables inside its transaction: one that fails
    midway leaves neither its writes nor its tables, and the next one (on the same pooled
    connection) mends the group."""
    group = ChatInfo(chat_id=-100_425_001, type="supergroup", title="Half")
    speaker = Person(41, "Speaker")
    await membership_changed(
        uow_factory(), bot_id=1, update_id=1, chat=group, people=[speaker], status="member",
        present=True, at=NOW - dt.timedelta(days=9), source="test", defaults=ChatSettings(),
    )  # fmt: skip
    heard = [
        MessageSeen(2 + i, group, speaker, NOW - dt.timedelta(days=i), "text") for i in range(3)
    ]
    await record_messages(uow_factory(), bot_id=1, messages=heard, at=NOW, defaults=ChatSettings())

    async def spoil(uow) -> int:
        record = await uow.chats.get(group.chat_id)
        assert record is not None
        await uow.session.execute(
            update(MembershipRow).where(MembershipRow.chat_id == record.pk).values(active_days=9)
        )
        return record.pk

    async with uow_factory() as uow:
        await spoil(uow)
        await uow.commit()

    async def fails(*_args: object) -> int:
        raise RuntimeError("the disk is full")

    with monkeypatch.context() as patched:
        patched.setattr(SqlSegments, "_rebuild_members", fails)
        with pytest.raises(RuntimeError):
            async with uow_factory() as uow:
                pk = await spoil(uow)
                await uow.segments.rebuild(pk, "UTC", None)
    async with uow_factory() as uow:
        pk = await spoil(uow)
        assert await uow.segments.rebuild(pk, "UTC", None) == 1  # not "table already exists"
        assert await uow.session.scalar(
            select(MembershipRow.active_days).where(MembershipRow.chat_id == pk)
        ) == 3  # fmt: skip


# Scored by orders: F 1 (one order in the window) and M 5; by active days F is 1 again.
F1_M5 = {
    "present": True, "joined_at": ago(400 * DAY), "last_active_at": ago(40 * DAY),
    "last_order_at": ago(40 * DAY), "w_orders": 1, "w_days": 1, "w_spend": 900_000,
}  # fmt: skip


def an_order(chat_pk: int) -> OrderRow:
    """One order in the group, of someone who is not a member: F and M then count orders."""
    return OrderRow(
        chat_id=chat_pk, external_id="x", user_id=1, amount=1, currency="CNY", at=NOW,
        coupon_codes={"codes": []}, source="test", created_at=NOW,
    )  # fmt: skip


def stored_scores(rows) -> dict:
    return {r.user_id: (r.rfm_r, r.rfm_f, r.rfm_m, r.rfm_segment) for r in rows}


@pytest.mark.parametrize("by_key_at_most", [0, 10_000])
async def test_rescoring_rewrites_what_changed_by_key_or_in_one_update_alike(
    uow_factory, monkeypatch, by_key_at_most
):
    """Few changes are rewritten by key (a batch at a time), many by one UPDATE: either way
    the scores are score_group's, also when the group's last order goes (F and M from
    activity then) and when members' counters move."""
    from storage.repositories import segments as repository

    monkeypatch.setattr(repository, "REWRITTEN_BY_KEY", by_key_at_most)
    monkeypatch.setattr(repository, "KEYS_AT_ONCE", 7)
    members = [
        {
            "present": i % 11 != 0,
            "joined_at": ago(500 * DAY),
            "last_active_at": ago((i * 7 % 40) * DAY + i),
            "last_order_at": None if i % 3 else ago((i * 13 % 200) * DAY + 5),
            "w_orders": 0 if i % 3 else i % 7 + 1,
            "w_spend": 0 if i % 3 else (i * 977) % 60_000,
            "w_days": i % 25,
        }
        for i in range(QUINTILE_MIN + 12)
    ]

    def expected(by_orders: bool) -> dict:
        facts = [
            RfmFacts(
                10_000 + i,
                None if (m["last_order_at"] if by_orders else m["last_active_at"]) is None
                else max(0, days_since(NOW, m["last_order_at"] if by_orders
                                       else m["last_active_at"])),
                m["w_orders"] if by_orders else m["w_days"],
                m["w_spend"],
            )
            for i, m in enumerate(members)
            if m["present"]
        ]  # fmt: skip
        scored = {
            s.user_id: (s.r, s.f, s.m, str(s.segment))
            for s in score_group(facts, by_orders=by_orders)
        }
        absent = {10_000 + i: (None,) * 4 for i, m in enumerate(members) if not m["present"]}
        return scored | absent

    async with uow_factory() as uow:
        chat = await seed_chat(uow.session)
        await seed_members(uow.session, chat.id, members)
        order = an_order(chat.id)
        uow.session.add(order)
        await uow.session.flush()
        of_group = select(
            MembershipRow.user_id, MembershipRow.rfm_r, MembershipRow.rfm_f, MembershipRow.rfm_m,
            MembershipRow.rfm_segment,
        ).where(MembershipRow.chat_id == chat.id)  # fmt: skip

        await uow.segments.refresh(chat.id, NOW, StageThresholds())
        first = stored_scores(await uow.session.execute(of_group))
        await uow.session.delete(order)
        await uow.session.flush()
        await uow.segments.refresh(chat.id, NOW, StageThresholds())
        without_orders = stored_scores(await uow.session.execute(of_group))
        expected_first, expected_without = expected(by_orders=True), expected(by_orders=False)
        for i in (1, 2, 4):
            members[i]["w_days"] += 40
        await uow.session.execute(
            update(MembershipRow)
            .where(
                MembershipRow.chat_id == chat.id,
                MembershipRow.user_id.in_([10_001, 10_002, 10_004]),
            )
            .values(w_days=MembershipRow.w_days + 40)
        )
        await uow.segments.refresh(chat.id, NOW, StageThresholds())
        moved = stored_scores(await uow.session.execute(of_group))

    assert first == expected_first
    assert without_orders == expected_without
    assert moved == expected(by_orders=False) != expected_without


async def test_a_segment_follows_what_f_and_m_count_when_the_scores_stay_the_same(uow_factory):
    """Scored by orders, F 1 and M 5 make a segment of FM 3; once the group's last order is
    gone, F counts active days (here 1 again) and M stays 5, so the scores are unchanged but
    the segment is segment_of(R, 1, 1): the refresh rewrites it."""
    member = F1_M5
    async with uow_factory() as uow:
        chat = await seed_chat(uow.session)
        await seed_members(uow.session, chat.id, [member])
        order = an_order(chat.id)
        uow.session.add(order)
        await uow.session.flush()
        of_member = select(
            MembershipRow.rfm_r, MembershipRow.rfm_f, MembershipRow.rfm_m, MembershipRow.rfm_segment
        ).where(MembershipRow.chat_id == chat.id)  # fmt: skip

        await uow.segments.refresh(chat.id, NOW, StageThresholds())
        by_orders = (await uow.session.execute(of_member)).one()
        await uow.session.delete(order)
        await uow.session.flush()
        await uow.segments.refresh(chat.id, NOW, StageThresholds())
        by_days = (await uow.session.execute(of_member)).one()

    r = by_orders[0]
    assert by_orders == (r, 1, 5, str(segment_of(r, 1, 5)))
    assert by_days == (r, 1, 5, str(segment_of(r, 1, 1)))
    assert segment_of(r, 1, 5) != segment_of(r, 1, 1)


async def test_two_refreshes_of_a_group_take_turns_so_no_segment_keeps_an_older_basis(
    database_url,
):
    """Refresh T1, without orders (F counts active days), has read what changes; the group's
    first order arrives and refresh T2 would rescore by orders and store that basis; if T1
    then wrote its segment, every later refresh would trust it. T2 waits for T1 instead (on
    PostgreSQL for the group's row; on SQLite for the write lock), and the segment ends as
    score_group's."""
    import asyncio

    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    engine = create_engine(database_url, pool_size=3)
    sessions = session_factory(engine)
    thresholds = StageThresholds()
    member = F1_M5
    async with SqlUnitOfWork(sessions) as uow:
        chat = await seed_chat(uow.session)
        await seed_members(uow.session, chat.id, [member])
        await uow.segments.refresh(chat.id, NOW - dt.timedelta(days=30), thresholds)
        await uow.commit()
    paused, resume = asyncio.Event(), asyncio.Event()

    async def t1() -> None:
        async with SqlUnitOfWork(sessions) as uow:
            by_key = uow.segments._by_key

            async def late(statement, ids):  # between its read and its writes
                if not resume.is_set():
                    paused.set()
                    await resume.wait()
                await by_key(statement, ids)

            uow.segments._by_key = late
            await uow.segments.refresh(chat.id, NOW, thresholds)
            await uow.commit()

    async def t2() -> None:
        async with SqlUnitOfWork(sessions) as uow:
            uow.session.add(an_order(chat.id))
            await uow.session.flush()
            await uow.segments.refresh(chat.id, NOW, thresholds)
            await uow.commit()

    first = asyncio.create_task(t1())
    await paused.wait()
    second = asyncio.create_task(t2())
    if database_url.startswith("postgresql"):
        async with engine.connect() as watcher:  # until T2 waits for a lock (or is done)
            waiting = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
            while not second.done() and not (await watcher.scalar(waiting)):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    else:
        await asyncio.sleep(0.2)  # T2's BEGIN waits for T1's write lock on the thread
    resume.set()
    await asyncio.gather(first, second)
    async with SqlUnitOfWork(sessions) as uow:
        r, f, m, segment = (
            await uow.session.execute(
                select(
                    MembershipRow.rfm_r, MembershipRow.rfm_f, MembershipRow.rfm_m,
                    MembershipRow.rfm_segment,
                ).where(MembershipRow.chat_id == chat.id)
            )
        ).one()  # fmt: skip
    await engine.dispose()

    assert (f, m) == (1, 5)
    assert segment == str(segment_of(r, 1, 5))


async def test_the_refresh_s_planner_settings_end_with_its_transaction(uow_factory):
    """A refresh tunes its own reads (memory for hashes, no JIT, cheap parallel gathering on
    PostgreSQL): none of that may outlive its transaction on the pooled connection, where
    it would change every later statement's plan."""
    names = ("work_mem", "jit", "parallel_tuple_cost")

    async def settings_now(uow) -> tuple[str, ...]:
        if uow.session.get_bind().dialect.name != "postgresql":
            return ()
        return tuple([await uow.session.scalar(text(f"SHOW {name}")) for name in names])

    async with uow_factory() as uow:
        before = await settings_now(uow)
        chat = await seed_chat(uow.session)
        await seed_members(uow.session, chat.id, [F1_M5])
        await uow.segments.refresh(chat.id, NOW, StageThresholds())
        during = await settings_now(uow)
        await uow.commit()
    async with uow_factory() as uow:
        after = await settings_now(uow)
    if before:  # PostgreSQL
        assert during == ("64MB", "off", "0.01") != before
    assert after == before
