"""What /campaign says: the usage, each refusal, the list, and the 复盘 (targets against
actuals, cost, attributed GMV, ROI, top inviters, the response to posts and broadcasts)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

from campaigns.campaign import (
    MIN_CSAT_TARGET,
    AttachKind,
    Campaign,
    CampaignInputError,
    CampaignProblem,
    CampaignRefusal,
    CampaignRefused,
    Pace,
    Response,
    Retro,
    Stage,
    TargetLine,
)
from campaigns.coupons import format_amount
from campaigns.ports.campaigns import Attached, CampaignRecord
from campaigns.stats import KIND, SURVEY_KPIS
from handlers.channel_texts import MOST_IN_RETRO, ChannelTexts, most_joins
from handlers.stats_texts import CURRENCY, NONE, StatsTexts
from handlers.survey_texts import SurveyTexts
from handlers.words import Words

PHASE_NAMES = {"预热": "warm-up", "爆发": "peak", "收尾": "wrap-up"}


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _day(day: dt.date) -> str:
    return day.strftime("%m-%d")


class CampaignTexts:
    """/campaign texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.stats = StatsTexts(language)
        self.channel = ChannelTexts(language)
        self.survey = SurveyTexts(language)
        self.language, self._, self._n = language, self.words._, self.words._n
        self.comma = "、" if language == "zh" else ", "  # between the items of a list

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, CampaignInputError):
            return self.problem(error)
        if isinstance(error, CampaignRefused):
            return self.refused(error)
        return self.words.refusal(error)

    def usage(self) -> str:
        return self._(
            "<b>Campaigns</b>\n"
            "<code>/campaign new &lt;name&gt; &lt;start&gt; &lt;end&gt; [kpi=target …] "
            "[budget=amount] [point=amount] [window=days] [phases=3/2/2]</code>\n"
            "  e.g. <code>/campaign new 双11 11-01 11-11 joins=300 gmv=50000 "
            "redemptions=200 budget=5000</code>\n"
            "<code>/campaign list</code>\n"
            "<code>/campaign report &lt;id&gt;</code>: the review (复盘) at any time\n"
            "<code>/campaign target &lt;id&gt; &lt;kpi&gt; &lt;value|off&gt;</code>\n"
            "<code>/campaign attach &lt;id&gt; offer|deal|post|broadcast|journey|survey|channel "
            "&lt;id, journey or channel&gt;</code>\n"
            "KPIs are those of /stats (joins, gmv, orders, coupons_redeemed, "
            "invites_confirmed …); money in ¥, rates in %; csat=80 and nps=30 are scored "
            "on the answers to its attached surveys. When a campaign ends, its admins get "
            "the review privately."
        )

    def problem(self, error: CampaignInputError) -> str:
        value = _esc(error.value)
        said = {
            CampaignProblem.USAGE: "",
            CampaignProblem.NAME: self._(
                "A campaign's name is one word (letters, digits, . : # &amp; + - _), at most "
                "64 characters: <code>{value}</code>",
                value=value,
            ),
            CampaignProblem.DATE: self._(
                "<code>{value}</code> is not a date like 2026-11-01 or 11-01.", value=value
            ),
            CampaignProblem.ORDER: self._("The campaign ends before it starts."),
            CampaignProblem.LENGTH: self._(
                "A campaign lasts at most a year, and starts at most a year ago or a year ahead."
            ),
            CampaignProblem.KPI: self._(
                "<code>{value}</code> is not a KPI I count. Use one of /stats: joins, gmv, "
                "orders, coupons_redeemed, coupons_claimed, invites_confirmed, messages …",
                value=value,
            ),
            CampaignProblem.VALUE: self._(
                "<code>{value}</code> is not a target: a whole number, an amount in ¥, or a "
                "rate in %.",
                value=value,
            ),
            CampaignProblem.DUPLICATE: self._("<code>{value}</code> is given twice.", value=value),
            CampaignProblem.BUDGET: self._(
                "The budget <code>{value}</code> is not an amount like 5000 or 199.90.",
                value=value,
            ),
            CampaignProblem.POINT: self._(
                "The value of a point <code>{value}</code> is not an amount like 0.01.",
                value=value,
            ),
            CampaignProblem.WINDOW: self._(
                "The attribution window is 1 to 30 days, not <code>{value}</code>.",
                value=value,
            ),
            CampaignProblem.PHASES: self._(
                "<code>phases={value}</code>: give 2 or 3 day counts (预热/爆发/收尾) that add "
                "up to the campaign's days, e.g. phases=3/2/2.",
                value=value,
            ),
            CampaignProblem.KIND: self._(
                "Attach an offer, deal, post, broadcast, journey, survey or channel, not "
                "<code>{value}</code>.",
                value=value,
            ),
            CampaignProblem.SCORE: self._(
                "<code>{value}</code> is not a survey target: CSAT is a share of satisfied "
                "answers in % (csat=80), NPS a whole number from -100 to 100 (nps=30).",
                value=value,
            ),
            CampaignProblem.CSAT_LOW: self._(
                "<code>{value}</code> is too low for a CSAT target: CSAT is the % of answers "
                "rated 4 or 5 stars, not a 1–5 average. Give {low} to 100, e.g. csat=80.",
                value=value,
                low=MIN_CSAT_TARGET,
            ),
            CampaignProblem.REF: self._(
                "<code>{value}</code> is not an id (or a journey's or channel's name).",
                value=value,
            ),
            CampaignProblem.ID: self._(
                "<code>{value}</code> is not a campaign id: see /campaign list.", value=value
            ),
        }[error.problem]
        return f"{said}\n\n{self.usage()}" if said else self.usage()

    def refused(self, error: CampaignRefused) -> str:
        value = _esc(error.value)
        return {
            CampaignRefusal.UNKNOWN: self._(
                "This group has no campaign #{value}: see /campaign list.", value=value
            ),
            CampaignRefusal.NAME_TAKEN: self._(
                "This group has a campaign named <b>{value}</b> already.", value=value
            ),
            CampaignRefusal.NOT_FOUND: self._(
                "This group has no such object to attach: <code>{value}</code>.", value=value
            ),
            CampaignRefusal.ATTACHED: self._(
                "<code>{value}</code> is attached to this campaign already.", value=value
            ),
            CampaignRefusal.CHANNEL_TAKEN: self._(
                "Channel <b>{name}</b> is attached to campaign #{id} already: a placement's "
                "cost counts in one campaign.",
                name=_esc(error.value.rpartition(":")[0]),
                id=error.value.rpartition(":")[2],
            ),
        }[error.reason]

    def sent_privately(self) -> str:
        return self._("📬 I sent you the campaign report in a private chat.")

    # -- one campaign ---------------------------------------------------------------------

    def phase(self, name: str) -> str:
        english = PHASE_NAMES.get(name)
        return name if english is None or self.language == "zh" else f"{name} {english}"

    def dates(self, c: Campaign) -> str:
        return self._n(
            "{start} – {end} ({n} day)", "{start} – {end} ({n} days)", c.days,
            start=c.start.isoformat(), end=c.end.isoformat(),
        )  # fmt: skip

    def target(self, line: TargetLine) -> str:
        return self.stats.value(KIND[line.kpi], line.target)

    def created(self, record: CampaignRecord) -> str:
        c = record.campaign
        lines = [
            self._("✅ Campaign #{id} <b>{name}</b> created: {dates}.", id=record.id,
                   name=_esc(c.name), dates=self.dates(c)),
            *self.plan_lines(c),
            self._(
                "Attach its coupons, deals, posts and broadcasts with "
                "<code>/campaign attach {id} …</code>; <code>/campaign report {id}</code> "
                "shows the review at any time.",
                id=record.id,
            ),
        ]  # fmt: skip
        return "\n".join(lines)

    def plan_lines(self, c: Campaign) -> list[str]:
        lines = []
        if c.phases:
            shown = " · ".join(
                f"{_esc(self.phase(p.name))} {_day(p.start)}–{_day(p.end)}" for p in c.phases
            )
            lines.append(self._("Phases: {phases}", phases=shown))
        if c.targets:
            shown = self.comma.join(
                f"{self.stats.name(kpi)} {self.stats.value(KIND[kpi], v)}"
                for kpi, v in c.targets.items()
            )
            lines.append(self._("Targets: {targets}", targets=shown))
        if c.budget:
            lines.append(self._("Budget: {amount}", amount=format_amount(c.budget, CURRENCY)))
        return lines

    def target_set(self, record: CampaignRecord) -> str:
        c = record.campaign
        lines = [self._("🎯 Campaign #{id} <b>{name}</b>", id=record.id, name=_esc(c.name))]
        return "\n".join(lines + (self.plan_lines(c) or [self._("No targets.")]))

    def attached(self, items: Sequence[Attached]) -> str:
        shown = self.comma.join(f"{self.kind(a.kind)} {_esc(a.ref)}" for a in items)
        return self._("📎 Attached: {items}", items=shown)

    def kind(self, kind: AttachKind) -> str:
        return {
            AttachKind.OFFER: self._("offer"),
            AttachKind.DEAL: self._("deal"),
            AttachKind.POST: self._("post"),
            AttachKind.BROADCAST: self._("broadcast"),
            AttachKind.JOURNEY: self._("journey"),
            AttachKind.CHANNEL: self._("channel"),
            AttachKind.SURVEY: self._("survey"),
        }[kind]

    def stage(self, stage: Stage) -> str:
        return {
            Stage.UPCOMING: self._("upcoming"),
            Stage.RUNNING: self._("running"),
            Stage.ENDED: self._("ended"),
        }[stage]

    def listing(self, today: dt.date, records: Sequence[CampaignRecord]) -> str:
        if not records:
            return self._("No campaigns yet.") + "\n\n" + self.usage()
        items = [
            f"#{r.id} <b>{_esc(r.campaign.name)}</b> · {self.dates(r.campaign)} · "
            f"{self.stage(r.campaign.stage(today))}"
            for r in records
        ]
        return self.words.fit([self._("<b>Campaigns</b>")], items)

    # -- the 复盘 ----------------------------------------------------------------------------

    def money(self, minor: int) -> str:
        return format_amount(minor, CURRENCY)

    def retro(self, r: Retro, *, ended: bool = False) -> str:
        """The whole 复盘: header, targets, money, inviters, responses, the definitions."""
        c = r.campaign
        head = self._("📋 <b>Review · {name}</b> (#{id})", name=_esc(c.name), id=r.campaign_id)
        if ended:
            head = self._("🏁 Campaign over. ") + head
        where = _esc(r.title or "")
        when = f"{self.dates(c)} · {self.progress(r)}"
        blocks = ["\n".join([head, f"{where} · {when}" if where else when, *self.plan_lines(c)])]
        if r.lines:
            blocks.append("\n".join([self._("🎯 <b>Target → actual (achieved)</b>"),
                                     *(self.line(x) for x in r.lines)]))  # fmt: skip
        blocks.append(self.money_block(r))
        if r.inviters:
            ranked = [f"{i}. {self.words.name(x.name)} {x.invites}"
                      for i, x in enumerate(r.inviters, 1)]  # fmt: skip
            blocks.append(
                "\n".join([self._("🤝 <b>Top inviters</b> (invites confirmed)"), *ranked])
            )
        blocks += self.responses(r.responses)
        if r.channels:
            blocks.append(self.channels_block(r))
        if r.surveys:
            blocks.append(self.surveys(r))
        return "\n\n".join(blocks)

    def channels_block(self, r: Retro) -> str:
        """Its channels: the members each brought in its days, their orders up to the end
        of the attribution window, the placement's cost and ROI."""
        lines = [self._("🔗 <b>Channels</b> (members who joined through them in its days)")]
        lines += [f"<b>{_esc(c.name)}</b>: {self.channel.figures(c)} · "
                  f"{self.channel.money_figures(c)}"
                  for c in most_joins(r.channels, MOST_IN_RETRO)]  # fmt: skip
        return "\n".join(lines + self.channel.more(len(r.channels) - MOST_IN_RETRO))

    def progress(self, r: Retro) -> str:
        if r.stage is Stage.RUNNING and r.counted is not None:
            return self._("running, day {n} of {days}", n=r.counted.days, days=r.campaign.days)
        return self.stage(r.stage)

    def line(self, x: TargetLine) -> str:
        kind = KIND[x.kpi]
        pct = NONE if x.achieved_pct is None else f"{x.achieved_pct:.0f}%"
        text = (f"{self.stats.name(x.kpi)} {self.stats.value(kind, x.target)} → "
                f"<b>{self.stats.value(kind, x.actual)}</b> ({pct})")  # fmt: skip
        if x.kpi in SURVEY_KPIS:
            return text + " · " + self.survey_basis(x)
        if x.pace is not None and x.expected is not None:
            expected = self.stats.value(kind, x.expected)
            text += (
                " · "
                + {
                    Pace.AHEAD: self._("ahead of pace ({expected} by now)", expected=expected),
                    Pace.ON: self._("on pace ({expected} by now)", expected=expected),
                    Pace.BEHIND: self._("behind pace ({expected} by now)", expected=expected),
                }[x.pace]
            )
        return text

    def survey_basis(self, x: TargetLine) -> str:
        """What a CSAT or NPS actual rests on: the answers, or the survey still to attach."""
        if x.answers is None:
            return self._("attach a survey: <code>/campaign attach &lt;id&gt; survey "
                          "&lt;survey id&gt;</code>")  # fmt: skip
        return self._n("{n} answer to its surveys", "{n} answers to its surveys", x.answers)

    def surveys(self, r: Retro) -> str:
        """Its attached surveys, oldest first, each with its score: the trend in its days."""
        lines = [self._("📋 <b>Surveys</b> (attached; CSAT and NPS above pool their answers)")]
        for x in r.surveys:
            head = self.survey.head(x.survey, r.timezone)
            lines.append(f"{head} · {self.survey.score(x.score)}\n{_esc(x.survey.question)}")
        return "\n".join(lines)

    def money_block(self, r: Retro) -> str:
        c, points = r.campaign, f"{r.points:,}"
        lines = [
            self._("💰 <b>Cost</b> {cost} = coupon discounts {discount} + {points} referral "
                   "points × {value}", cost=self.money(r.cost), discount=self.money(r.discount),
                   points=points, value=self.money(c.point_value)),
        ]  # fmt: skip
        if r.channels:
            lines[0] += " + " + self._("channel placements {cost}",
                                       cost=self.money(r.channel_cost))  # fmt: skip
        if r.budget_used_pct is not None:
            pct = f"{r.budget_used_pct:.0f}%"
            lines.append(self._("Budget {budget}, {pct} used", budget=self.money(c.budget),
                                pct=pct))  # fmt: skip
        lines.append(self._n(
            "🛒 <b>Attributed GMV</b> {gmv} ({n} order): with its coupons {coupons} · by "
            "members it reached within {days} days {reached}",
            "🛒 <b>Attributed GMV</b> {gmv} ({n} orders): with its coupons {coupons} · by "
            "members it reached within {days} days {reached}",
            r.orders, gmv=self.money(r.gmv), coupons=self.money(r.gmv_coupons),
            reached=self.money(r.gmv_reached), days=c.window_days,
        ))  # fmt: skip
        if r.channels:
            lines[-1] += " · " + self._("by members its channels brought {gmv}",
                                        gmv=self.money(r.gmv_channels))  # fmt: skip
        roi = NONE if r.roi is None else f"{r.roi * 100:,.0f}%"
        lines.append(self._("📈 <b>ROI</b> {roi} (= (attributed GMV − cost) / cost)", roi=roi))
        if r.attribution_open and r.stage is not Stage.UPCOMING:
            end = c.end + c.window
            lines.append(self._("<i>Orders until {day} may still be attributed: ask "
                                "/campaign report {id} again then.</i>", day=_day(end),
                                id=r.campaign_id))  # fmt: skip
        return "\n".join(lines)

    def _named(self, x: Response) -> str:
        """A broadcast as its first line; an A/B test's says so (its members got several)."""
        if x.variants < 2:
            return _esc(x.label)
        return self._("A/B test of {n} texts, A: {label}", n=x.variants, label=_esc(x.label))

    def responses(self, responses: Sequence[Response]) -> list[str]:
        blocks = []
        broadcasts = [x for x in responses if x.kind is AttachKind.BROADCAST]
        posts = [x for x in responses if x.kind is AttachKind.POST]
        if broadcasts:
            blocks.append("\n".join([
                self._("📣 <b>Broadcasts</b> (recipients active in the group within 3 days)"),
                *(f"#{x.object_id} {self._named(x)}: {x.responded}/{x.sent}"
                  + ("" if x.rate is None else f" ({x.rate * 100:.0f}%)") for x in broadcasts),
            ]))  # fmt: skip
        if posts:
            blocks.append("\n".join([
                self._("📝 <b>Posts</b> (coupons claimed from their buttons; runs sent)"),
                *(f"#{x.object_id} {_esc(x.label)}: "
                  f"{NONE if x.responded is None else x.responded} · {x.sent}" for x in posts),
            ]))  # fmt: skip
        return blocks
