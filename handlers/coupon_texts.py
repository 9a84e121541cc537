"""Coupon texts: offers, claims, redemption (核销) and a member's coupons."""

from __future__ import annotations

import datetime as dt
import html
from zoneinfo import ZoneInfo

from campaigns.audience_expr import AudienceExprError
from campaigns.audiences import AudienceRefused
from campaigns.coupons import (
    CouponCommand,
    CouponKind,
    CouponRejected,
    CouponState,
    CouponUsage,
    OfferState,
    Reason,
    format_amount,
)
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
from handlers.words import Words


class CouponTexts:
    """Texts for coupons, in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def money(self, minor: int, offer: TemplateRecord) -> str:
        return format_amount(minor, offer.template.currency)

    def worth(self, offer: TemplateRecord) -> str:
        """满199减30 / 无门槛减5 / 9折 (最多减50) / 赠品, in the reader's language."""
        t = offer.template
        if t.kind is CouponKind.GIFT:
            what = self._("a free gift")
        elif t.kind is CouponKind.PERCENT:
            what = self._("{pct}% off", pct=f"{t.value / 100:g}")
            if t.cap is not None:
                what += self._(" (up to {cap})", cap=self.money(t.cap, offer))
        else:
            what = self._("{off} off", off=self.money(t.value, offer))
        if t.min_spend:
            return self._(
                "{what} on orders from {min}", what=what, min=self.money(t.min_spend, offer)
            )
        return self._("{what}, no minimum spend", what=what)

    def when(self, at: dt.datetime, timezone: str) -> str:
        return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")

    def offer_post(self, offer: TemplateRecord, timezone: str) -> str:
        lines = [
            self._("🎟 Coupon: {name}", name=f"<b>{html.escape(offer.name, quote=False)}</b>"),
            self.worth(offer),
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
                "No coupon offers yet. Offers are created on the command line: "
                "<code>growthbot coupons create</code> (see README)."
            )
        out = [self._("🎟 Coupon offers:")]
        for line in lines:
            o = line.offer
            stock = f"{o.issued}/{o.stock}" if o.stock is not None else f"{o.issued}/∞"
            out.append(
                self._(
                    "#{id} {name} · {state} · claimed {stock} · redeemed {redeemed}",
                    id=o.id,
                    name=html.escape(o.name, quote=False),
                    state={
                        OfferState.LIVE: self._("🟢 live"),
                        OfferState.SOLD_OUT: self._("😢 sold out"),
                        OfferState.ENDED: self._("⏹ ended"),
                    }[line.state],
                    stock=stock,
                    redeemed=line.redeemed,
                )
            )
        return "\n".join(out)

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
                line += " · " + self._("until {time}", time=self.when(c.expires_at, m.timezone))
            lines.append(line)
        return "\n".join(lines)
