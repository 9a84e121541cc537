"""Each rule is decided by one predicate in campaigns/; the SQL that narrows rows for it is only a
pre-filter. On random rows, on SQLite and PostgreSQL, the rows the SQL returns are exactly the
rows the predicate accepts.

Every example seeds its rows in one transaction, queries, and rolls back: nothing is left behind.
Times are whole minutes around `NOW`, with the boundaries drawn often, so ties get tested.
"""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campaigns.audience import Audience, MemberFacts
from campaigns.checkin import CheckinRules, award, local_day
from campaigns.coupons import CouponState, reminder_due
from campaigns.errors import AlreadyCheckedIn
from campaigns.members import ChatInfo, Person
from campaigns.referral import InviteStatus, ReferralProgram, Source, confirmable
from campaigns.services.checkin import check_in
from campaigns.services.coupons import REMIND_BEFORE
from campaigns.settings import ChatSettings
from storage.models import ChatRow, CouponRow, CouponTemplateRow, InviteRow, MembershipRow, UserRow

NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def minutes(*boundaries: int, span: int) -> st.SearchStrategy[int]:
    """Offsets in minutes: the given boundaries (and a minute either side) or any within span."""
    edges = sorted({b + d for b in boundaries for d in (-1, 0, 1)})
    return st.sampled_from(edges) | st.integers(-span, span)


def at(offset: int | None) -> dt.datetime | None:
    return None if offset is None else NOW + dt.timedelta(minutes=offset)


async def seed_chat(session, telegram_id: int = -100777) -> ChatRow:
    """A group to hang the rows on; the settings columns are required, not read."""
    chat = ChatRow(
        telegram_id=telegram_id,
        type="supergroup",
        title="Prefilters",
        timezone="UTC",
        language="en",
        checkin_points=1,
        streak_bonus=0,
        streak_bonus_max=0,
        milestones={},
    )
    session.add(chat)
    await session.flush()
    return chat


# -- coupons: reminder_due ---------------------------------------------------------------------

DAY = 24 * 60
COUPONS = st.lists(
    st.tuples(
        st.sampled_from([CouponState.ACTIVE, CouponState.USED]),
        st.none() | minutes(0, DAY, span=3 * DAY),  # expiry, around now and now + 24 hours
    ),
    max_size=12,
)


@PROPERTY
@given(coupons=COUPONS, now_shift=minutes(0, span=2 * DAY))
async def test_the_reminder_query_returns_exactly_the_coupons_reminder_due_accepts(
    uow_factory, coupons, now_shift
):
    now = NOW + dt.timedelta(minutes=now_shift)
    until = now + REMIND_BEFORE
    async with uow_factory() as uow:
        chat = await seed_chat(uow.session)
        offer = CouponTemplateRow(
            purpose="offer", chat_id=chat.id, name="Ten off", kind="fixed", value=1000,
            currency="CNY", min_spend=0, per_member=99, issued=0, active=True, created_at=NOW,
        )  # fmt: skip
        uow.session.add_all([offer, UserRow(id=5151, first_name="Ann", reachable=True)])
        await uow.session.flush()
        rows = [
            CouponRow(
                template_id=offer.id,
                chat_id=chat.id,
                code=f"PF-{i}",
                user_id=5151,
                slot=i,
                source="test",
                status=status,
                issued_at=NOW - dt.timedelta(days=9),
                expires_at=at(expiry),
            )
            for i, (status, expiry) in enumerate(coupons)
        ]
        uow.session.add_all(rows)
        await uow.session.flush()

        returned = {c.code for c, *_ in await uow.coupons.claim_reminders(now, until, 10_000)}

    accepted = {
        f"PF-{i}"
        for i, (status, expiry) in enumerate(coupons)
        if reminder_due(status, at(expiry), now, until)
    }
    assert returned == accepted


# -- referral: confirmable ---------------------------------------------------------------------

INVITEES = st.lists(
    st.tuples(
        minutes(-48 * 60, -24 * 60, 0, span=3 * DAY),  # joined, around the default hold
        st.booleans(),  # still present
        st.none() | minutes(0, span=2 * DAY),  # last active, relative to the join
    ),
    max_size=12,
)


@PROPERTY
@given(
    invitees=INVITEES,
    hold_hours=st.sampled_from([0, 1, 24, 48]),
    require_activity=st.booleans(),
)
async def test_the_sweep_query_returns_exactly_the_invites_confirmable_accepts(
    uow_factory, invitees, hold_hours, require_activity
):
    program = ReferralProgram(hold_hours=hold_hours, require_activity=require_activity)
    async with uow_factory() as uow:
        chat = await seed_chat(uow.session)
        uow.session.add(UserRow(id=6000, first_name="Inviter"))
        facts = {}
        for i, (joined, present, active) in enumerate(invitees):
            joined_at = NOW + dt.timedelta(minutes=joined)
            last_active = None if active is None else joined_at + dt.timedelta(minutes=active)
            invite = InviteRow(
                chat_id=chat.id,
                invitee_id=6001 + i,
                inviter_id=6000,
                source=Source.MEMBER_LINK,
                status=InviteStatus.PENDING,
                joined_at=joined_at,
            )
            uow.session.add(UserRow(id=6001 + i, first_name=f"Friend {i}"))
            await uow.session.flush()  # memberships point to users
            uow.session.add_all(
                [
                    MembershipRow(
                        chat_id=chat.id,
                        user_id=6001 + i,
                        present=present,
                        joined_at=joined_at,
                        last_active_at=last_active,
                    ),
                    invite,
                ]
            )
            await uow.session.flush()
            facts[invite.id] = (joined_at, present, last_active)

        due = await uow.invites.due(
            chat.id,
            cutoff=NOW - program.hold,
            require_activity=program.require_activity,
            after_id=0,
            limit=10_000,
        )

    accepted = {
        invite_id
        for invite_id, (joined_at, present, last_active) in facts.items()
        if confirmable(
            joined_at=joined_at,
            present=present,
            last_active_at=last_active,
            now=NOW,
            program=program,
        )
    }
    assert {c.invite_id for c in due} == accepted


# -- broadcasts: Audience.matches --------------------------------------------------------------

DAY_RULES = ["joined_within", "joined_over", "active_within", "active_over"]
DAY_RULES += ["checkin_within", "checkin_over"]
# One or two rules at a time, so members often pass all but the rule under test.
RULES = st.tuples(st.sampled_from(DAY_RULES), st.sampled_from([0, 1, 7, 30])) | st.tuples(
    st.just("points_min"), st.sampled_from([0, 100, 101])
)
AUDIENCES = st.lists(RULES, min_size=1, max_size=2).map(lambda rules: Audience(**dict(rules)))
MOSTLY = st.sampled_from([True, True, True, False])
AGO = st.none() | minutes(0, -DAY, -7 * DAY, -30 * DAY, span=40 * DAY)
CHECKIN_AGO = st.sampled_from([-31, -30, -29, -8, -7, -6, -2, -1, 0, 1]) | st.integers(-40, 1)
MEMBERS = st.lists(
    st.builds(
        MemberFacts,
        joined_at=AGO.map(at),
        last_active_at=AGO.map(at),
        last_checkin_day=st.none() | CHECKIN_AGO.map(lambda d: NOW.date() + dt.timedelta(days=d)),
        points=st.sampled_from([0, 99, 100, 101]) | st.integers(0, 500),
        present=MOSTLY,
        reachable=MOSTLY,
    ),
    max_size=20,
)

WEEK_AGO = NOW - dt.timedelta(days=7)
EDGES = [  # exactly at a week's cutoff, with every date unknown, absent, unreachable
    MemberFacts(WEEK_AGO, WEEK_AGO, WEEK_AGO.date(), 100, present=True, reachable=True),
    MemberFacts(None, None, None, 99, present=True, reachable=True),
    MemberFacts(WEEK_AGO, WEEK_AGO, WEEK_AGO.date(), 100, present=False, reachable=True),
    MemberFacts(WEEK_AGO, WEEK_AGO, WEEK_AGO.date(), 100, present=True, reachable=False),
]


def at_the_edges(test):
    """Pin each rule at exactly its cutoff, so the boundaries are tried on every run."""
    for rules in [{rule: 7} for rule in DAY_RULES] + [{"points_min": 100}]:
        test = example(audience=Audience(**rules), members=EDGES, reachable_unknown=True)(test)
    return test


@settings(PROPERTY, max_examples=200)
@given(audience=AUDIENCES, members=MEMBERS, reachable_unknown=st.booleans())
@at_the_edges
async def test_the_recipients_query_returns_exactly_the_members_the_audience_matches(
    uow_factory, audience, members, reachable_unknown
):
    async with uow_factory() as uow:
        chat = await seed_chat(uow.session)
        for i, m in enumerate(members):
            # An unreachable member is stored as False, or as None (never asked), alternately.
            unreachable = None if reachable_unknown and i % 2 else False
            uow.session.add(
                UserRow(id=7000 + i, first_name=f"M{i}", reachable=m.reachable or unreachable)
            )
        await uow.session.flush()  # memberships point to users
        uow.session.add_all(
            MembershipRow(
                chat_id=chat.id,
                user_id=7000 + i,
                present=m.present,
                joined_at=m.joined_at,
                last_active_at=m.last_active_at,
                last_checkin_day=m.last_checkin_day,
                points=m.points,
            )
            for i, m in enumerate(members)
        )
        await uow.session.flush()

        recipients = await uow.broadcasts.recipients(chat.id, audience, NOW)

    assert recipients == [7000 + i for i, m in enumerate(members) if audience.matches(m, NOW)]


# -- check-ins: the member's counters stand in for the log -------------------------------------

CHECKIN_DAYS = st.lists(st.integers(0, 9), min_size=1, max_size=10)  # in the order handled
RUSH = ChatInfo(chat_id=-100778, type="supergroup", title="Rush")
SHANGHAI = ChatSettings(timezone="Asia/Shanghai", checkin=CheckinRules(milestones={3: 5}))
_members = itertools.count(7000)


@PROPERTY
@given(days=CHECKIN_DAYS)
async def test_a_checkin_earns_what_the_rule_gives_for_the_latest_logged_checkin_before_it(
    uow_factory, days
):
    """check_in reads the previous check-in from the member's counters (the latest of all)
    and asks the log only for a backlog; either way the award is the rule's for the latest
    check-in in the log before that day, in any order of arrival, and a day already in the
    log is refused."""
    person, update_ids = Person(next(_members), "Rusher"), itertools.count(1)
    for offset in days:
        at = NOW + dt.timedelta(days=offset)
        day = local_day(at, SHANGHAI.timezone)
        async with uow_factory() as uow:
            chat = await uow.chats.get(RUSH.chat_id)
            logged = (
                await uow.checkins.previous(chat.pk, person.user_id, day + dt.timedelta(days=1))
                if chat
                else None
            )
            previous = await uow.checkins.previous(chat.pk, person.user_id, day) if chat else None
        expected = award(previous, day, SHANGHAI.checkin)

        try:
            result = await check_in(
                uow_factory(), bot_id=1, update_id=person.user_id * 100 + next(update_ids),
                chat=RUSH, person=person, at=at, defaults=SHANGHAI,
            )  # fmt: skip
            got = result.award
        except AlreadyCheckedIn:
            got = None

        assert got == (None if logged is not None and logged.day == day else expected)
