"""Member tracking: joins, leaves and message counts, each counted once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from campaigns.checkin import local_day
from campaigns.members import (
    ChatInfo,
    EventKind,
    Person,
    PresenceChange,
    counts_as_message,
    is_present,
    presence_change,
)
from campaigns.ports import UnitOfWork
from campaigns.ports.captcha import CaptchaRecord
from campaigns.ports.members import Contact, MessageSeen
from campaigns.ports.segments import ActiveDay
from campaigns.services import raids, referral
from campaigns.services.captcha import let_in_by_request, open_captcha, open_hold
from campaigns.services.chats import claim_update, ensure_chat
from campaigns.services.referral import LinkSeen, Notice
from campaigns.services.segments import in_window
from campaigns.settings import ChatSettings

SPARED = {"administrator", "creator"}  # joining as an admin: no captcha, no hold


@dataclass(frozen=True)
class Presence:
    """How many people really joined or left, and what inviters should hear about it."""

    changed: int
    notices: list[Notice] = field(default_factory=list)
    captchas: list[int] = field(default_factory=list)  # opened for these joins: to prompt
    raid: raids.Switched | None = None  # a join of these switched raid mode on: tell, once
    closed: list[CaptchaRecord] = field(default_factory=list)  # of those who left: unlisted


@dataclass(frozen=True)
class Activity:
    """How many buffered messages were new, and invites their authors confirmed."""

    stored: int
    notices: list[Notice] = field(default_factory=list)


async def membership_changed(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat: ChatInfo,
    people: Sequence[Person],
    status: str,
    present: bool,
    at: dt.datetime,
    source: str,
    defaults: ChatSettings,
    link: LinkSeen | None = None,
    by_request: bool = False,
    exempt: frozenset[int] = frozenset(),
) -> Presence:
    """Store the status; log a join or leave only when presence really changes.

    A real join is credited to an inviter (or recorded as organic) in the same
    transaction, so a redelivered update can neither log nor credit it twice. It is screened
    there too: counted towards a raid, then held (raid mode) or asked (the captcha), unless
    it came through a join request the bot already checked (`by_request`), or the person is
    spared order keeping (`exempt`: the bot's owners; an admin joining as one).
    """
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await ensure_chat(uow, chat, defaults)
        await uow.users.upsert(people)
        kind = EventKind.JOIN if present else EventKind.LEAVE
        changed = 0
        notices: list[Notice] = []
        captchas: list[int] = []
        raid_started: raids.Switched | None = None
        closed: list[CaptchaRecord] = []
        for person in people:
            current = await uow.members.get(record.pk, person.user_id)
            if current is None:
                flipped = await uow.members.create(
                    record.pk, person.user_id, status=status, present=present, at=at
                )
            else:
                change = presence_change(current, present=present, at=at)
                if change is PresenceChange.STALE:
                    continue
                flipped = change is PresenceChange.CHANGED
                if not flipped and present and link is not None:
                    notices += await referral.link_for_present(
                        uow, record, person.user_id, link=link, at=at
                    )
                await uow.members.update_presence(
                    record.pk,
                    person.user_id,
                    status=status,
                    present=present if flipped else None,
                    at=at,
                )
            if not flipped:
                continue
            changed += 1
            await uow.events.add([(record.pk, person.user_id, kind, at, None, {"via": source})])
            if present:
                raid = await raids.join_seen(uow, record, person.user_id, at)
                raid_started = raid_started or raid.started
                checked = (
                    person.user_id in exempt
                    or status in SPARED
                    or await let_in_by_request(
                        uow, record, person.user_id, at, admin_approved=by_request
                    )
                )
                if not checked:
                    opened = await (open_hold if raid.on else open_captcha)(
                        uow, record, person.user_id, at=at
                    )
                    captchas += [opened] if opened is not None else []
                notices += await referral.joined(
                    uow, record, person.user_id, was_member=current is not None, link=link, at=at
                )
            else:
                await referral.departed(uow, record, person.user_id, at)
                closed += await uow.captchas.close_for(record.pk, person.user_id, at)
        await uow.commit()
    return Presence(changed, notices, captchas, raid_started, closed)


async def member_changed(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat: ChatInfo,
    person: Person,
    is_bot: bool,
    status: str,
    is_member: bool | None,
    link: LinkSeen | None,
    at: dt.datetime,
    defaults: ChatSettings,
    by_request: bool = False,
    exempt: frozenset[int] = frozenset(),
) -> Presence:
    """chat_member: a person's join or leave goes through membership_changed (so it counts
    once with the service message). A bot is no member: one that came in through someone's
    link is only recorded against that link, as a rejected invite."""
    present = is_present(status, is_member)
    if not is_bot:
        return await membership_changed(
            uow, bot_id=bot_id, update_id=update_id, chat=chat, people=[person], status=status,
            present=present, at=at, source="chat_member", defaults=defaults, link=link,
            by_request=by_request, exempt=exempt,
        )  # fmt: skip
    if present and link is not None:
        await referral.bot_joined(
            uow, bot_id=bot_id, update_id=update_id, chat=chat, bot_user=person, link=link,
            at=at, defaults=defaults,
        )  # fmt: skip
    return Presence(0)


KNOWN_DAYS = 200_000  # member days remembered by a writer before it starts afresh
KNOWN_PEOPLE = 100_000  # people's names remembered by a writer before it starts afresh
KEEP_WRITTEN = dt.timedelta(minutes=10)  # how long a writer trusts what it remembers


@dataclass
class Written:
    """What one writer of activity batches stored lately, kept across its batches: member
    days (most messages are a member's second or later of the day) and the names each
    person was stored with (most senders spoke before, under the same name). Both are
    skipped, each a statement per batch.

    Only trusted for KEEP_WRITTEN: others write names too (a check-in, another process's
    writer), so a member who renames, is stored so by another writer, and renames back is
    stored under the last name again within KEEP_WRITTEN of their next message. Updated only
    after a batch commits; forgotten by the caller after any failed batch (the database may
    have lost a commit this remembers: a PostgreSQL crash loses the last non-durable ones).
    """

    days: set[tuple[int, int, dt.date]] = field(default_factory=set)
    people: dict[int, Person] = field(default_factory=dict)
    since: dt.datetime | None = None  # remembered from then on

    def forget(self) -> None:
        self.days.clear()
        self.people.clear()
        self.since = None

    def expire(self, at: dt.datetime) -> None:
        """Start afresh at `at` if what is remembered is older than KEEP_WRITTEN (or too much)."""
        stale = self.since is None or not self.since <= at < self.since + KEEP_WRITTEN
        if stale or len(self.days) > KNOWN_DAYS or len(self.people) > KNOWN_PEOPLE:
            self.forget()
            self.since = at

    def remember(self, days: Sequence[ActiveDay], people: Sequence[Person]) -> None:
        self.days.update((d.chat_pk, d.user_id, d.day) for d in days)
        self.people.update((p.user_id, p) for p in people)


async def record_messages(
    uow: UnitOfWork,
    *,
    bot_id: int,
    messages: Sequence[MessageSeen],
    at: dt.datetime,
    defaults: ChatSettings,
    written: Written | None = None,
) -> Activity:
    """Write a batch of member messages in one transaction; replays in the batch are dropped.

    Invitees who spoke get their pending invites confirmed in the same transaction.
    `written` (the caller's, kept across batches): member days and names stored lately
    are not written again (see Written).
    """
    unique = {m.update_id: m for m in messages}
    if written is not None:
        written.expire(at)
    async with uow:
        fresh_ids = await uow.updates.claim_many(bot_id, list(unique), at, scope="activity")
        fresh = [unique[i] for i in sorted(fresh_ids)]
        if not fresh:
            await uow.commit()
            return Activity(0)
        chats = {m.chat.chat_id: m.chat for m in fresh}
        records = {cid: await ensure_chat(uow, info, defaults) for cid, info in chats.items()}
        people = list({m.person.user_id: m.person for m in fresh}.values())
        if written is not None:
            people = [p for p in people if written.people.get(p.user_id) != p]
        await uow.users.upsert(people)
        per_chat: dict[int, dict[int, tuple[int, dt.datetime, dt.datetime]]] = {}
        rows = []
        days = []
        known = written.days if written is not None else set()
        for m in fresh:
            record = records[m.chat.chat_id]
            pk, user_id = record.pk, m.person.user_id
            counts = per_chat.setdefault(pk, {})
            n, first, last = counts.get(user_id, (0, m.at, m.at))
            said = 1 if counts_as_message(m.kind) else 0  # a command: active, no message
            counts[user_id] = (n + said, min(first, m.at), max(last, m.at))
            rows.append((pk, user_id, EventKind.MESSAGE, m.at, None, {"type": m.kind}))
            day = local_day(m.at, record.settings.timezone)
            if (pk, user_id, day) not in known:
                days.append(ActiveDay(pk, user_id, day, in_window(record, day.replace(day=1))))
        # The rows other transactions write too are written last, in a check-in's order
        # (members, their months, the day's counters): a check-in of a member in this batch
        # waits for it from the first of them to the commit, so the events, which no one
        # else writes, go first.
        await uow.events.add(rows, roll_up=False)
        for pk, counts in per_chat.items():
            await uow.members.count_messages(pk, counts)
        await uow.segments.active_days(days)
        await uow.events.roll_up(rows)
        notices: list[Notice] = []
        for record in records.values():
            counts = per_chat[record.pk]
            # The messages' own time, like check-ins: a backlog confirms what it would have.
            latest = max(last for _n, _first, last in counts.values())
            notices += await referral.activity_seen(uow, record, list(counts), latest)
        await uow.commit()
    if written is not None:
        written.remember(days, people)
    return Activity(len(fresh), notices)


async def reachable_contacts(uow: UnitOfWork, user_ids: Sequence[int]) -> list[Contact]:
    """Of these people, those who may get a private message (they started the bot, never
    blocked it), with their language: the group's admins told of an order, say."""
    async with uow:
        contacts = await uow.users.contacts(user_ids)
    return [contact for _, contact in sorted(contacts.items()) if contact.reachable]


async def started_the_bot(uow: UnitOfWork, user_ids: Sequence[int]) -> set[int]:
    """Who of these people may get a private message (they started the bot, never blocked
    it): coalesced acknowledgements send them their full detail there."""
    async with uow:
        contacts = await uow.users.contacts(user_ids)
    return {user_id for user_id, contact in contacts.items() if contact.reachable}
