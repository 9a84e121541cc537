"""Coupon texts: offers, claims, redemption (核销) and a member's coupons."""

from __future__ import annotations

import datetime as dt
import html
from zoneinfo import ZoneInfo

from campaigns.audience_expr import AudienceExprError
from campaigns.audiences import AudienceRefused
from campaigns.coupon_variants import (
    ArmTest,
    Measure,
    NotATest,
    OfferReport,
    TermsProblem,
    TermsRefused,
)
from campaigns.coupons import (
    MAX_OFFER_NAME,
    CouponCommand,
    CouponKind,
    CouponRejected,
    CouponState,
    CouponUsage,
    OfferProblem,
    OfferRefused,
    OfferState,
    Reason,
    Template,
    format_amount,
)
from campaigns.experiments import HOLDOUT, LABELS, MAX_HOLDOUT, MAX_VARIANTS
from campaigns.ports.coupons import TemplateRecord
from campaigns.services.coupons import (
    AudienceGrant,
    AudienceTooLarge,
    CouponUnavailable,
    Issued,
    MyCoupon,
    OfferLine,
    Redemption,
    Reminder,
    Unavailable,
    status_at,
)
from handlers.audience_texts import AudienceTexts
from handlers.experiment_texts import INDENT, ExperimentTexts
from handlers.words import Words

TERMS_EXAMPLES = "满100减10, 无门槛5, 85折, 满200打9折 最高减50, ¥10 off ¥100, 15% off cap ¥50"


def zhe(paid: int) -> str:
    """The share paid (basis points) as a 折 rate: 9折 for 90%, 85折 for 85%, 87.5折 for
    87.5%, 0.5折 for 5% (one digit would read as tenths: 5折 is half the price)."""
    percent = paid / 100
    if paid % 1_000 == 0 or percent < 10:
        return f"{percent / 10:g}"
    return f"{percent:g}"


class CouponTexts:
    """Texts for coupons, in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n
        self.experiment = ExperimentTexts(language)

    def money(self, minor: int, offer: TemplateRecord) -> str:
        return format_amount(minor, offer.template.currency)

    def worth(self, offer: TemplateRecord) -> str:
        """满199减30 / 无门槛减5 / 9折 (最多减50) / 赠品, in the reader's language."""
        return self.terms(offer.template)

    def terms(self, t: Template) -> str:
        """What a set of terms takes off, and from which order."""
        if t.kind is CouponKind.GIFT:
            what = self._("a free gift")
        elif t.kind is CouponKind.PERCENT:
            if self.language == "zh":  # 85折: what is paid, as shoppers read it
                what = f"{zhe(10_000 - t.value)}折"
            else:
                what = self._("{pct}% off", pct=f"{t.value / 100:g}")
            if t.cap is not None:
                what += self._(" (up to {cap})", cap=format_amount(t.cap, t.currency))
        else:
            what = self._("{off} off", off=format_amount(t.value, t.currency))
        if t.min_spend:
            return self._(
                "{what} on orders from {min}",
                what=what,
                min=format_amount(t.min_spend, t.currency),
            )
        return self._("{what}, no minimum spend", what=what)

    def when(self, at: dt.datetime, timezone: str) -> str:
        return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")

    def offer_post(self, offer: TemplateRecord, timezone: str) -> str:
        lines = [
            self._("🎟 Coupon: {name}", name=f"<b>{html.escape(offer.name, quote=False)}</b>"),
            self.worth(offer)
            if len(offer.variants) < 2
            else self._("🎲 The terms vary from member to member: you see yours when you claim."),
        ]
        t = offer.template
        if t.valid_days is not None:
            lines.append(
                self._("Valid for {days} after you claim it.", days=self.words.days(t.valid_days))
            )
        if t.valid_until is not None:
            lines.append(
                self._("Claim and use by {time}.", time=self.when(t.valid_until, timezone))
            )
        if offer.stock is not None:
            lines.append(self._("{n} in total, first come first served.", n=offer.stock))
        if offer.audience_joined_days is not None:
            lines.append(
                self._(
                    "For members who joined in the last {days}.",
                    days=self.words.days(offer.audience_joined_days),
                )
            )
        lines.append(
            self._("Tap the button to claim. Your coupons: /mycoupons in a private chat with me.")
        )
        return "\n".join(lines)

    def claim_button(self) -> str:
        return self._("🎟 Claim")

    def claimed(self, issued: Issued) -> str:
        if len(issued.offer.variants) > 1:  # the post did not say which terms they got
            return self._(
                "🎉 Claimed! Your code: {code}, {worth}. Show it at checkout; /mycoupons lists "
                "your coupons.",
                code=issued.code,
                worth=self.worth(issued.offer),
            )
        return self._(
            "🎉 Claimed! Your code: {code}. Show it at checkout; /mycoupons lists your coupons.",
            code=issued.code,
        )

    def refusal(self, error: Exception) -> str | None:
        """Coupon refusals as the decorator answers them; an offer id an admin typed that is
        not the group's is named back."""
        match error:
            case CouponUsage(command=CouponCommand.REDEEM):
                return self.redeem_usage()
            case CouponUsage(command=CouponCommand.GRANT):
                return self.grant_in_group()
            case CouponUsage():
                return self.coupon_usage()
            case CouponRejected():
                return self.rejected(error)
            case CouponUnavailable(reason=Unavailable.UNKNOWN, offer_id=int(offer_id)):
                return self.unknown_offer(offer_id)  # an admin named it: say which
            case CouponUnavailable():
                return self.unavailable(error)
            case AudienceTooLarge():
                return self.audience_too_large(error)
            case TermsRefused():
                return self.terms_refused(error)
            case OfferRefused():
                return self.offer_refused(error)
            case NotATest():
                return self.not_a_test(error.offer_id)
            case AudienceRefused() | AudienceExprError():  # the audience named by @name
                return AudienceTexts(self.language).refusal(error)
        return self.words.refusal(error)

    def audience_too_large(self, err: AudienceTooLarge) -> str:
        return self._(
            "❌ {audience} selects {n} members; one grant reaches at most {limit}. Narrow the "
            "audience (e.g. add a rule) and grant again. Nothing was granted.",
            audience=f"<code>{html.escape(err.audience, quote=False)}</code>",
            n=err.members,
            limit=err.limit,
        )

    def granted_to_audience(self, g: AudienceGrant) -> str:
        lines = [
            self._n(
                "🎁 {n} member of {audience} received a coupon: {offer}.",
                "🎁 {n} members of {audience} received a coupon: {offer}.",
                g.granted,
                audience=f"<code>{html.escape(g.audience, quote=False)}</code>",
                offer=html.escape(g.offer.name, quote=False),
            )
        ]
        if g.had_it:
            lines.append(
                self._n(
                    "{n} already had it (the per-member limit).",
                    "{n} already had it (the per-member limit).",
                    g.had_it,
                )
            )
        if g.missed:
            lines.append(
                self._n(
                    "{n} got none: the offer ran out.", "{n} got none: the offer ran out.", g.missed
                )
            )
        if g.held_out:
            lines.append(
                self._n(
                    "🧪 {n} held out by the offer's A/B test: no coupon, they are its control "
                    "(<code>/coupon report {id}</code>).",
                    "🧪 {n} held out by the offer's A/B test: no coupon, they are its control "
                    "(<code>/coupon report {id}</code>).",
                    g.held_out,
                    id=g.offer.id,
                )
            )
        lines.append(
            self._(
                "They see their codes with /mycoupons in a private chat with me; tell them with "
                "<code>/broadcast @{audience}</code>.",
                audience=html.escape(g.audience, quote=False),
            )
        )
        return "\n".join(lines)

    def unavailable(self, err: CouponUnavailable) -> str:
        return {
            Unavailable.SOLD_OUT: self._("😢 All gone: this coupon is sold out."),
            Unavailable.LIMIT: self._("You already have this coupon (limit reached)."),
            Unavailable.ENDED: self._("This offer has ended."),
            Unavailable.AUDIENCE: self._("This coupon is for new members only."),
            Unavailable.UNKNOWN: self._("This offer is not available."),
        }[err.reason]

    def redeemed(self, r: Redemption) -> str:
        return "\n".join(
            [
                self._(
                    "✅ Coupon {code} redeemed: {name}",
                    code=f"<code>{r.code}</code>",
                    name=html.escape(r.offer.name, quote=False),
                ),
                self._(
                    "Order {order} · discount {off} · to pay {pay}",
                    order=self.money(r.order, r.offer),
                    off=self.money(r.discount, r.offer),
                    pay=f"<b>{self.money(r.to_pay, r.offer)}</b>",
                ),
            ]
        )

    def rejected(self, err: CouponRejected, currency: str = "CNY") -> str:
        currency = err.currency or currency
        reasons = {
            Reason.UNKNOWN: self._("❌ No such coupon code. Check it and try again."),
            Reason.BAD_CHECK: self._(
                "❌ That code has a typo (its check character does not match)."
            ),
            Reason.USED: self._("❌ This coupon has already been used."),
            Reason.EXPIRED: self._("❌ This coupon has expired."),
            Reason.NOT_YET: self._("❌ This coupon cannot be used yet."),
            Reason.WRONG_GROUP: self._("❌ This coupon belongs to another group."),
            Reason.CURRENCY: self._(
                "❌ This coupon is in {currency}; the order is in another currency.",
                currency=currency,
            ),
            Reason.NOTHING_TO_PAY: self._(
                "❌ There is nothing to pay on this order, so the coupon stays unused."
            ),
            Reason.NO_DISCOUNT: self._(
                "❌ This coupon would take nothing off this order, so it stays unused."
            ),
        }
        if err.reason is Reason.BELOW_MIN_SPEND:
            return self._(
                "❌ The order is below this coupon's minimum spend of {min}.",
                min=format_amount(err.detail, currency),
            )
        return reasons[err.reason]

    def reminder(self, r: Reminder) -> str:
        assert r.coupon.expires_at is not None
        return self._(
            "⏰ Your coupon {offer} from {group} expires at {time}: code {code}. {worth}",
            offer=html.escape(r.coupon.offer.name, quote=False),
            group=f"<b>{html.escape(r.group_title or '-', quote=False)}</b>",
            time=self.when(r.coupon.expires_at, r.timezone),
            code=f"<code>{r.coupon.code}</code>",
            worth=self.worth(r.coupon.offer),
        )

    def redeem_usage(self) -> str:
        return self._(
            "Usage: <code>/redeem &lt;code&gt; &lt;order amount&gt;</code>, "
            "e.g. <code>/redeem 7KQ2-M9XD-4T 199</code>"
        )

    def coupon_usage(self) -> str:
        return (
            self._(
                "Usage (admins): <code>/coupon post &lt;offer id&gt;</code>, "
                "<code>/coupon end &lt;offer id&gt;</code>, <code>/coupon list</code>, or reply to "
                "a member with <code>/coupon grant &lt;offer id&gt;</code>."
            )
            + "\n"
            + self._(
                "To a saved audience: <code>/coupon grant &lt;offer id&gt; @winback</code> (see "
                "/audience)."
            )
            + "\n"
            + self._(
                "A new offer (with variants to compare): <code>/coupon new</code>; an A/B "
                "test's results: <code>/coupon report &lt;offer id&gt;</code>."
            )
        )

    def grant_in_group(self) -> str:
        return self._(
            "Grant in the group: reply to the member's message there with "
            "<code>/coupon grant &lt;offer id&gt;</code>."
        )

    def unknown_offer(self, offer_id: int) -> str:
        return self._(
            "There is no coupon offer #{id} in this group. /coupon list shows its offers.",
            id=offer_id,
        )

    def already_has(self, display_name: str) -> str:
        return self._(
            "{name} already has this coupon (the per-member limit is reached).",
            name=self.words.name(display_name),
        )

    def offer_list(self, lines: list[OfferLine]) -> str:
        if not lines:
            return self._(
                "No coupon offers yet. Create one with <code>/coupon new</code> (or "
                "<code>growthbot coupons create</code> on the command line)."
            )
        out = []
        for line in lines:
            o = line.offer
            stock = f"{o.issued}/{o.stock}" if o.stock is not None else f"{o.issued}/∞"
            out.append(
                self._(
                    "#{id} {name} · {state} · claimed {stock} · redeemed {redeemed}",
                    id=o.id,
                    name=html.escape(o.name, quote=False),
                    state=self.offer_state(line.state),
                    stock=stock,
                    redeemed=line.redeemed,
                )
                + (" · 🧪 A/B" if o.is_test else "")
            )
        return self.words.fit([self._("🎟 Coupon offers:")], out)

    def offer_state(self, state: OfferState) -> str:
        """An offer's state as /coupon list and the dashboard show it."""
        return {
            OfferState.LIVE: self._("🟢 live"),
            OfferState.SOLD_OUT: self._("😢 sold out"),
            OfferState.ENDED: self._("⏹ ended"),
        }[state]

    def offer_ended(self, offer: TemplateRecord) -> str:
        return self._(
            "⏹ Offer #{id} {name} has ended: no more claims or grants. Coupons already "
            "issued stay valid.",
            id=offer.id,
            name=html.escape(offer.name, quote=False),
        )

    def granted(self, display_name: str, issued: Issued) -> str:
        return self._(
            "🎁 {name} received a coupon: {offer}. They see the code with /mycoupons in a "
            "private chat with me.",
            name=self.words.name(display_name),
            offer=html.escape(issued.offer.name, quote=False),
        )

    def received(self, group: str | None, issued: Issued) -> str:
        return self._(
            "🎁 You received a coupon in {group}: {offer}, code {code}. {worth}",
            group=f"<b>{html.escape(group or '-', quote=False)}</b>",
            offer=html.escape(issued.offer.name, quote=False),
            code=f"<code>{issued.code}</code>",
            worth=self.worth(issued.offer),
        )

    def mycoupons_in_private(self) -> str:
        return self._("Your coupons are private: send /mycoupons to me in a private chat.")

    def my_coupons(self, coupons: list[MyCoupon], now: dt.datetime) -> str:
        if not coupons:
            return self._("You have no coupons yet. Claim them from your group's coupon posts.")
        labels = {
            CouponState.ACTIVE: self._("🟢 active"),
            CouponState.USED: self._("✔️ used"),
            CouponState.EXPIRED: self._("⚪ expired"),
        }
        lines = [self._("🎟 Your coupons")]
        several = len({m.group_title for m in coupons}) > 1
        for m in coupons:
            c, status = m.coupon, status_at(m.coupon, now)
            line = (
                f"{labels[status]} <code>{c.code}</code> {html.escape(c.offer.name, quote=False)}"
            )
            if several and m.group_title:  # which group's checkout takes it
                line += f" · {html.escape(m.group_title, quote=False)}"
            if status is CouponState.ACTIVE and c.expires_at is not None:
                # the group's time, named: a private chat lists several groups' coupons
                until = self.when(c.expires_at, m.timezone) + " " + self.words.paren(m.timezone)
                line += " · " + self._("until {time}", time=until)
            lines.append(line)
        return "\n".join(lines)

    # --- A/B tests of offers (campaigns/coupon_variants.py) -------------------------------

    def new_usage(self) -> str:
        return self._(
            "Usage (admins): <code>/coupon new &lt;name&gt; [stock=N] [per=N] [days=N] "
            "[holdout=N] [plan=N]</code>, then one line of terms per variant, A first:\n"
            "<code>/coupon new 周末券 stock=500 days=7 holdout=10\nA: 满100减10\nB: 85折</code>\n"
            "Terms: {examples}. Two or more variants, or a holdout, make an A/B test: members "
            "get one variant, drawn from the offer and the member; the holdout (up to {limit}%) "
            "applies to grants to a saved audience. <code>/coupon report &lt;id&gt;</code> "
            "compares them.",
            examples=TERMS_EXAMPLES,
            limit=MAX_HOLDOUT,
        )

    def terms_refused(self, err: TermsRefused) -> str:
        """What is wrong with the variants or options as typed; nothing was created."""
        nothing = self._("Nothing was created.")
        typed = {  # a variant's terms as typed, and what to write instead
            "label": err.label,
            "terms": f"<code>{html.escape(err.value, quote=False)}</code>",
            "examples": TERMS_EXAMPLES,
        }
        match err.problem:
            case TermsProblem.UNREADABLE:
                said = self._(
                    "❌ Variant {label}: I can't read {terms} as a discount. Write e.g. "
                    "{examples}.",
                    **typed,
                )
            case TermsProblem.OVER_MIN_SPEND:
                said = self._(
                    "❌ Variant {label}: {terms} takes more off than its minimum spend, so "
                    "every order it applies to would be free. Write e.g. {examples}.",
                    **typed,
                )
            case TermsProblem.TOO_MANY:
                said = self._(
                    "❌ At most {limit} variants (A–D): this offer has {n}.",
                    limit=MAX_VARIANTS,
                    n=err.count,
                )
            case TermsProblem.LABEL:
                said = self._(
                    "❌ The line for variant {expected} is labelled {typed}: variants go "
                    "{labels} in order (the labels may be left out).",
                    expected=err.label,
                    typed=html.escape(err.value, quote=False),
                    labels=", ".join(LABELS),
                )
            case TermsProblem.CURRENCY:
                said = self._(
                    "❌ The variants name different currencies ({currencies}); an offer has one.",
                    currencies=html.escape(err.value, quote=False),
                )
            case TermsProblem.HOLDOUT:
                said = self._(
                    "❌ The holdout is a percent from 0 to {limit}: {value}.",
                    limit=MAX_HOLDOUT,
                    value=f"<code>{html.escape(err.value, quote=False)}</code>",
                )
            case TermsProblem.PLAN:
                said = self._(
                    "❌ <code>plan=</code> is how many members each arm should reach before "
                    "the test is read, 1 or more: {value}.",
                    value=f"<code>{html.escape(err.value, quote=False)}</code>",
                )
            case TermsProblem.OPTION:
                said = self._(
                    "❌ I don't understand {word}. Options: <code>stock=N</code>, "
                    "<code>per=N</code> (per member), <code>days=N</code> (valid after "
                    "claiming), <code>holdout=N</code> (0–{limit}%), <code>plan=N</code> "
                    "(members per arm).",
                    word=f"<code>{html.escape(err.value, quote=False)}</code>",
                    limit=MAX_HOLDOUT,
                )
            case _:  # no name, or no terms: how the command is written
                return self.new_usage()
        return f"{said} {nothing}"

    def offer_refused(self, err: OfferRefused) -> str:
        """An offer members could never claim as made; nothing was created."""
        if err.problem is OfferProblem.NAME:
            said = self._(
                "❌ The offer's name is what members see: 1 to {limit} characters.",
                limit=MAX_OFFER_NAME,
            )
        else:
            said = self._(
                "❌ Members could never use this offer as written ({problem}).",
                problem=html.escape(err.problem.value, quote=False),
            )
        return f"{said} {self._('Nothing was created.')}"

    def offer_created(self, offer: TemplateRecord) -> str:
        name = html.escape(offer.name, quote=False)
        lines = [self._("🎟 Offer #{id} {name} created.", id=offer.id, name=f"<b>{name}</b>")]
        if not offer.is_test:
            lines.append(self.worth(offer))
        else:
            lines += [
                f"<b>{arm}</b>: {self.terms(t)}"
                for arm, t in zip(LABELS, offer.variants, strict=False)
            ]
            lines.append(
                self._(
                    "🧪 A/B test: {split}. Each member gets one variant, drawn from the offer "
                    "and the member, whether they claim it or are granted it; the holdout "
                    "applies only to grants to a saved audience "
                    "(<code>/coupon grant {id} @audience</code>).",
                    split=self.experiment.split(len(offer.variants), offer.holdout),
                    id=offer.id,
                )
            )
        lines.append(
            self._(
                "Post it: <code>/coupon post {id}</code> · results: "
                "<code>/coupon report {id}</code>",
                id=offer.id,
            )
        )
        return "\n".join(lines)

    def not_a_test(self, offer_id: int) -> str:
        return self._(
            "Offer #{id} has one set of terms and no holdout: there is nothing to compare. "
            "An A/B test is made with <code>/coupon new</code>: two or more lines of terms, "
            "or <code>holdout=10</code>.",
            id=offer_id,
        )

    def measure(self, measure: Measure) -> str:
        if measure is Measure.REDEEMED:
            return self._("Redeemed")
        return self._("Ordered within 14 days")

    def arm(self, arm: str) -> str:
        return self._("held out") if arm == HOLDOUT else arm

    def report(self, offer: TemplateRecord, r: OfferReport) -> str:
        """Each arm's numbers, then each comparison: the lift, p-value and verdict."""
        x = self.experiment
        name = html.escape(offer.name, quote=False)
        lines = [self._("📊 Offer #{id} {name}: A/B test", id=offer.id, name=f"<b>{name}</b>")]
        if r.planned is not None:
            lines.append(self._("Planned: {n} members per arm.", n=r.planned))
        for arm in r.order:
            counts = r.counts(arm)
            if arm == HOLDOUT:
                lines.append(
                    self._n(
                        "<b>Held out</b> (no coupon): {n} member",
                        "<b>Held out</b> (no coupon): {n} members",
                        counts.members,
                    )
                )
            else:
                lines.append(
                    self._n(
                        "<b>{arm}</b> · {terms}: {n} member",
                        "<b>{arm}</b> · {terms}: {n} members",
                        counts.members,
                        arm=arm,
                        terms=self.worth(offer.for_arm(arm)),
                    )
                )
            for measure in Measure:
                if measure is Measure.REDEEMED and arm == HOLDOUT:
                    continue
                lines.append(x.arm_line(self.measure(measure), counts.result(measure)))
            lines.append(
                INDENT
                + self._(
                    "GMV within 14 days: {gmv}",
                    gmv=format_amount(counts.gmv, offer.template.currency),
                )
            )
        lines += self._tests(r)
        if r.counting:
            lines.append(
                self._(
                    "⏳ Still counting: not every member's 14 days are over, so the numbers "
                    "may still grow."
                )
            )
        if r.holdout:
            lines.append(
                self._(
                    "Each member counts once, in the arm they were first put in. Redeemed: a "
                    "coupon of this offer used; ordered: an order in the group within 14 days "
                    "of the coupon (for the holdout, of being held out). Against the holdout "
                    "only members of audience grants count: those who claimed chose to."
                )
            )
        else:
            lines.append(
                self._(
                    "Each member counts once, in the arm they were first put in. Redeemed: a "
                    "coupon of this offer used; ordered: an order in the group within 14 days "
                    "of the coupon."
                )
            )
        lines.append(x.footnote())
        return "\n".join(lines)

    def _tests(self, r: OfferReport) -> list[str]:
        """Each variant against its control; against the holdout, over audience grants."""
        lines: list[str] = []
        heading: tuple[str, str] | None = None
        for t in r.tests():
            if (t.arm, t.control) != heading:
                heading = (t.arm, t.control)
                lines.append(self._heading(r, t))
            lines += self.experiment.compared(self.measure(t.measure), t.comparison)
        return lines

    def _heading(self, r: OfferReport, t: ArmTest) -> str:
        if not t.granted_only:
            return self._("<b>{arm} against {control}</b>", arm=t.arm, control=self.arm(t.control))
        return self._(
            "<b>{arm} against held out</b>, members of audience grants: {a} and {h}",
            arm=t.arm,
            a=r.counts(t.arm).granted,
            h=r.counts(HOLDOUT).granted,
        )
