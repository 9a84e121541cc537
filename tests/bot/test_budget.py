"""The per-chat budget and the rate-limiter hook every Bot API request passes, on a fake clock."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.budget import (
    OVERALL_WINDOW,
    PRIVATE_WINDOW,
    BudgetLimiter,
    ChatBudget,
    paced_by_caller,
)
from bot.outbox import FloodControl
from tests.clock import BASE, FakeClock

GROUP, OTHER_GROUP, ALICE = -100123, -100456, 5_000_000_123
START = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)


class Telegram:
    """The callback the limiter wraps: records when each request went, may answer 429."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[str, int, float]] = []
        self.refuse: list[float] = []  # retry_after of the next answers, first first

    def __call__(self, endpoint: str, data: dict[str, Any]) -> Any:
        async def request() -> dict[str, Any]:
            if self.refuse:
                raise RetryAfter(dt.timedelta(seconds=self.refuse.pop(0)))
            self.sent.append((endpoint, data["chat_id"], self.clock.monotonic() - BASE))
            return {"ok": True}

        return request


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def send(limiter: BudgetLimiter, tg: Telegram, chat: int, endpoint: str = "sendMessage"):
    data = {"chat_id": chat, "text": "hi"}
    return await limiter.process_request(tg(endpoint, data), (), {}, endpoint, data, None)


async def test_a_group_gets_twenty_messages_and_edits_a_minute_and_the_next_waits(clock):
    limiter, tg = BudgetLimiter(ChatBudget(clock=clock)), Telegram(clock)

    for i in range(22):
        await clock.run(send(limiter, tg, GROUP, "editMessageText" if i % 2 else "sendMessage"))

    times = [at for _, _, at in tg.sent]
    assert times[:20] == [0.0] * 20
    assert times[20] == times[21] >= 60.0  # the minute, with a little margin


async def test_groups_do_not_share_a_budget(clock):
    limiter, tg = BudgetLimiter(ChatBudget(clock=clock)), Telegram(clock)

    for _ in range(20):
        await clock.run(send(limiter, tg, GROUP))
    await clock.run(send(limiter, tg, OTHER_GROUP))

    assert tg.sent[-1] == ("sendMessage", OTHER_GROUP, 0.0)


async def test_a_429_is_waited_out_and_the_request_sent_again(clock):
    budget = ChatBudget(clock=clock)
    limiter, tg = BudgetLimiter(budget), Telegram(clock)
    tg.refuse = [3.0]

    answer = await clock.run(send(limiter, tg, ALICE))

    assert answer == {"ok": True}
    assert tg.sent == [("sendMessage", ALICE, 3.0)]
    assert limiter.waited_429 == 1


class Network:
    """PTB's own HTTPXRequest over a transport whose first answers fail as `fail` says: what
    the limiter sees is then exactly what PTB raises for such a failure."""

    URL = "https://api.telegram.org/bot123:abc/sendMessage"

    def __init__(self, clock: FakeClock, fail: list[type[httpx.HTTPError]]) -> None:
        self.clock, self.fail = clock, fail
        self.tries: list[float] = []  # when each request left, delivered or not
        self.delivered = 0

        def handle(request: httpx.Request) -> httpx.Response:
            self.tries.append(self.clock.monotonic() - BASE)
            if self.fail:
                raise self.fail.pop(0)("it failed", request=request)
            self.delivered += 1
            return httpx.Response(200, json={"ok": True, "result": True})

        self.ptb = HTTPXRequest(httpx_kwargs={"transport": httpx.MockTransport(handle)})

    async def send(self, limiter: BudgetLimiter, chat: int) -> Any:
        data = {"chat_id": chat, "text": "hi"}
        await self.ptb.initialize()
        try:
            return await limiter.process_request(
                self.ptb.post, (self.URL,), {}, "sendMessage", data, None
            )
        finally:
            await self.ptb.shutdown()


async def test_a_reply_that_never_reached_telegram_is_sent_again_after_a_backoff(clock):
    net = Network(clock, [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])

    answer = await clock.run(net.send(BudgetLimiter(ChatBudget(clock=clock)), ALICE))

    assert answer is True
    assert net.tries == [0.0, 0.5, 1.5, 3.5]  # 0.5, 1 and 2 s apart
    assert net.delivered == 1


async def test_tries_that_never_reached_telegram_do_not_use_up_the_groups_minute(clock):
    budget = ChatBudget(clock=clock)
    limiter, tg = BudgetLimiter(budget), Telegram(clock)
    for _ in range(18):
        await clock.run(send(limiter, tg, GROUP))
    net = Network(clock, [httpx.ConnectError, httpx.ConnectError])

    await clock.run(net.send(limiter, GROUP))  # the 19th, on its third try
    await clock.run(send(limiter, tg, GROUP))  # the 20th

    assert net.delivered == 1
    assert budget.used(GROUP) == 20
    assert tg.sent[-1][2] < 60.0  # within the minute: the failed tries took no room


async def test_a_request_waiting_to_be_sent_again_counts_as_waiting_in_the_limiter(clock):
    # Whoever waits for the senders to settle (the acknowledgements) counts on it: a sleep
    # it did not see would have it wait for time that never passes on a test's clock.
    budget = ChatBudget(clock=clock)
    net = Network(clock, [httpx.ConnectError])
    with clock.held():  # time stands still: the request sleeps before its second try
        sending = asyncio.ensure_future(clock.run(net.send(BudgetLimiter(budget), ALICE)))
        for _ in range(20):
            await asyncio.sleep(0)

        assert budget.waiting == 1 and len(net.tries) == 1
    await sending
    assert budget.waiting == 0 and net.delivered == 1


async def test_a_reply_that_may_have_arrived_is_not_sent_twice(clock):
    # A read that timed out or a connection dropped mid-answer: Telegram may have the
    # message already, so sending it again could post it twice.
    for failure, raised in ((httpx.ReadTimeout, TimedOut), (httpx.ReadError, NetworkError)):
        net = Network(clock, [failure])

        with pytest.raises(raised):
            await clock.run(net.send(BudgetLimiter(ChatBudget(clock=clock)), ALICE))

        assert len(net.tries) == 1


async def test_a_network_that_stays_down_fails_the_reply_after_four_more_tries(clock):
    net = Network(clock, [httpx.ConnectError] * 6)

    with pytest.raises(NetworkError):
        await clock.run(net.send(BudgetLimiter(ChatBudget(clock=clock)), GROUP))

    assert net.tries == [0.0, 0.5, 1.5, 3.5, 7.5]


async def test_the_outbox_gets_a_connection_failure_back_to_settle_itself(clock):
    net = Network(clock, [httpx.ConnectError])

    with paced_by_caller(), pytest.raises(NetworkError):
        await clock.run(net.send(BudgetLimiter(ChatBudget(clock=clock)), ALICE))

    assert len(net.tries) == 1


async def test_a_429_pauses_that_chat_for_every_sender_and_only_that_chat(clock):
    budget = ChatBudget(clock=clock)
    budget.refused(GROUP, 5.0)

    assert budget.chat_wait(GROUP) == pytest.approx(5.0)
    assert budget.room_at(GROUP) == pytest.approx(BASE + 5.0)
    assert budget.chat_wait(OTHER_GROUP) <= 0


async def test_three_chats_refused_within_a_second_pause_everything(clock):
    budget = ChatBudget(clock=clock)

    for chat in (GROUP, OTHER_GROUP, ALICE):
        budget.refused(chat, 2.0)

    assert budget.chat_wait(-100999) == pytest.approx(2.0)


async def test_private_replies_may_come_in_a_burst_but_outbox_sends_are_a_second_apart(clock):
    limiter, tg = BudgetLimiter(ChatBudget(clock=clock)), Telegram(clock)

    await clock.run(send(limiter, tg, ALICE))
    await clock.run(send(limiter, tg, ALICE))
    with paced_by_caller():
        await clock.run(send(limiter, tg, ALICE))

    assert [at for _, _, at in tg.sent] == [0.0, 0.0, pytest.approx(PRIVATE_WINDOW)]
    assert PRIVATE_WINDOW > 1.0  # a second, and the way there


async def test_the_outbox_gets_its_429_back_to_retry_the_row_later(clock):
    limiter, tg = BudgetLimiter(ChatBudget(clock=clock)), Telegram(clock)
    tg.refuse = [1.0]

    with paced_by_caller(), pytest.raises(RetryAfter):
        await clock.run(send(limiter, tg, ALICE))


async def test_new_messages_stay_under_the_overall_rate_and_edits_do_not_count(clock):
    limiter, tg = BudgetLimiter(ChatBudget(overall=29, clock=clock)), Telegram(clock)

    for member in range(40):
        await clock.run(send(limiter, tg, 1000 + member))
    for member in range(10):
        await clock.run(send(limiter, tg, 1000 + member, "editMessageText"))

    messages = [at for endpoint, _, at in tg.sent if endpoint == "sendMessage"]
    edits = [at for endpoint, _, at in tg.sent if endpoint != "sendMessage"]
    assert messages.count(0.0) == 29 and max(messages) == pytest.approx(OVERALL_WINDOW)
    assert (
        edits == [pytest.approx(OVERALL_WINDOW)] * 10
    )  # at once: edits are not in the overall count


async def test_requests_that_are_no_messages_pass_untouched(clock):
    limiter, tg = BudgetLimiter(ChatBudget(clock=clock)), Telegram(clock)

    for _ in range(30):
        await clock.run(send(limiter, tg, GROUP, "getChatMember"))

    assert {at for _, _, at in tg.sent} == {0.0}


async def test_until_room_waits_a_second_after_a_private_message(clock):
    budget = ChatBudget(clock=clock)
    budget.note(ALICE, new=True)

    await clock.run(budget.until_room(ALICE))

    assert clock.monotonic() - BASE == pytest.approx(PRIVATE_WINDOW)
    assert budget.waiting == 0


async def test_an_album_counts_as_one_message_per_item_in_its_group(clock):
    """17 messages in the group's minute leave room for 3: an album of 4 waits until the
    oldest has left the minute, and then it is 4 of the next minute's 20."""
    budget = ChatBudget(clock=clock)
    limiter, tg = BudgetLimiter(budget), Telegram(clock)
    for _ in range(17):
        await clock.run(send(limiter, tg, GROUP))
    album = {"chat_id": GROUP, "media": ["png"] * 4}

    await clock.run(
        limiter.process_request(tg("sendMediaGroup", album), (), {}, "sendMediaGroup", album, None)
    )

    went = tg.sent[-1]
    assert went[0] == "sendMediaGroup" and went[2] >= 60.0  # not at once: 17 + 4 > 20
    assert budget.used(GROUP) == 4  # the 17 have left the window; the album is 4
    assert len(budget.overall) == 4
    now = clock.monotonic()
    assert budget.room_at(GROUP, count=16) == now  # 4 + 16 = 20: room now
    assert budget.room_at(GROUP, count=17) > now  # 21: when the album leaves the minute
    assert budget.room_at(GROUP, count=16, keep=1) == budget.room_at(GROUP, count=17)


@pytest.mark.parametrize(("group_limit", "apart"), [(20, 3.0), (30, 2.0), (1_000_000, 0.00006)])
async def test_the_outbox_spaces_a_groups_sends_by_the_budgets_own_limit(
    clock: FakeClock, group_limit: int, apart: float
):
    """Telegram's 20 a minute: the outbox sends to one group 3 s apart. The demo's budget has
    no limits (days pass in seconds), and its outbox must not wait 3 s a post either."""
    flood = FloodControl(29.0, clock=clock, budget=ChatBudget(group_limit=group_limit, clock=clock))
    starts = []
    for _ in range(3):
        await clock.run(flood.pace_chat(GROUP))
        starts.append(clock.monotonic() - BASE)
    assert starts == pytest.approx([0.0, apart, 2 * apart])
