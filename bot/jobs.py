"""The scheduler's periodic work. Each job reads the clock once, runs a use case, and hands
what changed to handlers' rendering functions; the job queue only decides when."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot
from telegram.ext import JobQueue

from bot.clock import SYSTEM, Clock
from bot.outbox import OutboxSender
from bot.settings import Settings
from campaigns.services.alerts import due_alerts
from campaigns.services.broadcasts import finish, progress, shown
from campaigns.services.calendar import enrol_due, hand_over_due
from campaigns.services.campaigns import finish_due
from campaigns.services.coupons import due_reminders
from campaigns.services.groupbuys import end_deals, expire_teams, live_posts
from campaigns.services.journeys import run_journeys
from campaigns.services.referral import sweep
from campaigns.services.segments import refresh_all
from campaigns.services.shop import expire_points
from campaigns.services.tiers import review_tiers
from handlers.alerts import send_alerts
from handlers.broadcasts import show_progress
from handlers.calendar import report_skipped
from handlers.calendar_texts import CalendarTexts
from handlers.campaigns import send_retros
from handlers.captcha import sweep_captchas
from handlers.deps import Deps
from handlers.groupbuy_texts import GroupBuyTexts
from handlers.groupbuys import announce_ended, announce_expired, show_team
from handlers.journey_texts import render as render_journey
from handlers.notify import (
    reachable_admins,
    send_coupon_reminders,
    send_expiry_notices,
    send_notices,
    send_points_reminders,
    send_tier_changes,
)

log = logging.getLogger("growthbot")
PRUNE_AFTER = dt.timedelta(days=2)
PROGRESS_EVERY = 3.0  # seconds between edits of one progress message
CARDS_PER_REFRESH = 10  # team cards edited per group by one countdown refresh
CAPTCHA_SWEEP = 15.0  # seconds between looks for overdue join captchas


async def refresh_progress(
    bot: Bot, d: Deps, last: dict[int, float], clock: Clock = SYSTEM
) -> None:
    """Called on every outbox tick: finished broadcasts get their report, running ones an
    update (each at most every few seconds; `last` remembers when)."""
    now = d.clock()
    done = await finish(d.uow, now=now)
    for bid in [*done, *await shown(d.uow())]:
        if bid not in done and clock.monotonic() - last.get(bid, 0.0) < PROGRESS_EVERY:
            continue
        last[bid] = clock.monotonic()
        p = await progress(d.uow(), broadcast_id=bid, now=now)
        group = p.group_id
        language = (await d.settings_of(group)).language if group else d.defaults.language
        await show_progress(bot, d, p, CalendarTexts(language))
        if bid in done:
            last.pop(bid, None)
            log.info("broadcast %s done: %d sent, %d failed", bid, p.sent, p.failed)


async def refresh_countdowns(bot: Bot, d: Deps, now: dt.datetime | None = None) -> None:
    """Keep "time left" true on live deal posts and open team cards.

    Run every few minutes; a post is edited only when its text changed, deal posts still
    go through the per-deal interval, and team cards are capped per group and run, so
    edits stay far below Telegram's limit of about 20 messages a minute in a group.
    """
    now = now or d.clock()
    deals, teams = await live_posts(d.uow(), now=now)
    for deal_id in deals:
        await d.deal_posts.refresh(deal_id, now)
    per_chat: dict[int, int] = {}
    for view in teams:
        per_chat[view.chat_id] = per_chat.get(view.chat_id, 0) + 1
        if per_chat[view.chat_id] > CARDS_PER_REFRESH:
            continue
        t = GroupBuyTexts((await d.settings_of(view.chat_id)).language)
        await show_team(bot, d, view, t, new=False, now=now)


Job = Callable[[object], Coroutine[Any, Any, None]]
jobs_log = logging.getLogger("growthbot.jobs")


@dataclass
class Jobs:
    """Everything the job queue runs, over the app's dependencies and its outbox sender.

    Every process schedules them; a run goes ahead only in the process that `leads` (the
    holder of the jobs lease, bot/leader.py), so each runs once across all processes.
    """

    bot: Bot
    d: Deps
    sender: OutboxSender
    settings: Settings
    clock: Clock = SYSTEM
    progress_shown: dict[int, float] = field(default_factory=dict)  # broadcast -> last edit
    leads: Callable[[], bool] = lambda: True
    prune_inbox: Callable[[dt.datetime], Awaitable[int]] | None = None
    runs: Counter[str] = field(default_factory=Counter)  # job name -> runs in this process

    def schedule(self, queue: JobQueue[Any]) -> None:
        """Register every job; `first` staggers them so a start does not run all at once."""
        s = self.settings
        every = self._every(queue)
        every(self.prune, interval=3600, first=60, name="prune-updates")
        every(
            self.sweep,
            interval=s.referral_sweep_seconds,
            first=min(30.0, s.referral_sweep_seconds),
            name="referral-sweep",
        )
        every(self.remind, interval=900, first=45, name="coupon-reminders")
        every(self.expire_teams, interval=30, first=5, name="team-expiry")
        every(self.countdowns, interval=180, first=90, name="countdowns")
        every(self.outbox_tick, interval=s.outbox_tick_seconds, first=1, name="outbox")
        every(self.recover_outbox, interval=60, first=60, name="outbox-recovery")
        every(self.enrol, interval=60, first=20, name="sequences")
        every(self.segments, interval=3600, first=120, name="segments")
        every(self.review_tiers, interval=3600, first=120, name="tier-review")
        every(self.journeys, interval=s.journey_tick_seconds, first=150, name="journeys")
        every(self.expire_points, interval=3600, first=150, name="points-expiry")
        every(self.finish_campaigns, interval=3600, first=180, name="campaigns")
        every(self.alerts, interval=900, first=240, name="alerts")
        every(self.captchas, interval=CAPTCHA_SWEEP, first=10, name="captcha-sweep")

    def _every(self, queue: JobQueue[Any]) -> Callable[..., None]:
        def every(job: Job, *, interval: float, first: float, name: str) -> None:
            @functools.wraps(job)
            async def if_leader(context: object) -> None:
                if not self.leads():
                    return
                self.runs[name] += 1
                jobs_log.debug("job %s run %d", name, self.runs[name])
                await job(context)

            queue.run_repeating(if_leader, interval=interval, first=first, name=name)

        return every

    async def sweep(self, _: object = None) -> None:
        """Confirm invites whose hold period ended, and tell the inviters."""
        notices = await sweep(self.d.uow, now=self.d.clock())
        if notices:
            log.info("referral sweep confirmed %d invites or tiers", len(notices))
            await send_notices(self.bot, self.d, notices)

    async def remind(self, _: object = None) -> None:
        """Tell members whose coupons expire within 24 hours (each coupon once)."""
        reminders = await due_reminders(self.d.uow(), now=self.d.clock())
        if reminders:
            await send_coupon_reminders(self.bot, self.d, reminders)

    async def expire_teams(self, _: object = None) -> None:
        """Close group-buy teams whose time ran out (also those that fell due while stopped)."""
        d, now = self.d, self.d.clock()
        expired = await expire_teams(d.uow, now=now)
        if expired:
            await announce_expired(self.bot, d, expired)
            for deal_id in {v.deal.id for v in expired}:
                await d.deal_posts.refresh(deal_id)
        ended = await end_deals(d.uow, now=now)
        if ended:
            await announce_ended(self.bot, d, ended)

    async def countdowns(self, _: object = None) -> None:
        """Time left on deal posts and team cards, kept true between the members' taps."""
        await refresh_countdowns(self.bot, self.d)

    async def outbox_tick(self, _: object = None) -> None:
        """The scheduler only ticks: due posts become outbox rows, and the sender drains them."""
        d = self.d
        handed = await hand_over_due(
            d.uow,
            now=d.clock(),
            grace=dt.timedelta(minutes=self.settings.post_grace_minutes),
        )
        for post, at in handed.skipped:
            log.warning("scheduled post %s due at %s skipped: past the grace window", post.id, at)
        await report_skipped(self.bot, d, handed.skipped)
        if handed.passed_over:
            log.warning("%d earlier runs passed over while the bot was down", handed.passed_over)
        self.sender.kick()
        await refresh_progress(self.bot, d, self.progress_shown, self.clock)

    async def enrol(self, _: object = None) -> None:
        """Day-N welcome messages that have come due become outbox rows."""
        if await enrol_due(self.d.uow, now=self.d.clock()):
            self.sender.kick()

    async def segments(self, _: object = None) -> None:
        """Every group's stages, RFM scores and the day's counts, from the member summaries
        (a stage change is recorded as an event for automations and analytics)."""
        changed = await refresh_all(self.d.uow, self.d.clock())
        if changed:
            log.info("segments refreshed: %d members changed stage", changed)

    async def review_tiers(self, _: object = None) -> None:
        """Membership tiers' periodic review (groups whose review day it is): demotions after
        the grace period, each member told privately. Hourly, so a restart on a review day
        still reviews; a second run that day changes nothing."""
        changes = await review_tiers(self.d.uow, now=self.d.clock())
        if changes:
            log.info("tier review demoted %d members", len(changes))
            await send_tier_changes(self.bot, self.d, changes)

    async def journeys(self, _: object = None) -> None:
        """Every running journey's due steps become outbox rows (each member's step once;
        the sender sends them within Telegram's limits)."""
        queued = await run_journeys(self.d.uow, now=self.d.clock(), render=render_journey)
        if queued:
            log.info("journeys queued %d private messages", queued)
            self.sender.kick()

    async def expire_points(self, _: object = None) -> None:
        """Points past their group's expiry leave the balances (one ledger entry per member
        and day; the member is told), and members with points expiring within a week are
        reminded of the day. Hourly, so a restart still runs it each day; a second run that
        day changes nothing."""
        run = await expire_points(self.d.uow, now=self.d.clock())
        if run.expired:
            log.info("points expiry took %d points", run.expired)
        await send_expiry_notices(self.bot, self.d, run.notices)
        await send_points_reminders(self.bot, self.d, run.reminders)

    async def finish_campaigns(self, _: object = None) -> None:
        """Campaigns whose last local day is over: each 复盘 built once (across processes)
        and sent privately to the group's admins. Hourly, so a restart still sends it."""
        finished = await finish_due(self.d.uow, now=self.d.clock())
        if finished:
            log.info("%d campaigns ended: sending their 复盘", len(finished))
            await send_retros(self.bot, self.d, finished)

    async def alerts(self, _: object = None) -> None:
        """Low stock, campaigns behind pace and leave spikes, each sent privately to the
        group's admins at most once per condition and local day (across processes)."""

        async def reachable(group_id: int) -> bool:
            return bool(await reachable_admins(self.bot, self.d, group_id))

        due = await due_alerts(self.d.uow, now=self.d.clock(), reachable=reachable)
        if due:
            log.info("%d alerts to send to admins", len(due))
            await send_alerts(self.bot, self.d, due)

    async def captchas(self, _: object = None) -> None:
        """Join captchas past their deadline expire (the newcomer removed for the ban
        minutes, the invite rejected), and newcomers a full prompt left out are prompted."""
        await sweep_captchas(self.bot, self.d)

    async def prune(self, _: object = None) -> None:
        """Forget processed update ids older than Telegram could ever redeliver."""
        async with self.d.uow() as uow:
            await uow.updates.prune(self.d.clock() - PRUNE_AFTER)
            await uow.commit()
        if self.prune_inbox is not None:
            await self.prune_inbox(self.d.clock() - PRUNE_AFTER)

    async def recover_outbox(self, _: object = None) -> None:
        """Rows a vanished leader had claimed go back to the queue once their lease is over."""
        await self.sender.recover()
