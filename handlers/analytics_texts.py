"""What /funnels and /cohorts say, and the words on the charts (titles, axes, legends)."""

from __future__ import annotations

import html

from campaigns.cohorts import MAX_WEEKS, MIN_WEEKS, CohortTable, WeeksRefused
from campaigns.funnels import Funnel, FunnelKind, PeriodRefused, StepKey, shown
from campaigns.services.analytics import CohortReport, FunnelReport
from handlers.words import Words


def percent(share: float | None) -> str:
    """A share as a whole percentage; "–" where there is none."""
    return "–" if share is None else f"{share:.0%}"


class AnalyticsTexts:
    """Funnel, cohort and chart texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._ = language, self.words._

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, PeriodRefused):
            return self.funnels_usage(error.value)
        if isinstance(error, WeeksRefused):
            return self.cohorts_usage(error.value)
        return self.words.refusal(error)

    # -- names --------------------------------------------------------------------------------

    def funnel(self, funnel: Funnel) -> str:
        """A funnel's name (a coupon funnel by its offer's name, as typed by the admin)."""
        if funnel.kind is FunnelKind.COUPON:
            return self._("Coupon: {offer}", offer=funnel.title or "")
        if funnel.kind is FunnelKind.CHANNEL:
            if funnel.channel_id is None:
                return self._("No channel (joined another way)")
            return self._("Channel: {name}", name=funnel.title or "")
        return {
            FunnelKind.REFERRAL: self._("Referral"),
            FunnelKind.TEAMS: self._("Group-buy teams"),
            FunnelKind.TEAM_MEMBERS: self._("Group-buy members"),
            FunnelKind.BROADCAST: self._("Broadcasts"),
            FunnelKind.JOURNEY: self._("Journeys"),
            FunnelKind.NEW_MEMBER: self._("New members"),
        }[funnel.kind]

    def step(self, key: StepKey) -> str:
        return {
            StepKey.SHARED: self._("shared a link"),
            StepKey.FRIEND_JOINED: self._("a friend joined"),
            StepKey.FRIEND_CONFIRMED: self._("a friend confirmed"),
            StepKey.FRIEND_ORDERED: self._("a friend ordered"),
            StepKey.CLAIMED: self._("claimed"),
            StepKey.REDEEMED: self._("redeemed"),
            StepKey.STARTED: self._("started"),
            StepKey.COMPLETED: self._("completed"),
            StepKey.JOINED_TEAM: self._("joined a team"),
            StepKey.TEAM_COMPLETED: self._("team completed"),
            StepKey.ORDERED: self._("ordered"),
            StepKey.SENT: self._("sent"),
            StepKey.ACTIVE_3D: self._("active within 3 days"),
            StepKey.ORDER_7D: self._("ordered within 7 days"),
            StepKey.JOINED: self._("joined"),
            StepKey.FIRST_MESSAGE: self._("first message"),
            StepKey.FIRST_CHECKIN: self._("first check-in"),
            StepKey.FIRST_ORDER: self._("first order"),
        }[key]

    def _group(self, title: str | None) -> str:
        return html.escape(title or self._("this group"), quote=False)

    # -- /funnels -----------------------------------------------------------------------------

    def funnels(self, report: FunnelReport, days: int) -> str:
        lines = [
            self._(
                "📊 Funnels of <b>{group}</b>, last {days}",
                group=self._group(report.chat.title), days=self.words.days(days),
            )
        ]  # fmt: skip
        funnels, left_out = shown(report.funnels)
        for funnel in funnels:
            lines.append("")
            lines.append(f"<b>{html.escape(self.funnel(funnel), quote=False)}</b>")
            for i, step in enumerate(funnel.steps):
                # a full-width colon in Chinese (the one "label: value" text)
                line = self._(
                    "{measure}: {result}",
                    measure=self.step(step.key),
                    result=f"<b>{step.count}</b>",
                )
                if i:  # no space before a full-width parenthesis in Chinese
                    line = self.words.then(
                        line,
                        self._(
                            "({step} of the step before, {first} of the first)",
                            step=percent(funnel.from_previous(i)),
                            first=percent(funnel.from_first(i)),
                        ),
                    )
                lines.append(line)
        if left_out:
            lines += ["", self._("…and {n} more coupon offers with fewer claims.", n=left_out)]
        if report.channels:
            lines += ["", *self.by_channel(report.channels)]
        return "\n".join(lines)

    def by_channel(self, funnels: list[Funnel]) -> list[str]:
        """The new-member funnel per channel, a line each: every step with its share of
        the step before."""
        lines = [self._("<b>New members by channel (渠道)</b>")]
        for funnel in funnels:
            steps = [f"{self.step(funnel.steps[0].key)} <b>{funnel.steps[0].count}</b>"]
            steps += [
                f"{self.step(step.key)} <b>{step.count}</b> ({percent(funnel.from_previous(i))})"
                for i, step in enumerate(funnel.steps[1:], 1)
            ]
            name = html.escape(self.funnel(funnel), quote=False)
            lines.append(f"{name}: " + " → ".join(steps))
        return lines

    def funnels_caption(self, days: int) -> str:
        return self._("Funnels, last {days}", days=self.words.days(days))

    def funnels_usage(self, value: str) -> str:
        return self._(
            "I can't read {value} as a period. Usage: /funnels [7d|30d|90d] (7d when left out).",
            value=f"<code>{html.escape(value, quote=False)}</code>",
        )

    def sent_privately(self) -> str:
        return self._("📬 I sent you the report in a private chat.")

    # -- /cohorts -----------------------------------------------------------------------------

    def cohorts(self, report: CohortReport) -> str:
        """One line: how many joined, and how many came back a week and four weeks later."""
        t = report.table
        return self._(
            "👥 Retention of <b>{group}</b>: {members} new members in {weeks} weekly cohorts; "
            "active the week after joining: {week1}, four weeks after: {week4}.",
            group=self._group(report.chat.title),
            members=t.members,
            weeks=len(t.weeks),
            week1=percent(t.average(1)),
            week4=percent(t.average(4) if len(t.weeks) > 4 else None),
        )

    def cohorts_usage(self, value: str) -> str:
        return self._(
            "I can't read {value} as a number of weeks. Usage: /cohorts [weeks] "
            "({low}-{high}, 8 when left out).",
            value=f"<code>{html.escape(value, quote=False)}</code>",
            low=MIN_WEEKS,
            high=MAX_WEEKS,
        )

    # -- chart labels (plain text: no HTML on a chart) ----------------------------------------

    def growth_title(self) -> str:
        return self._("Growth: joins and leaves per day")

    def joined(self) -> str:
        return self._("Joined")

    def left(self) -> str:
        return self._("Left")

    def net(self) -> str:
        return self._("Net")

    def members_axis(self) -> str:
        return self._("Members")

    def activity_title(self) -> str:
        return self._("Activity per day")

    def dau(self) -> str:
        return self._("Active members (DAU)")

    def messages(self) -> str:
        return self._("Messages")

    def cohort_title(self) -> str:
        return self._("Weekly retention by join week")

    @staticmethod
    def cohort_row(table: CohortTable, i: int) -> str:
        """A cohort on the heatmap: its Monday and its size."""
        return f"{table.weeks[i]:%m-%d} ({table.sizes[i]})"

    def weeks_after(self) -> str:
        return self._("Weeks after joining")

    def join_week(self) -> str:
        return self._("Join week (members)")

    def funnel_title(self) -> str:
        return self._("Funnels: share of the first step")

    def no_data(self) -> str:
        return self._("No data yet")
