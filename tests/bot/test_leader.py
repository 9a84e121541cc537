"""The jobs leader on SQLite and PostgreSQL: never two leaders, a takeover only after the
lease, at once after a clean stop or a death seen on this host; jobs run only when leading."""

import datetime as dt

from bot.jobs import Jobs
from bot.leader import Leadership
from tests.clock import FakeClock

START = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
TTL = 15.0


def pair(uow_factory, clock: FakeClock, **b_options) -> tuple[Leadership, Leadership]:
    a = Leadership(uow_factory, "host:1:a", ttl=TTL, clock=clock)
    b = Leadership(uow_factory, "host:2:b", ttl=TTL, clock=clock, **b_options)
    return a, b


async def test_one_process_leads_and_another_takes_over_only_after_the_lease(uow_factory):
    clock = FakeClock(START)
    a, b = pair(uow_factory, clock)
    timeline = []

    async def at(seconds: float, renewing: list[Leadership]) -> None:
        clock.advance(seconds - clock.elapsed)
        for leadership in renewing:
            await leadership.renew()
        timeline.append((seconds, a.leader, b.leader))

    await a.start()
    await b.start()
    timeline.append((0, a.leader, b.leader))
    await at(5, [a, b])
    await at(10, [a, b])  # a's last renewal: its lease now runs to 25 s
    await at(20, [b])  # a has died or stalled from here on
    await at(24.5, [b])
    await at(25.5, [b])

    assert timeline == [
        (0, True, False),
        (5, True, False),
        (10, True, False),
        (20, True, False),
        (24.5, False, False),  # a stops a margin before its lease ends; b must still wait
        (25.5, False, True),
    ]
    assert (a.gained, b.gained) == (1, 1)


async def test_a_clean_stop_hands_the_lease_over_at_once(uow_factory):
    clock = FakeClock(START)
    a, b = pair(uow_factory, clock)
    await a.start()
    await b.start()

    await a.stop()
    taken = await b.renew()

    assert (a.leader, taken) == (False, True)


async def test_a_holder_known_to_be_gone_is_taken_over_without_waiting(uow_factory):
    clock = FakeClock(START)
    a, b = pair(uow_factory, clock, dead=lambda holder: holder == "host:1:a")
    await a.start()

    taken = await b.start()

    assert taken and b.leader


async def test_becoming_leader_runs_the_takeover_hook_once(uow_factory):
    clock = FakeClock(START)
    a, _ = pair(uow_factory, clock)
    calls = []

    async def gained() -> None:
        calls.append(clock.elapsed)

    a.on_gain = gained
    await a.start()
    clock.advance(5)
    await a.renew()

    assert calls == [0.0]


def test_an_unstarted_leadership_leads_one_process_alone():
    clock = FakeClock(START)

    assert Leadership(lambda: None, "x", clock=clock).leader  # type: ignore[arg-type,return-value]


class Queue:
    def __init__(self) -> None:
        self.jobs: dict[str, object] = {}

    def run_repeating(self, callback, *, interval: float, first: float, name: str) -> None:
        self.jobs[name] = callback


async def test_scheduled_jobs_run_only_in_the_leading_process():
    leading = {"now": False}
    jobs = Jobs(None, None, None, None, leads=lambda: leading["now"])  # type: ignore[arg-type]
    ran: list[str] = []

    async def sweep(_: object) -> None:
        ran.append("sweep")

    queue = Queue()
    jobs._every(queue)(sweep, interval=1, first=1, name="sweep")  # type: ignore[arg-type]
    await queue.jobs["sweep"](None)  # type: ignore[operator]
    leading["now"] = True
    await queue.jobs["sweep"](None)  # type: ignore[operator]

    assert ran == ["sweep"]
    assert jobs.runs == {"sweep": 1}
