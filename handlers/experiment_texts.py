"""How an A/B test's numbers read, for every report that has one (journeys, broadcasts,
coupon offers)."""

from __future__ import annotations

from campaigns.experiments import HOLDOUT, ArmResult, Comparison, Method, arms
from handlers.words import Words

INDENT = "   "


class ExperimentTexts:
    """An arm's share and interval, a comparison's lift, p-value and verdict, in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self._ = self.words._

    def split(self, variants: int, holdout: int) -> str:
        """`A 45% · B 45% · held out 10%`: each arm's share of those drawn."""
        weights = arms(variants, holdout)
        total = sum(weights.values())
        parts = [
            self._("held out {p}%", p=holdout)
            if arm == HOLDOUT
            else f"{arm} {weight * 100 / total:.3g}%"
            for arm, weight in weights.items()
        ]
        return " · ".join(parts[1:] + parts[:1] if holdout else parts)

    @staticmethod
    def share(arm: ArmResult) -> str:
        """`10/30 (33%)`, or – for nobody."""
        if arm.rate is None:
            return "–"
        return f"{arm.conversions}/{arm.size} ({arm.rate:.0%})"

    @staticmethod
    def interval(arm: ArmResult) -> str:
        """The Wilson 95% interval, `16–45%`, or – for nobody."""
        if arm.interval is None:
            return "–"
        low, high = arm.interval
        return f"{low * 100:.0f}–{high * 100:.0f}%"

    @staticmethod
    def p(p: float) -> str:
        """Two significant digits, so 0.047 and 0.053 do not both read 0.05. HTML, as every
        reply: `<` escaped (unescaped, Telegram refuses the whole report)."""
        return "p &lt; 0.001" if p < 0.001 else f"p = {p:#.2g}"

    def method(self, method: Method) -> str:
        if method is Method.FISHER:
            return self._("Fisher's exact test")
        return self._("two-proportion z-test")

    def comparable(self, test: Comparison) -> bool:
        """Both arms have members, so there is a lift and a p-value to show."""
        return not (test.lift_points is None or test.p_value is None or test.method is None)

    def lift(self, test: Comparison) -> str:
        """`Lift +20.6 points (+257%), p = 0.050 (two-proportion z-test)`."""
        assert test.lift_points is not None and test.p_value is not None
        assert test.method is not None
        relative = "" if test.lift_relative is None else f" ({test.lift_relative:+.0%})"
        return self._(
            "Lift {pts} points{relative}, {p} ({method})",
            pts=f"{test.lift_points * 100:+.1f}",
            relative=relative,
            p=self.p(test.p_value),
            method=self.method(test.method),
        )

    def verdict(self, test: Comparison) -> str:
        """Whether the arms are large enough to read the lift seen (or the planned size)."""
        if test.planned is not None and test.read_early:
            return self._(
                "⚠️ Read early: the test was planned for {planned} members per arm.",
                planned=test.planned,
            )
        if test.needed is None:
            return self._("No difference between the arms to detect.")
        if test.read_early:
            return self._(
                "⚠️ Read early: a lift this size needs {n} members per arm.", n=test.needed
            )
        return self._("✅ Enough members: a lift this size needs {n} per arm.", n=test.needed)

    def footnote(self) -> str:
        return self._(
            "p: Fisher's exact test when a cell expects under 5 members, else a z-test. "
            "Members needed: to detect the lift seen, at 95% confidence and 80% power."
        )

    def arm_line(self, measure: str, result: ArmResult) -> str:
        """`   Redeemed: 10/30 (33%), 95% CI 19–51%`: a measure of one arm, indented."""
        return INDENT + self._(
            "{measure}: {share}, 95% CI {ci}",
            measure=measure,
            share=self.share(result),
            ci=self.interval(result),
        )

    def compared(self, measure: str, test: Comparison) -> list[str]:
        """A measure's lift and p-value, then its verdict, indented; or that an arm is
        still empty."""
        if not self.comparable(test):
            said = self._("⚠️ Too early to compare: an arm has nobody yet.")
            return [INDENT + self._("{measure}: {result}", measure=measure, result=said)]
        lift = self._("{measure}: {result}", measure=measure, result=self.lift(test))
        return [INDENT + lift, INDENT + self.verdict(test)]
