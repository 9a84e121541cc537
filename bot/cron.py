"""The cron engine behind campaigns.schedule: APScheduler's CronTrigger (the scheduler PTB's
JobQueue already runs on), installed when the `bot` package is imported."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from campaigns.schedule import may_fire, use_cron


class ApschedulerCron:
    def next_fire(self, expr: str, tz: ZoneInfo, after: dt.datetime) -> dt.datetime | None:
        trigger = CronTrigger.from_crontab(expr, timezone=tz)  # ValueError if invalid
        if not may_fire(expr):
            return None  # CronTrigger would search up to the year 9999 first, blocking the loop
        fire: dt.datetime | None = trigger.get_next_fire_time(None, after)
        return fire


def install() -> None:
    use_cron(ApschedulerCron())
