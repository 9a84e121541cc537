"""What /journey says to admins, and the private messages each journey sends members."""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence

from campaigns.content import Button, PostContent
from campaigns.coupons import format_amount
from campaigns.experiments import Comparison
from campaigns.journeys import (
    KEYS,
    Journey,
    JourneyBook,
    JourneyProblem,
    JourneyRefused,
    JourneySettings,
)
from campaigns.journeys_report import JourneyReport, Measure
from campaigns.services.journey_step import JourneyMessage
from campaigns.settings import language_for
from handlers.coupon_texts import CouponTexts
from handlers.experiment_texts import ExperimentTexts
from handlers.words import Words

CURRENCY = "CNY"


def esc(text: str) -> str:
    return html.escape(text, quote=False)


class JourneyTexts:
    """Journey texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n
        self.experiment = ExperimentTexts(language)

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, JourneyRefused):
            return self.refused(error)
        return self.words.refusal(error)

    def name(self, journey: Journey) -> str:
        names = {
            Journey.WINBACK: self._("Win-back (沉睡唤醒)"),
            Journey.BIRTHDAY: self._("Birthday coupon (生日券)"),
            Journey.MEMBER_DAY: self._("Member day (会员日)"),
            Journey.FIRST_ORDER: self._("First-order welcome pack (首单礼)"),
            Journey.REPURCHASE: self._("Repurchase reminder (复购提醒)"),
            Journey.REFERRAL: self._("Friend's welcome coupon (双方得券)"),
            Journey.NUDGE: self._("New-member nudge (新人引导)"),
        }
        return names[journey]

    def what(self, journey: Journey, book: JourneyBook) -> str:
        s = book.get(journey)
        if journey is Journey.WINBACK:
            who = (
                self._(
                    "Members in the saved audience {name}", name=f"<code>{esc(s.audience)}</code>"
                )
                if s.audience
                else self._("Members who become dormant")
            )
            text = self._n(
                "{who} (idle at most {n} day) get a private message, once per spell.",
                "{who} (idle at most {n} days) get a private message, once per spell.",
                s.window,
                who=who,
            )
            if s.second:
                text += self._sep() + self._n(
                    "A second one after {n} more day without return.",
                    "A second one after {n} more days without return.",
                    s.second,
                )
            return text
        if journey is Journey.BIRTHDAY:
            return self._("On their birthday (/birthday in a private chat), once a year.")
        if journey is Journey.MEMBER_DAY:
            if s.day is None:
                return self._(
                    "No day set yet (/journey set member_day day 15): then ×{x} points on "
                    "check-ins and orders that day, announced at {hour}:00.",
                    x=f"{s.multiplier:g}",
                    hour=f"{s.hour:02d}",
                )
            return self._(
                "Every {day}: ×{x} points on check-ins and orders, announced at {hour}:00.",
                day=self.day(s.day),
                x=f"{s.multiplier:g}",
                hour=f"{s.hour:02d}",
            )
        if journey is Journey.FIRST_ORDER:
            return self._("Within 24 hours of a member's first order.")
        if journey is Journey.REPURCHASE:
            return self._("{days} days after an order with no later one.", days=book.after(journey))
        if journey is Journey.REFERRAL:
            return self._("A friend who joined through a member's link, once confirmed.")
        return self._(
            "Members who joined {days} days ago and never checked in, once.",
            days=book.after(journey),
        )

    def _sep(self) -> str:
        """Between two sentences: Chinese needs no space."""
        return "" if self.language == "zh" else " "

    def day(self, day: str) -> str:
        if day.isdigit():
            return self._("month on day {n}", n=day)
        names = {
            "mon": self._("Monday"),
            "tue": self._("Tuesday"),
            "wed": self._("Wednesday"),
            "thu": self._("Thursday"),
            "fri": self._("Friday"),
            "sat": self._("Saturday"),
            "sun": self._("Sunday"),
        }
        return names[day]

    def _knobs(self, journey: Journey, s: JourneySettings) -> str:
        parts = []
        if s.offer is not None:
            parts.append(self._("coupon #{offer}", offer=s.offer))
        if journey is Journey.WINBACK and s.second and s.second_offer is not None:
            parts.append(self._("second coupon #{offer}", offer=s.second_offer))
        if journey is Journey.MEMBER_DAY and s.offer is not None and s.tier is not None:
            parts.append(self._("gifts for tier {tier} and above", tier=esc(s.tier)))
        if s.holdout:
            parts.append(self._("holdout {pct}%", pct=s.holdout))
        return " · ".join(parts)

    def listing(
        self, book: JourneyBook, warnings: Sequence[tuple[Journey, JourneyRefused]] = ()
    ) -> str:
        lines = [self._("🤖 Journeys (automations)")]
        for journey in Journey:
            s = book.get(journey)
            mark = "🟢" if s.on else "⚪️"
            state = self._("on") if s.on else self._("off")
            line = f"{mark} <b>{self.name(journey)}</b> <code>{journey}</code> · {state}"
            knobs = self._knobs(journey, s)
            if knobs:
                line += f" · {knobs}"
            lines.append(f"{line}\n   {self.what(journey, book)}")
            for _, problem in (w for w in warnings if w[0] is journey):
                lines.append(f"   ⚠️ {self.refused(problem)}")
        lines.append("")
        lines.append(self.usage())
        return "\n".join(lines)

    def usage(self) -> str:
        return self._(
            "<code>/journey on winback</code> · <code>/journey off winback</code>\n"
            "<code>/journey set winback offer 12</code> (a coupon offer of this group; "
            "<code>none</code> for no coupon)\n"
            "<code>/journey set winback holdout 10</code> (percent of members not messaged, "
            "to measure the lift)\n"
            "<code>/journey report winback</code> · <code>/journey preview winback</code>\n"
            "<code>/journey set member_day day 15</code> (1–28, or a weekday: sat), then "
            "<code>/journey on member_day</code>; a wrong key lists the journey's settings"
        )

    def keys(self, journey: Journey) -> str:
        return ", ".join(f"<code>{k}</code>" for k in KEYS[journey])

    def switched(self, journey: Journey, book: JourneyBook) -> str:
        s = book.get(journey)
        if s.on:
            return self._(
                "🟢 {name} is on. {what}",
                name=f"<b>{self.name(journey)}</b>",
                what=self.what(journey, book),
            )
        return self._("⚪️ {name} is off.", name=f"<b>{self.name(journey)}</b>")

    def changed(self, journey: Journey, book: JourneyBook) -> str:
        s = book.get(journey)
        knobs = self._knobs(journey, s)
        text = self._(
            "✅ Saved. {name}: {what}",
            name=f"<b>{self.name(journey)}</b>",
            what=self.what(journey, book),
        )
        if knobs:
            text += f"\n{knobs}"
        if not s.on:
            text += "\n" + self._(
                "It is off: <code>/journey on {journey}</code> starts it.", journey=journey
            )
        return text

    def refused(self, err: JourneyRefused) -> str:
        p = err.problem
        if p is JourneyProblem.UNKNOWN_JOURNEY:
            return self._(
                "There is no journey {name}. Journeys: {all}.",
                name=f"<code>{esc(err.value)}</code>",
                all=", ".join(f"<code>{j}</code>" for j in Journey),
            )
        if p is JourneyProblem.UNKNOWN_KEY and not err.value:
            return self._(
                "Which setting? Its settings: {keys}. e.g. <code>/journey set winback offer "
                "12</code>",
                keys=", ".join(f"<code>{k}</code>" for k in err.choices),
            )
        if p is JourneyProblem.UNKNOWN_KEY:
            return self._(
                "This journey has no setting {key}. Its settings: {keys}.",
                key=f"<code>{esc(err.value)}</code>",
                keys=", ".join(f"<code>{k}</code>" for k in err.choices),
            )
        if p is JourneyProblem.BAD_VALUE:
            return self._(
                "That is not a valid value for {key}. For example: {example}",
                key=f"<code>{esc(err.value)}</code>",
                example=f"<code>{esc(err.example)}</code>",
            )
        if p is JourneyProblem.MISSING_DAY:
            return self._(
                "Set the member day first: <code>/journey set member_day day 15</code> "
                "(a day of the month, 1–28) or <code>day sat</code> (a weekday)."
            )
        if p is JourneyProblem.WINDOW_TOO_SHORT:
            return self._(
                "Win-back reaches members idle at least {days} days (the group's threshold, "
                "/segments set): its window must be longer, e.g. <code>/journey set winback "
                "window 90</code>.",
                days=esc(err.value),
            )
        if p is JourneyProblem.UNKNOWN_OFFER:
            return self._(
                "Coupon offer #{offer} is not a live offer of this group (see /coupon list).",
                offer=esc(err.value),
            )
        if p is JourneyProblem.UNKNOWN_TIER:
            return self._(
                "There is no tier {name} in this group. Its tiers: {tiers}.",
                name=f"<code>{esc(err.value)}</code>",
                tiers=", ".join(esc(t) for t in err.choices),
            )
        return self._(
            "There is no saved audience {name} in this group (see /audience list).",
            name=f"<code>{esc(err.value)}</code>",
        )

    def _money(self, minor: int) -> str:
        return format_amount(minor, CURRENCY)

    def _stats(self, test: Comparison) -> list[str]:
        """Under a measure's line, indented: the intervals, the lift with its p-value, and
        whether there are members enough to read it."""
        x = self.experiment
        if not x.comparable(test):
            lines = [self._("⚠️ Too early to compare: an arm has nobody whose days are over.")]
            return [f"   {line}" for line in lines]
        lines = [
            self._(
                "95% CI {m} · holdout {h}",
                m=x.interval(test.variant),
                h=x.interval(test.control),
            ),
            x.lift(test),
            x.verdict(test),
        ]
        return [f"   {line}" for line in lines]

    def report(self, r: JourneyReport) -> str:
        m, h = r.messaged, r.holdout
        lines = [
            self._("📊 {name}, the last {days} days", name=self.name(r.journey), days=r.days),
            self._("Entered the journey: {n}", n=r.entered),
            self._(
                "Messaged: {n} (delivered {d}) · held out: {h}",
                n=m.members,
                d=m.delivered,
                h=h.members,
            ),
        ]
        if r.second_steps:
            lines.append(self._("Second messages: {n}", n=r.second_steps))
        for days, measure in ((7, Measure.RETURNED_7), (14, Measure.RETURNED_14)):
            share = self.experiment.share
            a, b = share(m.result(measure)), share(h.result(measure))
            if days == 7:
                lines.append(self._("Returned within 7 days: {m} · holdout {h}", m=a, h=b))
            else:
                lines.append(self._("Returned within 14 days: {m} · holdout {h}", m=a, h=b))
            test = r.test(measure)
            if test is not None:
                lines += self._stats(test)
        lines += [
            self._("Coupons sent: {n} · redeemed: {r}", n=r.coupons, r=r.redeemed),
            self._(
                "Orders within 14 days: {b} buyers, GMV {gmv} · holdout {hb} buyers, GMV {hgmv}",
                b=m.buyers,
                gmv=self._money(m.gmv),
                hb=h.buyers,
                hgmv=self._money(h.gmv),
            ),
        ]
        bought = r.test(Measure.BOUGHT_14)
        if bought is not None:
            lines.append(
                self._(
                    "Bought, of those whose 14 days are over: {m} · holdout {h}",
                    m=self.experiment.share(bought.variant),
                    h=self.experiment.share(bought.control),
                )
            )
            lines += self._stats(bought)
        lines.append(
            self._(
                "Return rates count members whose 7 or 14 days are over. An order counts if "
                "placed within 14 days of the message."
            )
        )
        if bought is not None:
            lines.append(self.experiment.footnote())
        return "\n".join(lines)

    def report_usage(self) -> str:
        return self._("Which journey? e.g. <code>/journey report winback</code>")

    # --- the members' messages ----------------------------------------------------------

    def preview(self, message: JourneyMessage) -> str:
        heading = self._("👀 Preview: what a member reads (here addressed to you)")
        return f"{heading}\n\n{self.message(message)}"

    def subscribe_in_private(self) -> str:
        return self._(
            "Send /unsubscribe (or /subscribe) to me in a private chat: it is about the "
            "messages I send you there."
        )

    def subscribed(self, on: bool) -> str:
        if on:
            return self._(
                "🔔 You will get the groups' automatic messages again (welcome packs, "
                "birthday coupons, reminders). /unsubscribe stops them."
            )
        return self._(
            "🔕 Done: no more automatic messages from any group (win-back, birthday, member "
            "day, reminders). Coupons and points you earn are still yours (/mycoupons). "
            "/subscribe turns them back on."
        )

    def open_group(self, title: str | None) -> str:
        label = self._("Open {group}", group=title or "-")
        return label if len(label) <= 64 else label[:63] + "…"

    def footer(self) -> str:
        return self._("<i>Automatic message · /unsubscribe to stop these</i>")

    def message(self, m: JourneyMessage) -> str:
        """A member's private message: the journey's words (a coupon promised only when one
        came with it), the coupon, and how to stop these messages."""
        if m.member is None:
            return self.announcement(m)
        gift = m.coupon is not None
        _ = functools.partial(
            self._, name=self.words.name(m.member.display_name),
            group=f"<b>{esc(m.group_title or '-')}</b>", x=f"{m.multiplier:g}",
        )  # fmt: skip
        match m.journey:
            case Journey.WINBACK if m.step == 1:
                text = _(
                    "👋 {name}, we miss you in {group}! A lot has happened since you were last "
                    "there: come and say hi."
                )
            case Journey.WINBACK if gift:
                text = _(
                    "💌 {name}, still thinking of you in {group}. Here is one more reason to "
                    "drop by."
                )
            case Journey.WINBACK:
                text = _(
                    "💌 {name}, still thinking of you in {group}. Drop by when you have a "
                    "minute: we would love to hear from you."
                )
            case Journey.BIRTHDAY:
                text = _("🎂 Happy birthday, {name}! {group} wishes you a great day.")
            case Journey.MEMBER_DAY:
                text = _(
                    "🎉 Today is member day in {group}: ×{x} points on check-ins and orders, "
                    "all day."
                )
                if gift:
                    text += self._sep() + _("And a member-day gift for you, {name}:")
            case Journey.FIRST_ORDER if gift:
                text = _(
                    "🛍 Thank you for your first order in {group}, {name}! Here is a welcome "
                    "pack for the next one."
                )
            case Journey.FIRST_ORDER:
                text = _(
                    "🛍 Thank you for your first order in {group}, {name}! We hope you enjoy it."
                )
            case Journey.REPURCHASE:
                text = _("🛒 {name}, time for a refill? {group} has what you ordered last time.")
            case Journey.REFERRAL if gift:
                text = _(
                    "🤝 Welcome to {group}, {name}! You joined through a friend's invitation: "
                    "here is a welcome coupon for you."
                )
            case Journey.REFERRAL:
                text = _("🤝 Welcome to {group}, {name}! Glad a friend brought you along.")
            case _:
                text = _(
                    "👋 {name}, welcome to {group}! Say 签到 (or /checkin) in the group each day "
                    "to collect points and build a streak."
                )
        if m.coupon is not None:
            text += "\n\n" + CouponTexts(self.language).received(m.group_title, m.coupon)
        return f"{text}\n\n{self.footer()}"

    def announcement(self, m: JourneyMessage) -> str:
        """A group-wide step's message, posted in the group: the member day's."""
        return self._(
            "🎉 Today is member day (会员日)! ×{x} points on check-ins and orders until "
            "midnight: say 签到 (or /checkin) to collect yours.",
            x=f"{m.multiplier:g}",
        )


def render(message: JourneyMessage) -> PostContent:
    """A journey's private message in the member's language (the group's if unknown), with a
    button back to a public group (a private group has no address to link to); a group-wide
    one in the group's language."""
    code = message.member.language_code if message.member is not None else None
    t = JourneyTexts(language_for(code, message.group_language))
    buttons = []
    if message.member is not None and message.group_username:
        url = f"https://t.me/{message.group_username}"
        buttons.append(Button(text=t.open_group(message.group_title), url=url))
    return PostContent(text=t.message(message), buttons=buttons)
