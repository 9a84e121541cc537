"""What /tier, the tier line of /me and the private tier notices say."""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

from campaigns.coupons import format_amount
from campaigns.services.tiers import TierChange, TierChangeKind, TierProblem, TierRefused, TierView
from campaigns.tiers import LadderProblem, LadderRefused, Tier, TierBasis, TierLadder
from handlers.words import Words

CURRENCY = "CNY"  # thresholds are typed and shown in the shop's default currency


class TierTexts:
    """Membership tier texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        match error:
            case LadderRefused():
                return self.ladder_refused(error)
            case TierRefused():
                return self.tier_refused(error)
        return self.words.refusal(error)

    @staticmethod
    def _esc(text: str) -> str:
        return html.escape(text, quote=False)

    def tier_name(self, ladder: TierLadder, level: int) -> str:
        """A tier as this reader reads it: the default ladder's names in their language (a
        private notice is in the member's, a group reply in the group's)."""
        ladder = ladder.in_language(self.language)
        tier = ladder.tiers[min(max(level, 0), len(ladder.tiers) - 1)]
        return f"<b>{self._esc(tier.name)}</b>"

    def _money(self, minor: int) -> str:
        return format_amount(minor, CURRENCY)

    def _basis(self, ladder: TierLadder) -> str:
        if ladder.basis is TierBasis.LIFETIME:
            return self._("all time")
        return self._("the last 12 calendar months")

    def _thresholds(self, tier: Tier) -> str:
        parts = []
        if tier.min_spend is not None:
            parts.append(self._("spend ≥ {amount}", amount=self._money(tier.min_spend)))
        if tier.min_points is not None:
            parts.append(self._("≥ {n} points earned", n=f"{tier.min_points:,}"))
        return self._(" or ").join(parts)

    def _benefits(self, tier: Tier) -> list[str]:
        parts = []
        if tier.multiplier > 1:
            parts.append(self._("×{x} points", x=f"{tier.multiplier:g}"))
        if tier.reward_points:
            parts.append(self._("entry reward {n} points", n=f"{tier.reward_points:,}"))
        if tier.reward_offer:
            parts.append(self._("entry coupon #{offer}", offer=tier.reward_offer))
        if tier.title:
            parts.append(self._("title “{title}”", title=self._esc(tier.title)))
        return parts

    def ladder(self, ladder: TierLadder) -> str:
        """/tier ladder: every tier, its thresholds and benefits, and how it is counted."""
        lines = [self._("🎖 Membership tiers")]
        for level, tier in enumerate(ladder.in_language(self.language).tiers):
            parts = [f"{level + 1}. <b>{self._esc(tier.name)}</b>"]
            if level:
                parts.append(self._thresholds(tier))
            parts += self._benefits(tier)
            lines.append(" · ".join(parts))
        lines.append(
            self._(
                "Counted over {basis}; points earned count, spending points never lowers a "
                "tier. Reviewed every {review} days; a member below their tier keeps it for "
                "{grace} days.",
                basis=self._basis(ladder),
                review=ladder.review_days,
                grace=ladder.grace_days,
            )
        )
        return "\n".join(lines)

    def ladder_saved(self, ladder: TierLadder) -> str:
        return "\n".join([self._("✅ Tiers saved."), self.ladder(ladder)])

    def _progress_line(self, view: TierView) -> str:
        p = view.progress
        if p.next_level is None:
            return self._("🏆 You are in the top tier.")
        needs = []
        if p.spend_needed is not None:
            needs.append(self._("spend {amount} more", amount=self._money(p.spend_needed)))
        if p.points_needed is not None:
            needs.append(
                self._n(
                    "earn {count} more point", "earn {count} more points", p.points_needed,
                    count=f"{p.points_needed:,}",  # grouped, as the money beside it is
                )
            )  # fmt: skip
        return self._(
            "⬆️ Next: {tier} — {needs}",
            tier=self.tier_name(view.ladder, p.next_level),
            needs=self._(" or ").join(needs),
        )

    def status(self, display_name: str, view: TierView | None) -> str:
        """/tier: the member's tier, what counts, and the gap to the next tier."""
        if view is None:
            return self._(
                "{name}, you have no activity here yet. Send /checkin to start!",
                name=self.words.name(display_name),
            )
        tier = view.ladder.tiers[view.level]
        lines = [
            self._(
                "🎖 {name}: {tier}",
                name=self.words.name(display_name),
                tier=self.tier_name(view.ladder, view.level),
            ),
            self._(
                "Over {basis}: spent {spend} · {points} points earned",
                basis=self._basis(view.ladder),
                spend=self._money(view.standing.spend),
                points=f"{view.standing.points_earned:,}",
            ),
        ]
        benefits = self._benefits(tier)
        if benefits:
            lines.append(self._("Benefits: {list}", list=" · ".join(benefits)))
        if view.keep_until is not None:
            until = view.keep_until.astimezone(ZoneInfo(view.timezone)).date()
            lines.append(
                self._(
                    "⚠️ Below this tier's thresholds at the last review: it is kept until "
                    "{date}; a review after that moves you to the tier you qualify for.",
                    date=until.isoformat(),
                )
            )
        lines.append(self._progress_line(view))
        return "\n".join(lines)

    def me_line(self, view: TierView) -> str:
        """The tier line of /me."""
        tier = view.ladder.tiers[view.level]
        line = self._("🎖 Tier: {tier}", tier=self.tier_name(view.ladder, view.level))
        if tier.title:
            line += f" · {self._esc(tier.title)}"
        return line

    def usage(self) -> str:
        return self._(
            "Usage: /tier (your tier), /tier ladder. Admins: /tier setup Member | Silver "
            "spend=1000 points=1000 x=1.2 reward=100 | Gold spend=5000 points=5000 x=1.5 "
            "reward=500 coupon=12 title=VIP; /tier basis 12m|lifetime; /tier grace 30; "
            "/tier review 30; /tier reset; /tier set &lt;name&gt; in reply to a member."
        )

    def set_usage(self) -> str:
        return self._(
            "Reply to the member's message in the group with /tier set &lt;tier name&gt;."
        )

    def ladder_refused(self, error: LadderRefused) -> str:
        value = self._esc(error.value)
        return {
            LadderProblem.BAD_OPTION: self._(
                "“{value}” is not a tier option. Options: spend=, points=, x=, reward=, "
                "coupon=, title=. Nothing was changed.",
                value=value,
            ),
            LadderProblem.BAD_NUMBER: self._(
                "“{value}” is not a valid number here. Nothing was changed.", value=value
            ),
            LadderProblem.TIERS: self._(
                "A ladder has 1 to 5 tiers, separated by |. Nothing was changed."
            ),
            LadderProblem.FIRST: self._(
                "The first tier, “{value}”, is everyone's: it takes no spend= or points=. "
                "Nothing was changed.",
                value=value,
            ),
            LadderProblem.NO_THRESHOLD: self._(
                "“{value}” needs spend= or points= (or both) to be reached. Nothing was changed.",
                value=value,
            ),
            LadderProblem.NOT_RISING: self._(
                "“{value}” must ask for more than the tier below it (spend= and points= rise "
                "from tier to tier). Nothing was changed.",
                value=value,
            ),
            LadderProblem.SAME_NAME: self._(
                "Two tiers are called “{value}”: each needs its own name. Nothing was changed.",
                value=value,
            ),
            LadderProblem.OUT_OF_RANGE: self._(
                "“{value}” is out of range: x= from 1 to 10, reward= up to 1000000, spend= and "
                "points= not below 0, names and titles up to 32 characters. Nothing was changed.",
                value=value,
            ),
            LadderProblem.INVALID: self._(
                "That ladder is not valid: 1 to 5 tiers, names differ, the first tier has no "
                "thresholds, every other tier has spend= or points=, rising from tier to "
                "tier, x= from 1 to 10. Nothing was changed."
            ),
        }[error.problem]

    def tier_refused(self, error: TierRefused) -> str:
        value = self._esc(error.value)
        return {
            TierProblem.UNKNOWN_TIER: self._(
                "There is no tier called “{value}”. /tier ladder lists them.", value=value
            ),
            TierProblem.NOT_MEMBER: self._("I have not seen that member in this group yet."),
            TierProblem.SAME_TIER: self._("That member is already {value}.", value=value),
        }[error.problem]

    def member_set(self, display_name: str, change: TierChange) -> str:
        text = self._(
            "✅ {name} is now {tier} (was {old}).",
            name=self.words.name(display_name),
            tier=self.tier_name(change.ladder, change.new),
            old=self.tier_name(change.ladder, change.old),
        )
        if change.reward_points:
            text += " " + self._("Entry rewards: +{n} points.", n=f"{change.reward_points:,}")
        return text

    def notice(self, change: TierChange) -> str:
        """The private message when a member's tier changes."""
        group = self._esc(change.chat_title or "")
        tier = self.tier_name(change.ladder, change.new)
        if change.kind in (TierChangeKind.DEMOTED, TierChangeKind.LOWERED):
            return self._(
                "Your membership tier in <b>{group}</b> is now {tier}. Earn points or shop "
                "to climb again: /tier in the group shows what the next tier needs.",
                group=group,
                tier=tier,
            )
        lines = [
            self._(
                "🎉 Congratulations! You are now {tier} in <b>{group}</b>.", tier=tier, group=group
            )
        ]
        passed = [self.tier_name(change.ladder, i) for i in range(change.old + 1, change.new + 1)]
        if change.reward_points and len(passed) > 1:  # a skipped tier's reward comes too
            lines.append(
                self._(
                    "🎁 Entry rewards: +{n} points, for each tier passed ({tiers}).",
                    n=change.reward_points,
                    tiers=self._(", ").join(passed),
                )
            )
        elif change.reward_points:
            lines.append(self._("🎁 Entry reward: +{n} points.", n=change.reward_points))
        for name in change.coupons:
            lines.append(self._("🎟 Entry coupon: {name} (/mycoupons).", name=self._esc(name)))
        benefits = self._benefits(change.ladder.tiers[change.new])
        if benefits:
            lines.append(self._("Benefits: {list}", list=" · ".join(benefits)))
        return "\n".join(lines)
