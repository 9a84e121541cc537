"""Charts: how long each one takes to render, in Chinese, as /stats, /funnels and /cohorts
draw them.

    .venv/bin/python bench/bench_charts.py [--runs 20]

Renders each chart `--runs` times (after one warm-up, which loads the font) with realistic
data: 30 days of growth and activity, 8 weekly cohorts of 400 members, every funnel with
five coupon offers. Prints the median and the slowest run per chart. Goal: <= 300 ms each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from collections.abc import Callable

from campaigns.cohorts import cohort_table, week_start
from campaigns.funnels import Funnel, FunnelKind
from handlers import charts

NOW = dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.UTC)


def cases() -> dict[str, Callable[[], bytes]]:
    rng = random.Random(7)
    days = [NOW.date() - dt.timedelta(days=29 - i) for i in range(30)]
    joins = [rng.randint(0, 40) for _ in days]
    leaves = [rng.randint(0, 10) for _ in days]
    dau = [rng.randint(50, 300) for _ in days]
    messages = [d * rng.randint(3, 9) for d in dau]
    joined = {u: NOW - dt.timedelta(days=rng.randint(0, 55)) for u in range(400)}
    active = [
        (u, week_start((NOW - dt.timedelta(days=rng.randint(0, 55))).date()))
        for u in range(400)
        for _ in range(6)
    ]
    table = cohort_table(joined, active, timezone="Asia/Shanghai", weeks=8, now=NOW)
    funnels = [
        Funnel.of(FunnelKind.REFERRAL, [120, 60, 41, 12]),
        *(Funnel.of(FunnelKind.COUPON, [300 - i * 40, 90 - i * 10], title=f"满{i}99减30")
          for i in range(5)),
        Funnel.of(FunnelKind.TEAMS, [40, 26]),
        Funnel.of(FunnelKind.TEAM_MEMBERS, [110, 80, 52]),
        Funnel.of(FunnelKind.BROADCAST, [2000, 420, 37]),
        Funnel.of(FunnelKind.JOURNEY, [350, 120, 18]),
        Funnel.of(FunnelKind.NEW_MEMBER, [400, 260, 150, 31]),
    ]  # fmt: skip
    return {
        "growth_chart": lambda: charts.growth_chart(days, joins, leaves, language="zh"),
        "activity_chart": lambda: charts.activity_chart(days, dau, messages, language="zh"),
        "cohort_heatmap": lambda: charts.cohort_heatmap(table, language="zh"),
        "funnel_chart": lambda: charts.funnel_chart(funnels, language="zh"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(f"font: {charts.cjk_font()}")
    for name, draw in cases().items():
        draw()  # warm-up: the font is loaded once per process
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            png = draw()
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"{name:15} median {statistics.median(times):6.1f} ms   max {max(times):6.1f} ms"
            f"   {len(png) // 1024} KiB"
        )


if __name__ == "__main__":
    main()
