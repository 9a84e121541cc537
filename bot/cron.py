"""The cron engine behind campaigns.schedule: APScheduler's CronTrigger (the scheduler PTB's
JobQueue already runs on), installed at start by bot.wiring.install().

Expressions are standard cron (Sunday = 0 or 7); APScheduler counts weekdays from Monday = 0,
so the day-of-week field is handed over as day names, which mean the same to both."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from campaigns.schedule import WEEKDAYS, may_fire, weekdays


def apscheduler_crontab(expr: str) -> str:
    """A standard cron expression with its day-of-week field in APScheduler's terms."""
    fields = expr.split()
    if len(fields) != 5 or fields[4] == "*":
        return expr
    fields[4] = ",".join(WEEKDAYS[day] for day in sorted(weekdays(fields[4])))
    return " ".join(fields)


class ApschedulerCron:
    def next_fire(self, expr: str, tz: ZoneInfo, after: dt.datetime) -> dt.datetime | None:
        trigger = CronTrigger.from_crontab(apscheduler_crontab(expr), timezone=tz)  # ValueError
        if not may_fire(expr):
            return None  # CronTrigger would search up to the year 9999 first, blocking the loop
        fire: dt.datetime | None = trigger.get_next_fire_time(None, after)
        return fire
