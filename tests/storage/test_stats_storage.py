"""The daily rollup and the /stats card on SQLite and PostgreSQL.

A scripted week of one small community (joins, leaves, messages with a late batch and a
redelivery, check-ins, coupons, a redemption, orders with one imported late, invites) goes
through the real use cases; every KPI of the card is then the number worked out by hand below.
A property test runs random sequences of the same calls and holds the stored rollup to a
count from the raw tables.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campaigns.checkin import local_day
from campaigns.coupons import CouponKind, Template
from campaigns.members import COMMAND, ChatInfo, Person
from campaigns.orders import OrderIn
from campaigns.ports.members import MessageSeen
from campaigns.referral import InviteStatus, Source
from campaigns.services import coupons
from campaigns.services.checkin import check_in
from campaigns.services.members import membership_changed, record_messages
from campaigns.services.orders import record_order
from campaigns.services.stats import group_stats, rebuild_stats
from campaigns.settings import ChatSettings
from campaigns.stats import Asked, DayTotals, Kpi
from storage.local_day import local_day as sql_local_day

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)
DEFAULTS = ChatSettings(timezone=TZ)
GROUP = ChatInfo(chat_id=-100_555, type="supergroup", title="Tea club")
A, B, C, D, E = (Person(100 + i, name) for i, name in enumerate("ABCDE"))
NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=SH)
TEA = Template(CouponKind.FIXED, value=1000, valid_days=30)


def at(day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A local time in Shanghai in November 2026."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SH)


class Script:
    """Real use cases, one transaction each, with fresh update ids."""

    def __init__(self, uow_factory: object, group: ChatInfo = GROUP) -> None:
        self.uow = uow_factory
        self.group = group
        self.ids = itertools.count(1)
        self.sent: list[MessageSeen] = []

    async def join(self, when: dt.datetime, *people: Person) -> None:
        await membership_changed(
            self.uow(), bot_id=1, update_id=next(self.ids), chat=self.group, people=people,
            status="member", present=True, at=when, source="test", defaults=DEFAULTS,
        )  # fmt: skip

    async def leave(self, when: dt.datetime, person: Person) -> None:
        await membership_changed(
            self.uow(), bot_id=1, update_id=next(self.ids), chat=self.group, people=[person],
            status="left", present=False, at=when, source="test", defaults=DEFAULTS,
        )  # fmt: skip

    async def say(self, *said: tuple[Person, dt.datetime], kind: str = "text") -> list[MessageSeen]:
        batch = [MessageSeen(next(self.ids), self.group, p, when, kind) for p, when in said]
        await self.deliver(batch)
        return batch

    async def deliver(self, batch: list[MessageSeen]) -> None:
        self.sent += batch
        await record_messages(self.uow(), bot_id=1, messages=batch, at=NOW, defaults=DEFAULTS)

    async def check_in(self, person: Person, when: dt.datetime) -> None:
        await check_in(
            self.uow(), bot_id=1, update_id=next(self.ids), chat=self.group, person=person,
            at=when, defaults=DEFAULTS,
        )  # fmt: skip

    async def order(self, person: Person, amount: str, when: dt.datetime) -> None:
        order = OrderIn(
            external_id=f"o{next(self.ids)}", member=person.user_id, amount=amount, at=when
        )
        await record_order(
            self.uow(), order, chat_id=self.group.chat_id, source="test", received_at=NOW
        )

    async def offer(self) -> object:
        return await coupons.create_offer(
            self.uow(), chat_id=self.group.chat_id, name="Tea", template=TEA, stock=None,
            per_member=5, at=at(1),
        )  # fmt: skip

    async def coupon(self, offer: object, person: Person, when: dt.datetime) -> str:
        async with self.uow() as uow:
            issued = await coupons.issue_coupon(uow, offer, person.user_id, source="claim", at=when)
            await uow.commit()
        return issued.code

    async def redeem(self, code: str, order: int, when: dt.datetime) -> None:
        await coupons.redeem(
            self.uow(), bot_id=1, update_id=next(self.ids), chat_id=self.group.chat_id,
            typed_code=code, order=order, staff_id=999, at=when,
        )  # fmt: skip

    async def invite(self, inviter: Person, invitee: Person, confirmed: dt.datetime) -> None:
        """The invitee's latest join credited to the inviter (as a late link does), then
        confirmed at `confirmed`."""
        async with self.uow() as uow:
            record = await uow.chats.get(self.group.chat_id)
            invite = await uow.invites.latest(record.pk, invitee.user_id)
            if invite is None or invite.status is not InviteStatus.ORGANIC:
                return
            await uow.invites.attribute(
                invite.id, inviter_id=inviter.user_id, link_id=None, source=Source.MEMBER_LINK,
                status=InviteStatus.PENDING, reason=None,
            )  # fmt: skip
            await uow.invites.move(
                [invite.id], from_status=InviteStatus.PENDING, to_status=InviteStatus.CONFIRMED,
                at=confirmed,
            )  # fmt: skip
            await uow.commit()


async def scripted_week(uow_factory: object) -> Script:
    """The 7-day period is 24-30 November (Shanghai), the one before it 17-23 November."""
    s = Script(uow_factory)
    await s.join(at(1), A, B)
    await s.join(at(20, 9), C)
    await s.leave(at(22, 20), C)
    await s.join(at(25, 8), D)
    await s.join(at(26, 8), E)
    await s.leave(at(28, 23, 30), E)  # 15:30 UTC: still the 28th in Shanghai
    await s.say((A, at(18, 9)), (A, at(18, 11)))
    await s.say((A, at(21)), (B, at(21, 12)))
    await s.say((A, at(24, 0, 10)))  # 23 November in UTC, the 24th in Shanghai
    busy = await s.say((A, at(25)), (D, at(25, 9)), (D, at(25, 10)))
    await s.say((B, at(26)), (E, at(26, 9)))
    await s.say((A, at(29)), (D, at(29, 11)))
    await s.deliver(busy)  # delivered again: counted once
    await s.check_in(A, at(21, 8))
    await s.check_in(A, at(24, 0, 15))
    await s.check_in(A, at(25, 7))
    await s.check_in(D, at(25, 9, 30))
    offer = await s.offer()
    await s.coupon(offer, B, at(20))
    first = await s.coupon(offer, A, at(24, 12))
    await s.coupon(offer, D, at(26, 12))
    await s.order(B, "20.00", at(19))
    await s.order(A, "100.00", at(25, 10))
    await s.redeem(first, 6000, at(27, 15))  # an order of 50.00 after 10.00 off
    await s.order(D, "30.00", at(29, 18))
    await s.invite(A, C, at(21, 9))
    await s.invite(A, D, at(27, 9))
    await s.say((B, at(27, 9)))  # a late batch: the 27th, written after the 29th
    await s.order(B, "15.00", at(10))  # imported late: B's first order moves to the 10th
    return s


async def test_every_kpi_of_a_scripted_week_is_what_was_worked_out_by_hand(uow_factory):
    await scripted_week(uow_factory)

    card = await group_stats(uow_factory(), chat_id=GROUP.chat_id, asked=Asked(7), now=NOW)

    assert (card.period.start, card.period.end) == (dt.date(2026, 11, 24), dt.date(2026, 11, 30))
    assert card.title == "Tea club"
    shown = {line.kpi: (line.value, line.previous) for line in card.lines}
    assert shown == {
        Kpi.MEMBERS: (3, 2),  # A, B, D (E and C left); A, B at the 24th's midnight
        Kpi.JOINS: (2, 1),  # D, E; C
        Kpi.LEAVES: (1, 1),  # E; C
        Kpi.NET_GROWTH: (1, 0),
        Kpi.DAU: (pytest.approx(8 / 7), pytest.approx(3 / 7)),  # 1+2+2+1+2; 1+2 member-days
        Kpi.WAU: (4, 2),  # A, B, D, E; A, B
        Kpi.MAU: (4, 2),
        # MAU's 30 days: 11 member-days (the 8 above and the 3 of the week before); 3 in the
        # 30 days ending on the 23rd
        Kpi.STICKINESS: (pytest.approx(11 / 30 / 4), pytest.approx(3 / 30 / 2)),
        Kpi.MESSAGES: (9, 4),  # the redelivered batch once, the late one on its day
        Kpi.CHECKIN_RATE: (pytest.approx(3 / 8), pytest.approx(1 / 3)),
        Kpi.MAKEUP_CHECKINS: (0, 0),
        Kpi.INVITES_CONFIRMED: (1, 1),
        Kpi.REFERRAL_SHARE: (pytest.approx(1 / 2), pytest.approx(1.0)),
        Kpi.COUPONS_CLAIMED: (2, 1),
        Kpi.COUPONS_REDEEMED: (1, 0),
        Kpi.REDEMPTION_RATE: (pytest.approx(1 / 2), pytest.approx(0.0)),
        Kpi.ORDERS: (3, 1),  # A 100, A 50 (the redemption), D 30; B 20 (B's 15 is the 10th)
        Kpi.GMV: (18_000, 2_000),
        Kpi.AOV: (pytest.approx(6_000), pytest.approx(2_000)),
        Kpi.ARPU: (pytest.approx(6_000), pytest.approx(1_000)),
        Kpi.REPURCHASE_RATE: (pytest.approx(1 / 2), pytest.approx(0.0)),
        Kpi.CONVERSION: (pytest.approx(1 / 2), pytest.approx(0.0)),  # D of D, E; C bought nothing
    }
    assert card[Kpi.MEMBERS].change == 1 and card[Kpi.MEMBERS].change_pct == pytest.approx(50)
    assert card[Kpi.COUPONS_REDEEMED].change_pct is None  # nothing the period before
    by_day = {d.day.day: d for d in card.days}
    assert by_day[24].messages == 1 and by_day[24].checkins == 1  # the 00:10 in Shanghai
    assert by_day[27].discount == 1_000 and by_day[27].messages == 1
    assert sum(d.first_orders for d in card.days) == 2  # A on the 25th, D on the 29th
    assert sum(d.first_orders for d in card.previous_days) == 0  # B's first is now the 10th


async def test_the_scripted_rollup_equals_a_recompute_and_a_rebuild_keeps_it(uow_factory):
    await scripted_week(uow_factory)
    start, end = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
    async with uow_factory() as uow:
        record = await uow.chats.get(GROUP.chat_id)
        stored = await uow.stats.days(record.pk, start, end)
        counted = await uow.stats.recompute(record.pk, start, end, TZ)

    await rebuild_stats(uow_factory, chat_id=GROUP.chat_id, since=start, now=NOW)

    assert stored == counted
    assert next(d for d in stored if d.day == dt.date(2026, 11, 10)).first_orders == 1
    async with uow_factory() as uow:
        assert await uow.stats.days(record.pk, start, end) == counted


async def test_a_command_keeps_its_sender_active_but_is_no_message(uow_factory):
    """A says hello and asks /stats on the 29th; B only checks in with /checkin (the
    command the activity buffer stores, and the check-in itself)."""
    s = Script(uow_factory)
    await s.join(at(1), A, B)
    await s.say((A, at(29, 9)))
    await s.say((A, at(29, 10)), (B, at(29, 11)), kind=COMMAND)
    await s.check_in(B, at(29, 11))

    card = await group_stats(uow_factory(), chat_id=GROUP.chat_id, asked=Asked(7), now=NOW)
    async with uow_factory() as uow:
        record = await uow.chats.get(GROUP.chat_id)
        counted = await uow.stats.recompute(record.pk, at(1).date(), NOW.date(), TZ)
        a = await uow.members.stats(record.pk, A.user_id)
        b = await uow.members.stats(record.pk, B.user_id)

    assert card[Kpi.MESSAGES].value == 1  # A's hello; not A's /stats, not B's /checkin
    assert card[Kpi.DAU].value == pytest.approx(2 / 7)  # A and B were active on the 29th
    assert card[Kpi.CHECKIN_RATE].value == pytest.approx(1 / 2)  # B of the 2 active
    assert [(d.day.day, d.messages, d.active) for d in counted if d.active] == [(29, 1, 2)]
    assert a is not None and b is not None
    assert (a.messages, b.messages) == (1, 0)  # /me counts messages the same way
    assert a.last_active_at == at(29, 10) and b.last_active_at == at(29, 11)


async def test_a_new_member_converts_by_ordering_after_joining_as_the_funnel_counts(uow_factory):
    """A, B and C join on the 26th. A's only order is imported with a date before that (a
    customer before the community); B orders on the 27th; C orders before joining and again
    on the 28th. Converted by the community: B and C, not A."""
    s = Script(uow_factory)
    await s.join(at(1), D)  # the group, known since the 1st (D is no new member of the week)
    await s.order(A, "30.00", at(25))
    await s.order(C, "10.00", at(25, 11))
    await s.join(at(26), A, B, C)
    await s.order(B, "20.00", at(27))
    await s.order(C, "15.00", at(28))

    card = await group_stats(uow_factory(), chat_id=GROUP.chat_id, asked=Asked(7), now=NOW)

    assert card[Kpi.CONVERSION].value == pytest.approx(2 / 3)


async def test_a_makeup_check_in_is_counted_apart_and_the_rate_stays_a_share(uow_factory):
    """A and B chat and check in on the 27th; on the 28th only A does; on the 29th B does,
    and redeems a 补签卡 that restores the 28th, when B was not active; A only chats."""
    from campaigns.access import ButtonKind
    from campaigns.services import shop
    from campaigns.shop import NewItem, ShopItemKind
    from tests.fakes import EVERYONE, POSTED, posted

    s = Script(uow_factory)
    await s.join(at(1), A, B)
    for day, people in ((27, (A, B)), (28, (A,))):
        await s.say(*((p, at(day, 9)) for p in people))
        for p in people:
            await s.check_in(p, at(day, 9))
    await s.say((A, at(29, 9)), (B, at(29, 9)))
    await s.check_in(B, at(29, 9))
    card = await shop.add_item(
        uow_factory(), bot_id=1, update_id=next(s.ids), chat_id=GROUP.chat_id,
        new=NewItem(ShopItemKind.MAKEUP, 1, makeup_every_days=7), at=at(29, 10),
    )  # fmt: skip
    await posted(uow_factory, ButtonKind.SHOP, card.id)
    redeemed = await shop.redeem_item(
        uow_factory(), gate=EVERYONE, bot_id=1, update_id=next(s.ids), item_id=card.id,
        person=B, tap=POSTED, at=at(29, 12),
    )  # fmt: skip

    stats = await group_stats(uow_factory(), chat_id=GROUP.chat_id, asked=Asked(7), now=NOW)
    async with uow_factory() as uow:
        record = await uow.chats.get(GROUP.chat_id)
        counted = await uow.stats.recompute(record.pk, stats.period.start, NOW.date(), TZ)

    assert redeemed.makeup is not None and redeemed.makeup.day == dt.date(2026, 11, 28)
    by_day = {d.day.day: (d.active, d.checkins, d.makeups) for d in stats.days if d.active}
    assert by_day == {27: (2, 2, 0), 28: (1, 1, 1), 29: (2, 1, 0)}
    # 2 + 1 + 1 check-ins on their days of 2 + 1 + 2 active member-days: 80%; counted with
    # the make-up, the 28th would read 200% and the week 100%
    assert stats[Kpi.CHECKIN_RATE].value == pytest.approx(4 / 5)
    assert stats[Kpi.MAKEUP_CHECKINS].value == 1
    assert [d for d in stats.days if d != DayTotals(d.day)] == counted  # --rebuild agrees


async def test_a_group_without_anything_shows_no_ratio_and_no_error(uow_factory):
    async with uow_factory() as uow:
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=DEFAULTS)
        await uow.commit()

    card = await group_stats(uow_factory(), chat_id=GROUP.chat_id, now=NOW)

    assert card.period.days == 30
    assert card[Kpi.STICKINESS].value is None and card[Kpi.ARPU].value is None
    assert card[Kpi.MEMBERS].change == 0 and card[Kpi.MEMBERS].change_pct is None
    assert len(card.days) == 30 and all(d == DayTotals(d.day) for d in card.days)


# -- local days in SQL are the Python rule ------------------------------------------------------


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    instant=st.datetimes(
        min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 31),
        timezones=st.just(dt.UTC),
    ),
    zone=st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Kolkata",
                          "Australia/Lord_Howe", "America/St_Johns", "UTC"]),
)  # fmt: skip
async def test_the_local_day_in_sql_is_the_rule_on_both_databases(uow_factory, instant, zone):
    from sqlalchemy import literal, select

    from storage.models import UtcDateTime

    async with uow_factory() as uow:
        found = await uow.session.scalar(
            select(sql_local_day(literal(instant, UtcDateTime()), literal(zone)))
        )

    day = found if isinstance(found, dt.date) else dt.date.fromisoformat(str(found))
    assert day == local_day(instant, zone)


INSTANTS = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 31),
    timezones=st.just(dt.UTC),
)  # fmt: skip


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    instants=st.lists(INSTANTS, min_size=1, max_size=6),
    bounds=st.tuples(INSTANTS, INSTANTS).map(sorted),
    zone=st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Kolkata",
                          "Australia/Lord_Howe", "America/St_Johns", "UTC"]),
)  # fmt: skip
@example(
    instants=[
        dt.datetime(2026, 3, 29, 22, 0, tzinfo=dt.UTC),  # midnight in Berlin, summer time
        dt.datetime(2026, 3, 29, 21, 59, 59, 999_999, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 22, 59, 59, tzinfo=dt.UTC),  # winter time again
        dt.datetime(2026, 10, 25, 23, 0, tzinfo=dt.UTC),
    ],
    bounds=[
        dt.datetime(2026, 1, 1, 0, 0, 0, 500_000, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 22, 59, 59, 999_999, tzinfo=dt.UTC),
    ],
    zone="Europe/Berlin",
)
async def test_the_local_day_within_a_range_is_the_rule_inside_and_outside_it(
    uow_factory, instants, bounds, zone
):
    """What a rebuild uses on SQLite: date() shifted by the offset in force at each instant
    between the two bounds (DST changes included), the rule itself outside them."""
    from sqlalchemy import literal, select

    from storage.local_day import local_day_within
    from storage.models import UtcDateTime

    first, last = bounds
    async with uow_factory() as uow:
        dialect = uow.session.get_bind().dialect.name
        found = [
            await uow.session.scalar(
                select(local_day_within(literal(at, UtcDateTime()), zone, first, last, dialect))
            )
            for at in instants
        ]

    days = [f if isinstance(f, dt.date) else dt.date.fromisoformat(str(f)) for f in found]
    assert days == [local_day(at, zone) for at in instants]


# -- property: the rollup the writes keep equals a recompute from the raw tables ----------------

EXAMPLES = itertools.count(1)
PEOPLE = [Person(500 + i, f"P{i}") for i in range(4)]
HOURS = st.integers(0, 24 * 20)  # hours before NOW, across DST-free Shanghai days
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("join"), st.integers(0, 3), HOURS),
        st.tuples(st.just("leave"), st.integers(0, 3), HOURS),
        st.tuples(
            st.just("say"), st.lists(st.tuples(st.integers(0, 3), HOURS), min_size=1, max_size=4)
        ),
        st.tuples(st.just("command"), st.integers(0, 3), HOURS),
        st.tuples(st.just("redeliver"), st.integers(1, 6)),
        st.tuples(st.just("checkin"), st.integers(0, 3), HOURS),
        st.tuples(st.just("order"), st.integers(0, 3), HOURS, st.integers(1, 50_000)),
        st.tuples(st.just("claim"), st.integers(0, 3), HOURS),
        st.tuples(st.just("redeem"), st.integers(0, 10), HOURS),
        st.tuples(st.just("invite"), st.integers(0, 3), HOURS),
    ),
    max_size=16,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
async def test_the_rollup_the_writes_keep_equals_a_recompute_from_the_raw_tables(
    uow_factory, steps
):
    """Random joins, leaves, message batches (late ones, redeliveries), commands, check-ins, orders
    (old ones imported late), claims, redemptions and confirmed invites through the real use
    cases: every day's stored counters equal the raw tables counted afresh."""
    example = next(EXAMPLES)
    group = ChatInfo(chat_id=-100_800_000 - example, type="supergroup", title="Random")
    s = Script(uow_factory, group)
    s.ids = itertools.count(example * 100_000)
    await s.join(NOW - dt.timedelta(days=40), *PEOPLE)
    offer = await s.offer()
    codes: list[str] = []

    def ago(hours: int) -> dt.datetime:
        return NOW - dt.timedelta(hours=hours, minutes=hours % 60)

    for step in steps:
        kind = step[0]
        if kind == "join":
            await s.join(ago(step[2]), PEOPLE[step[1]])
        elif kind == "leave":
            await s.leave(ago(step[2]), PEOPLE[step[1]])
        elif kind == "say":
            await s.say(*((PEOPLE[m], ago(h)) for m, h in step[1]))
        elif kind == "command":
            await s.say((PEOPLE[step[1]], ago(step[2])), kind=COMMAND)
        elif kind == "redeliver" and s.sent:
            await s.deliver(s.sent[-step[1] :])
        elif kind == "checkin":
            try:
                await s.check_in(PEOPLE[step[1]], ago(step[2]))
            except Exception as error:  # already checked in that day: nothing stored
                assert type(error).__name__ == "AlreadyCheckedIn"
        elif kind == "order":
            await s.order(PEOPLE[step[1]], f"{step[3] / 100:.2f}", ago(step[2]))
        elif kind == "claim":
            with contextlib.suppress(coupons.CouponUnavailable):  # the limit: nothing stored
                codes.append(await s.coupon(offer, PEOPLE[step[1]], ago(step[2])))
        elif kind == "redeem" and codes:
            try:
                await s.redeem(codes[step[1] % len(codes)], 5_000, ago(step[2]))
            except Exception as error:  # used already, or not yet valid at that time
                assert type(error).__name__ == "CouponRejected"
        elif kind == "invite":
            await s.invite(PEOPLE[step[1]], PEOPLE[(step[1] + 1) % 4], ago(step[2]))

    start, end = dt.date(2026, 10, 1), dt.date(2026, 12, 1)
    async with uow_factory() as uow:
        record = await uow.chats.get(group.chat_id)
        stored = await uow.stats.days(record.pk, start, end)
        counted = await uow.stats.recompute(record.pk, start, end, TZ)
    assert [d for d in stored if d != DayTotals(d.day)] == counted


def test_the_migration_moves_old_makeup_check_ins_out_of_the_rate(tmp_path):
    """Before 0021 a 补签卡's row counted among its day's check-ins. The migration finds it by
    the redemption written with it (same member, same instant, no points) and moves it to
    `makeups`; an ordinary check-in with no points stays."""
    import sqlite3

    from storage.migrate import upgrade

    path = tmp_path / "old.db"
    upgrade(f"sqlite+aiosqlite:///{path}", "0022")
    redeemed, plain = "2026-11-29 04:00:00.000000", "2026-11-28 01:00:00.000000"
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO chats (id, telegram_id, type, active, timezone, language,"
            " checkin_points, streak_bonus, streak_bonus_max, milestones, created_at,"
            " updated_at) VALUES (1, -100, 'supergroup', 1, ?, 'en', 10, 0, 0, '{}', ?, ?)",
            (TZ, plain, plain),
        )
        db.execute(
            "INSERT INTO shop_items (id, chat_id, kind, name, price, created_at)"
            " VALUES (1, 1, 'makeup', '补签卡', 5, ?)",
            (plain,),
        )
        db.executemany(
            "INSERT INTO checkins (chat_id, user_id, day, at, streak, points) VALUES (?,?,?,?,?,?)",
            [(1, 7, "2026-11-28", redeemed, 2, 0), (1, 8, "2026-11-28", plain, 1, 0)],
        )
        db.execute(
            "INSERT INTO shop_redemptions (item_id, chat_id, user_id, kind, price,"
            " idempotency_key, at) VALUES (1, 1, 7, 'makeup', 5, 'k', ?)",
            (redeemed,),
        )
        db.execute("INSERT INTO daily_stats (chat_id, day, checkins) VALUES (1, '2026-11-28', 2)")
    upgrade(f"sqlite+aiosqlite:///{path}", "0023")
    with sqlite3.connect(path) as db:
        marked = db.execute("SELECT user_id, makeup FROM checkins ORDER BY user_id").fetchall()
        day = db.execute("SELECT checkins, makeups FROM daily_stats").fetchall()

    assert marked == [(7, 1), (8, 0)]
    assert day == [(1, 1)]


# -- members present at an instant: the row decides most, the log a rejoiner -----------------


async def test_someone_who_left_and_came_back_was_away_in_between(uow_factory):
    """A joined on the 1st; C joined on the 1st, left on the 10th and came back on the 26th;
    B left on the 20th and came back on the 22nd, then left for good on the 27th."""
    s = Script(uow_factory)
    await s.join(at(1), A, B, C)
    await s.leave(at(10), C)
    await s.leave(at(20), B)
    await s.join(at(22), B)
    await s.join(at(26), C)
    await s.leave(at(27), B)

    card = await group_stats(uow_factory(), chat_id=GROUP.chat_id, asked=Asked(7), now=NOW)
    async with uow_factory() as uow:
        record = await uow.chats.get(GROUP.chat_id)
        on_the_21st = await uow.members.present_at(record.pk, at(21))
        on_the_23rd = await uow.members.present_at(record.pk, at(23))

    # the 24th's midnight (the previous week's end): A and B; C was away until the 26th
    assert (card[Kpi.MEMBERS].value, card[Kpi.MEMBERS].previous) == (2, 2)  # A, C now
    assert (on_the_21st, on_the_23rd) == (1, 2)  # A alone; A and B, who was back


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    changes=st.lists(st.tuples(st.integers(0, 3), st.booleans(), HOURS), max_size=14),
    probes=st.lists(HOURS, min_size=1, max_size=4),
)
async def test_members_present_at_an_instant_in_sql_are_the_rule(uow_factory, changes, probes):
    """Random joins and leaves (late ones among them, which the use case drops as stale) of
    four people, one of them there before the bot (first seen speaking): the SQL count at
    each instant equals campaigns.members.present_at over the stored log."""
    from sqlalchemy import select

    from campaigns.members import present_at
    from storage.models import EventRow, MembershipRow

    example = next(EXAMPLES)
    group = ChatInfo(chat_id=-100_900_000 - example, type="supergroup", title="Random")
    s = Script(uow_factory, group)
    s.ids = itertools.count(example * 100_000)
    await s.say((PEOPLE[3], NOW - dt.timedelta(days=30)))
    for i, (member, present, hours) in enumerate(changes):
        when = NOW - dt.timedelta(hours=hours, seconds=i)  # distinct instants
        await (s.join(when, PEOPLE[member]) if present else s.leave(when, PEOPLE[member]))

    async with uow_factory() as uow:
        record = await uow.chats.get(group.chat_id)
        rows = await uow.session.execute(
            select(MembershipRow.user_id, MembershipRow.joined_at).where(
                MembershipRow.chat_id == record.pk
            )
        )
        joined = {user: first for user, first in rows}
        events = await uow.session.execute(
            select(EventRow.user_id, EventRow.at, EventRow.kind).where(
                EventRow.chat_id == record.pk, EventRow.kind.in_(["join", "leave"])
            )
        )
        log: dict[int, list[tuple[dt.datetime, bool]]] = {}
        for user, when, kind in events:
            log.setdefault(user, []).append((when, kind == "join"))
        for hours in probes:
            instant = NOW - dt.timedelta(hours=hours, seconds=30)
            counted = await uow.members.present_at(record.pk, instant)
            rule = sum(
                present_at(instant, joined_at=first, changes=log.get(user, []))
                for user, first in joined.items()
            )
            assert counted == rule, (instant, changes)


# -- --rebuild while the bot writes ---------------------------------------------------------


async def until_waiting(uow_factory, database_url: str, task) -> None:
    """Returns once `task` waits for the transaction the test holds open: on PostgreSQL, when
    a backend waits on a lock; on SQLite (one connection) when it has had its chances."""
    import asyncio

    from sqlalchemy import text

    for _ in range(500):
        await asyncio.sleep(0.01)
        assert not task.done(), "it went ahead of the open transaction"
        if not database_url.startswith("postgresql"):
            if _ >= 20:
                return
            continue
        async with uow_factory() as uow:
            waiting = await uow.session.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            )
        if waiting:
            return
    raise AssertionError("never waited")


async def test_a_rebuild_waits_for_a_write_in_flight_and_loses_none_of_it(
    uow_factory, database_url
):
    """A message of the 29th is stored; a second one is written (with its rollup) but not
    yet committed when a rebuild starts. The rebuild waits for it and counts both."""
    import asyncio

    from campaigns.members import EventKind

    s = Script(uow_factory)
    await s.join(at(1), A)
    await s.say((A, at(29, 9)))
    async with uow_factory() as writer:
        record = await writer.chats.get(GROUP.chat_id)
        await writer.events.add([(record.pk, A.user_id, EventKind.MESSAGE, at(29, 10), None,
                                  {"type": "text"})])  # fmt: skip
        rebuild = asyncio.create_task(
            rebuild_stats(uow_factory, chat_id=GROUP.chat_id, since=at(20).date(), now=NOW)
        )
        await until_waiting(uow_factory, database_url, rebuild)
        await writer.commit()
    await rebuild

    async with uow_factory() as uow:
        stored = await uow.stats.days(record.pk, at(29).date(), at(29).date())
        counted = await uow.stats.recompute(record.pk, at(29).date(), at(29).date(), TZ)
    assert [d.messages for d in stored] == [d.messages for d in counted] == [2]


async def test_a_write_during_a_rebuild_waits_and_adds_to_the_rewritten_day(
    uow_factory, database_url
):
    """The rebuild's transaction holds the group's rollup lock and has recounted the 29th;
    a batch of messages arriving now waits (adding to the old row before the rewrite would
    be lost in it), then adds to the row the rebuild wrote."""
    import asyncio

    s = Script(uow_factory)
    await s.join(at(1), A)
    await s.say((A, at(29, 9)))
    async with uow_factory() as rebuilding:
        record = await rebuilding.chats.get(GROUP.chat_id)
        await rebuilding.stats.lock_rollup(record.pk)
        day = at(29).date()
        rows = await rebuilding.stats.recompute(record.pk, day, day, TZ)
        batch = asyncio.create_task(s.say((A, at(29, 11)), (A, at(29, 12))))
        await until_waiting(uow_factory, database_url, batch)
        await rebuilding.stats.replace(record.pk, day, day, rows)
        await rebuilding.commit()
    await batch

    async with uow_factory() as uow:
        [stored] = await uow.stats.days(record.pk, day, day)
    assert (stored.messages, stored.active) == (3, 1)
