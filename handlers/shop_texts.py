"""What /shop, its Redeem buttons, /points and the points-expiry reminder say."""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

from campaigns.members import Person
from campaigns.ports.activity import StatementLine
from campaigns.ports.shop import ShopOrder
from campaigns.services.points import NotEnoughPoints, PointsReason
from campaigns.services.shop import (
    ExpiredNotice,
    ExpiryReminder,
    Orders,
    Redeemed,
    ShopView,
    Statement,
)
from campaigns.shop import (
    RedeemProblem,
    RedeemRefused,
    ShopItem,
    ShopItemKind,
    ShopProblem,
    ShopUsage,
)
from handlers.words import Words


class ShopTexts:
    """Points shop texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        match error:
            case RedeemRefused():
                return self.redeem_refused(error)
            case ShopUsage():
                return self.shop_usage(error)
            case NotEnoughPoints():
                return self._not_enough(error.balance, error.amount)
        return self.words.refusal(error)

    @staticmethod
    def _esc(text: str) -> str:
        return html.escape(text, quote=False)

    def item_name(self, item: ShopItem) -> str:
        if item.kind is ShopItemKind.MAKEUP:
            return self._("Make-up check-in card")
        return self._esc(item.name)

    # -- /shop ------------------------------------------------------------------------------------

    def _item_line(self, item: ShopItem) -> str:
        kinds = {
            ShopItemKind.COUPON: self._("coupon"),
            ShopItemKind.ITEM: self._("item"),
            ShopItemKind.MAKEUP: self._("restores yesterday's missed check-in"),
        }
        parts = [f"#{item.id} <b>{self.item_name(item)}</b>", self.words.points(item.price)]
        parts.append(kinds[item.kind])
        if item.kind is ShopItemKind.MAKEUP and item.makeup_every_days:
            parts.append(self._n("at most one every {n} day", "at most one every {n} days",
                                 item.makeup_every_days))  # fmt: skip
        if item.left is not None:
            parts.append(self._("{n} left", n=item.left))
        return " · ".join(parts)

    def shop(self, view: ShopView) -> str:
        if not view.items:
            return self._("🛍 The points shop is empty for now.")
        lines = [self._("🛍 Points shop: tap to redeem. You have {points}.",
                        points=self.words.points(view.balance))]  # fmt: skip
        lines += [self._item_line(item) for item in view.items]
        return "\n".join(lines)

    def redeem_button(self, item: ShopItem) -> str:
        """A button's text is plain, not HTML: the name as the admin typed it."""
        name = self._("Make-up check-in card") if item.kind is ShopItemKind.MAKEUP else item.name
        return self._("Redeem {name} ({price})", name=name, price=item.price)

    def added(self, item: ShopItem) -> str:
        return self._(
            "✅ Added to the shop: {line}. Members see it with /shop; /shop end {id} stops it.",
            line=self._item_line(item),
            id=item.id,
        )

    def ended(self, item: ShopItem) -> str:
        return self._("✅ {name} (#{id}) is no longer sold.", name=self.item_name(item), id=item.id)

    def usage(self) -> str:
        return self._(
            "Usage: /shop (members: the items), and for admins:\n"
            "<code>/shop add coupon &lt;offer id&gt; &lt;price&gt;</code>\n"
            "<code>/shop add item &lt;name&gt; | &lt;price&gt; [| &lt;stock&gt;]</code>, e.g. "
            "<code>/shop add item iPhone 15 | 5000 | 3</code>\n"
            "<code>/shop add makeup &lt;price&gt; [days between cards]</code>\n"
            "<code>/shop end &lt;id&gt;</code> · <code>/shop orders</code>"
        )

    def shop_usage(self, err: ShopUsage) -> str:
        value = self._esc(err.value)
        match err.problem:
            case ShopProblem.BAD_PRICE:
                return self._("❌ The price must be a whole number of points, e.g. 100.")
            case ShopProblem.BAD_STOCK:
                return self._("❌ The stock must be a whole number, e.g. 10.")
            case ShopProblem.BAD_DAYS:
                return self._("❌ The days between cards must be 1 to 366.")
            case ShopProblem.BAD_ID:
                return self._("❌ {value} is not an id.", value=value)
            case ShopProblem.NO_NAME:
                return self._("❌ The item needs a name of at most 64 characters.")
            case ShopProblem.BAD_OFFER:
                return self._(
                    "❌ Offer #{id} is not a live coupon offer of this group (/coupon list).",
                    id=value,
                )
            case ShopProblem.UNKNOWN_ITEM:
                return self._("❌ Item #{id} is not on sale in this group's shop.", id=value)
            case ShopProblem.FULL:
                return self._(
                    "❌ The shop already sells {n} items, as many as one /shop message can "
                    "show: end one first with /shop end &lt;id&gt;.",
                    n=value,
                )
            case ShopProblem.AMBIGUOUS if len(err.readings) == 2:
                price, stock = (self._esc(r) for r in err.readings)
                return self._(
                    "❌ Which number is the price? Separate the name, the price and the stock "
                    "with |:\n<code>/shop add item {price}</code> (name | price)\n"
                    "<code>/shop add item {stock}</code> (name | price | stock)",
                    price=price, stock=stock,
                )  # fmt: skip
        return self.usage()

    # -- redeeming --------------------------------------------------------------------------------

    def _not_enough(self, balance: int, price: int) -> str:
        return self._(
            "Not enough points: you have {balance}, this costs {price}.",
            balance=balance,
            price=price,
        )

    def redeem_refused(self, err: RedeemRefused) -> str:
        match err.problem:
            case RedeemProblem.NOT_ENOUGH:
                return self._not_enough(err.balance, err.item.price if err.item else 0)
            case RedeemProblem.SOLD_OUT:
                return self._("Sorry, this one is sold out.")
            case RedeemProblem.JUST_REDEEMED:
                return self._("You redeemed this a moment ago; this second tap spent nothing.")
            case RedeemProblem.NOT_YET:
                when = err.starts_at.strftime("%Y-%m-%d %H:%M") if err.starts_at else "-"
                return self._(
                    "This coupon is not available yet: redeem it from {when}. Nothing was spent.",
                    when=when,
                )
            case RedeemProblem.COUPON_LIMIT:
                return self._("You already hold as many of these coupons as the offer allows.")
            case RedeemProblem.MAKEUP_NOT_NEEDED:
                return self._(
                    "No need for a make-up card: yesterday's check-in is there. Nothing was spent."
                )
            case RedeemProblem.MAKEUP_TOO_LATE if err.until is not None:
                return self._(
                    "A make-up card restores yesterday only when it is the one day missed; your "
                    "last check-in was on {day}. Nothing was spent.",
                    day=err.until.isoformat(),
                )
            case RedeemProblem.MAKEUP_TOO_LATE:
                return self._(
                    "A make-up card restores yesterday's check-in after a streak; check in today "
                    "to start one. Nothing was spent."
                )
            case RedeemProblem.MAKEUP_TOO_SOON:
                until = err.until.isoformat() if err.until else "-"
                return self._(
                    "One make-up card at a time: the next one works from {day}.", day=until
                )
        return self._("This item is no longer in the shop.")

    def redeemed(self, done: Redeemed) -> str:
        """The tapper's alert (only they see it)."""
        name, left = self.item_name(done.item), done.balance
        price = self.words.points(done.item.price)
        if done.coupon is not None:
            return self._(
                "🎉 {name} for {price}. Your code: {code} (also in /mycoupons). "
                "Points left: {left}.",
                name=name, price=price, code=done.coupon.code, left=left,
            )  # fmt: skip
        if done.makeup is not None:
            streak = done.makeup.today_streak or done.makeup.streak
            return self._(
                "🎉 Yesterday's check-in is restored: your streak is {streak} days. "
                "Points left: {left}.",
                streak=streak, left=left,
            )  # fmt: skip
        return self._(
            "🎉 You redeemed {name} for {price}. The group's team will hand it over. "
            "Points left: {left}.",
            name=name, price=price, left=left,
        )  # fmt: skip

    def redeemed_private(self, done: Redeemed) -> str:
        """The same, privately, with the group named: a record the member keeps."""
        group = f"<b>{self._esc(done.chat_title or '-')}</b>"
        return self._("🛍 {group}: {what}", group=group, what=self.redeemed(done))

    def order_note(self, done: Redeemed, member: Person) -> str:
        """To the group's admins: a custom item to hand over."""
        return self._(
            "🛍 Order {order} in {group}: {member} (<code>{id}</code>) redeemed {name} for "
            "{price}. Please hand it over; /shop orders lists the orders.",
            order=done.order_id or "-", group=f"<b>{self._esc(done.chat_title or '-')}</b>",
            member=self.words.name(member.display_name), id=member.user_id,
            name=self.item_name(done.item),
            price=self.words.points(done.item.price),
        )  # fmt: skip

    def orders(self, found: Orders) -> str:
        if not found.custom and not found.others:
            return self._("No redemptions yet.")
        zone = ZoneInfo(found.timezone)
        lines = []
        if found.custom:
            lines.append(self._("📦 Custom items (the group's team hands them over), newest first"))
            lines += [self._order_line(o, zone) for o in found.custom]
        if found.others:
            lines.append(self._("🎟 Coupons and make-up cards (the bot handed them over)"))
            lines += [self._order_line(o, zone) for o in found.others]
        return "\n".join(lines)

    def _order_line(self, o: ShopOrder, zone: ZoneInfo) -> str:
        when = o.at.astimezone(zone).strftime("%m-%d %H:%M")
        code = f" <code>{o.coupon_code}</code>" if o.coupon_code else ""
        member = self.words.name(o.member_name)
        name = self._("Make-up check-in card") if o.kind is ShopItemKind.MAKEUP else o.item_name
        order = self._("order {id}", id=o.id)
        return (
            f"{order} · {when} · {member} (<code>{o.user_id}</code>) · #{o.item_id} "
            f"{self._esc(name)} · {self.words.points(o.price)}{code}"
        )

    # -- /points ----------------------------------------------------------------------------------

    def reason(self, line: StatementLine) -> str:
        names: dict[str, str] = {
            PointsReason.CHECKIN: self._("check-in"),
            PointsReason.STREAK_MILESTONE: self._("streak milestone"),
            PointsReason.ORDER: self._("order"),
            PointsReason.REFERRAL_TIER: self._("referral reward"),
            PointsReason.REFERRAL_CLAWBACK: self._("referral reward taken back"),
            PointsReason.REFERRAL_FIRST_ORDER: self._("a friend's first order"),
            PointsReason.TIER_REWARD: self._("tier reward"),
            PointsReason.EXPIRY: self._("expired"),
        }
        if line.reason == PointsReason.SHOP:
            item = self._esc(line.item) if line.item else "-"
            if line.item_kind == ShopItemKind.MAKEUP:
                item = self._("Make-up check-in card")
            return self._("shop: {item}", item=item)
        return names.get(line.reason, self._esc(line.reason))

    def statement(self, name: str, s: Statement) -> str:
        zone = ZoneInfo(s.timezone)
        lines = [
            self._("🧾 {name}'s points in {group}: {points}", name=self.words.name(name),
                   group=f"<b>{self._esc(s.chat_title or '-')}</b>",
                   points=self.words.points(s.balance)),
        ]  # fmt: skip
        if not s.lines:
            lines.append(self._("No points entries yet: /checkin earns the first ones."))
        for line in s.lines:
            day = line.at.astimezone(zone).strftime("%Y-%m-%d")
            lines.append(f"{day}  <code>{line.delta:+d}</code>  {self.reason(line)}")
        if s.expiry_months:
            lines.append(
                self._n(
                    "Points expire {n} month after they were earned, oldest first.",
                    "Points expire {n} months after they were earned, oldest first.",
                    s.expiry_months,
                )
            )
        return "\n".join(lines)

    def statements(self, name: str, statements: list[Statement]) -> list[str]:
        """/points in private: each group's statement (a message each), or where points
        come from."""
        if not statements:
            return [self._("No points yet: send /checkin in your group to earn the first ones.")]
        return [self.statement(name, s) for s in statements]

    def statement_short(self, name: str, s: Statement, *, sent: bool) -> str:
        """/points in the group: the balance; the statement went privately (or how to get it)."""
        values = {"name": self.words.name(name), "points": self.words.points(s.balance)}
        if sent:
            return self._("{name}: {points}. Your statement is in our private chat.", **values)
        return self._(
            "{name}: {points}. Start a private chat with me to get your full statement.", **values
        )

    def expiry_reminder(self, r: ExpiryReminder) -> str:
        """A week before: the last day the points can be spent, in the group's calendar; the
        shop only when it has something to spend them on."""
        up, group = r.upcoming, f"<b>{self._esc(r.chat_title or '-')}</b>"
        values = {"n": up.amount, "group": group, "day": up.usable_until.isoformat()}
        if up.more and up.more_usable_until is not None:
            what = self._(
                "⏳ {n} of your points in {group} are usable until {day}, {more} more until "
                "{last} at the latest; then they expire.",
                **values, more=up.more, last=up.more_usable_until.isoformat(),
            )  # fmt: skip
        else:
            what = self._(
                "⏳ {n} of your points in {group} are usable until {day}; then they expire.",
                **values,
            )
        balance = self.words.points(r.balance)
        if r.shop_open:
            then = self._("You have {balance}: spend them in the group's /shop.", balance=balance)
        else:
            then = self._("You have {balance}.", balance=balance)
        return self._("{sentence} {next}", sentence=what, next=then)

    def expired_notice(self, n: ExpiredNotice) -> str:
        """When points went: how many, and what is left."""
        months = self._n("{n} month", "{n} months", n.months)
        return self._(
            "⌛ {n} of your points in {group} expired today (points last {months}). You have "
            "{balance} left.",
            n=n.amount, group=f"<b>{self._esc(n.chat_title or '-')}</b>", months=months,
            balance=self.words.points(n.balance),
        )  # fmt: skip
