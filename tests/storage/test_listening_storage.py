"""Watch words and FAQs in storage, on SQLite and PostgreSQL: each group's own, an alert
once per member and hour and an answer once per cooldown even when two processes race,
each logged as an activity event, and the reply book a group's messages are heard against."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from campaigns.errors import DuplicateUpdate
from campaigns.faq import MAX_FAQS, FaqProblem, FaqRefused, read_faq
from campaigns.members import ChatInfo, EventKind
from campaigns.services.faq import claim_faq_answer, group_faqs, remove_faq, save_faq
from campaigns.services.listening import reply_book
from campaigns.services.watch import (
    add_watch_words,
    claim_watch_alert,
    remove_watch_words,
    watch_words,
)
from campaigns.settings import ChatSettings
from campaigns.watch import WatchProblem, WatchRefused
from storage.models import EventRow

AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
MINUTE, HOUR = dt.timedelta(minutes=1), dt.timedelta(hours=1)
A = ChatInfo(-1009000000001, "supergroup", "A")
B = ChatInfo(-1009000000002, "supergroup", "B")
DEFAULTS = ChatSettings()
updates = iter(range(1, 10**6))


def key() -> tuple[int, int]:
    return (1, next(updates))


async def add_words(uow_factory, chat: ChatInfo, raw: str):
    return await add_watch_words(
        uow_factory(), update=key(), chat=chat, raw=raw, by=11, at=AT, defaults=DEFAULTS
    )


async def add_faq(uow_factory, chat: ChatInfo, body: str):
    return await save_faq(
        uow_factory(), update=key(), chat=chat, draft=read_faq(body), by=11, at=AT,
        defaults=DEFAULTS,
    )  # fmt: skip


async def events(uow_factory, kind: EventKind) -> list[tuple[int, int | None, dict | None]]:
    async with uow_factory() as uow:
        rows = await uow.session.execute(
            select(EventRow.user_id, EventRow.value, EventRow.meta)
            .where(EventRow.kind == kind)
            .order_by(EventRow.id)
        )
        return [tuple(r) for r in rows]


async def test_each_group_has_its_own_words_added_and_removed_once(uow_factory):
    first = await add_words(uow_factory, A, "投诉, 退款, Refund")
    again = await add_words(uow_factory, A, "refund, scam")
    await add_words(uow_factory, B, "发货")
    removed = await remove_watch_words(
        uow_factory(), update=key(), chat_id=A.chat_id, raw="退款, 不存在", at=AT
    )

    assert first.changed == ("投诉", "退款", "refund")
    assert (again.changed, again.unchanged) == (("scam",), ("refund",))
    assert (removed.changed, removed.unchanged) == (("退款",), ("不存在",))
    assert await watch_words(uow_factory(), chat_id=A.chat_id) == ["refund", "scam", "投诉"]
    assert await watch_words(uow_factory(), chat_id=B.chat_id) == ["发货"]


async def test_a_list_past_fifty_words_is_refused_whole(uow_factory):
    await add_words(uow_factory, A, ",".join(f"w{i}" for i in range(49)))

    with pytest.raises(WatchRefused) as refused:
        await add_words(uow_factory, A, "x1, x2")
    await add_words(uow_factory, A, "w1, x1")  # 50 exactly

    assert refused.value.problem is WatchProblem.TOO_MANY
    assert len(await watch_words(uow_factory(), chat_id=A.chat_id)) == 50


async def claim_alert(uow_factory, pk: int, user: int, at: dt.datetime) -> bool:
    return await claim_watch_alert(
        uow_factory(), update=key(), chat_pk=pk, user_id=user, word="退款", message_id=7, at=at
    )


async def test_an_alert_is_claimed_once_per_member_and_rolling_hour(uow_factory):
    await add_words(uow_factory, A, "退款")
    pk = (await reply_book(uow_factory(), chat_id=A.chat_id)).chat_pk
    assert pk is not None

    claims = [
        await claim_alert(uow_factory, pk, 5, AT),
        await claim_alert(uow_factory, pk, 5, AT + 59 * MINUTE),
        await claim_alert(uow_factory, pk, 6, AT + 59 * MINUTE),  # another member
        await claim_alert(uow_factory, pk, 5, AT + HOUR),
        await claim_alert(uow_factory, pk, 5, AT + HOUR + 30 * MINUTE),
    ]

    assert claims == [True, False, True, True, False]
    logged = await events(uow_factory, EventKind.WATCH_ALERT)
    assert logged == [(5, None, {"word": "退款", "message": "7"})] * 1 + [
        (6, None, {"word": "退款", "message": "7"}),
        (5, None, {"word": "退款", "message": "7"}),
    ]


async def test_two_processes_racing_for_one_alert_send_it_once(uow_factory):
    await add_words(uow_factory, A, "退款")
    pk = (await reply_book(uow_factory(), chat_id=A.chat_id)).chat_pk
    assert await claim_alert(uow_factory, pk, 5, AT)  # a row to race on, an hour old below

    later = AT + 2 * HOUR
    won = await asyncio.gather(*(claim_alert(uow_factory, pk, 5, later) for _ in range(2)))
    first = await asyncio.gather(*(claim_alert(uow_factory, pk, 9, later) for _ in range(2)))

    assert sorted(won) == [False, True]
    assert sorted(first) == [False, True]


async def test_a_redelivered_update_claims_nothing_twice(uow_factory):
    await add_words(uow_factory, A, "退款")
    pk = (await reply_book(uow_factory(), chat_id=A.chat_id)).chat_pk
    update = key()

    async def claim(at: dt.datetime) -> bool:
        return await claim_watch_alert(
            uow_factory(), update=update, chat_pk=pk, user_id=5, word="退款", message_id=1, at=at
        )

    assert await claim(AT)
    with pytest.raises(DuplicateUpdate):
        await claim(AT + 2 * HOUR)


async def test_faqs_are_saved_replaced_listed_and_removed_within_their_group(uow_factory):
    shipping = await add_faq(uow_factory, A, "发货/快递 | 48 小时内")
    replaced = await add_faq(uow_factory, A, "快递/发货 | <b>24</b> 小时内")
    theirs = await add_faq(uow_factory, B, "退款 | 7 天")

    with pytest.raises(FaqRefused) as foreign:
        await remove_faq(uow_factory(), update=key(), chat_id=A.chat_id, reference=theirs.id, at=AT)
    with pytest.raises(FaqRefused) as unknown:
        await remove_faq(uow_factory(), update=key(), chat_id=A.chat_id, reference="退款", at=AT)
    listed = await group_faqs(uow_factory(), chat_id=A.chat_id)
    gone = await remove_faq(
        uow_factory(), update=key(), chat_id=A.chat_id, reference="发货 / 快递", at=AT
    )

    assert shipping.created and not replaced.created and replaced.id == shipping.id
    assert [(f.id, f.question, f.answer) for f in listed] == [
        (shipping.id, "快递/发货", "<b>24</b> 小时内")
    ]
    assert foreign.value.problem is FaqProblem.UNKNOWN and foreign.value.value == f"#{theirs.id}"
    assert unknown.value.problem is FaqProblem.UNKNOWN
    assert gone.id == shipping.id
    assert await group_faqs(uow_factory(), chat_id=A.chat_id) == []
    assert [f.id for f in await group_faqs(uow_factory(), chat_id=B.chat_id)] == [theirs.id]


async def test_a_group_has_at_most_fifty_faqs_but_may_replace_an_answer(uow_factory):
    for i in range(MAX_FAQS):
        await add_faq(uow_factory, A, f"q{i} | a")

    with pytest.raises(FaqRefused) as refused:
        await add_faq(uow_factory, A, "one more | a")
    replaced = await add_faq(uow_factory, A, "q3 | b")

    assert refused.value.problem is FaqProblem.TOO_MANY
    assert not replaced.created
    assert len(await group_faqs(uow_factory(), chat_id=A.chat_id)) == MAX_FAQS


async def test_an_answer_is_claimed_once_per_cooldown_even_by_racing_processes(uow_factory):
    faq = await add_faq(uow_factory, A, "发货 | 48 小时内")
    theirs = await add_faq(uow_factory, B, "发货 | 不发货")
    pk = (await reply_book(uow_factory(), chat_id=A.chat_id)).chat_pk
    cooldown = 5 * MINUTE

    async def claim(at: dt.datetime, faq_id: int = faq.id, user: int = 5) -> bool:
        return await claim_faq_answer(
            uow_factory(), update=key(), chat_pk=pk, faq_id=faq_id, user_id=user,
            message_id=3, at=at, cooldown=cooldown,
        )  # fmt: skip

    racing = await asyncio.gather(*(claim(AT, user=u) for u in range(5, 35)))
    within = await claim(AT + 4 * MINUTE)
    after = await claim(AT + 5 * MINUTE)
    foreign = await claim(AT + HOUR, faq_id=theirs.id)

    assert sorted(racing) == [False] * 29 + [True]
    assert (within, after, foreign) == (False, True, False)
    [listed] = await group_faqs(uow_factory(), chat_id=A.chat_id)
    assert listed.answered == 2 and listed.answered_at == AT + 5 * MINUTE
    assert [(v, m) for _, v, m in await events(uow_factory, EventKind.FAQ_ANSWER)] == [
        (faq.id, {"message": "3"})
    ] * 2


async def test_the_reply_book_holds_the_groups_words_faqs_and_switches(uow_factory):
    await add_words(uow_factory, A, "scam, scam alert")
    await add_faq(uow_factory, A, "发货 | 48 小时内")
    await add_faq(uow_factory, B, "退款 | 7 天")

    book = await reply_book(uow_factory(), chat_id=A.chat_id)
    none = await reply_book(uow_factory(), chat_id=-100123)

    assert [w.text for w in book.words] == ["scam alert", "scam"]
    assert [(f.question, f.answer) for f in book.faqs] == [("发货", "48 小时内")]
    assert book.language == "en" and book.settings.faq_cooldown == 5
    assert none.empty and none.chat_pk is None
