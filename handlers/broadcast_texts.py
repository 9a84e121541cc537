"""/broadcast's texts: the calendar's broadcast texts and its A/B tests."""

from __future__ import annotations

from campaigns.audience import HoldoutError
from campaigns.broadcast_variants import (
    Measure,
    ReportRefusal,
    ReportRefused,
    VariantProblem,
    VariantReport,
    VariantsRefused,
)
from campaigns.experiments import HOLDOUT, MAX_HOLDOUT, is_experiment
from campaigns.ports.broadcasts import BroadcastRecord
from handlers.calendar_texts import CalendarTexts
from handlers.experiment_texts import ExperimentTexts


class BroadcastTexts(CalendarTexts):
    """Broadcast texts in one language."""

    def __init__(self, language: str) -> None:
        super().__init__(language)
        self.experiment = ExperimentTexts(language)

    def refusal(self, error: Exception) -> str | None:
        match error:
            case HoldoutError():
                return self._(
                    "The holdout is a percent from 0 to {limit}, given once: e.g. "
                    "<code>holdout=10</code>.",
                    limit=MAX_HOLDOUT,
                )
            case VariantsRefused():
                return self.variants_refused(error)
            case ReportRefused():
                return self.report_refused(error)
        return super().refusal(error)

    def broadcast_usage(self) -> str:
        return (
            super().broadcast_usage()
            + "\n"
            + self._(
                "A/B test: lines holding only <code>---</code> split the text into variants "
                "A–D, and <code>holdout=10</code> keeps 10% of the audience out (up to 50%) "
                "to compare against; <code>/broadcast report &lt;id&gt;</code> compares them."
            )
        )

    def variants_refused(self, error: VariantsRefused) -> str:
        if error.problem is VariantProblem.TOO_MANY:
            return self._(
                "At most {limit} variants: this text has {n}. Lines holding only "
                "<code>---</code> split it.",
                limit=error.limit,
                n=error.count,
            )
        return self._(
            "Variant {label} is empty: write its text between the <code>---</code> lines.",
            label=error.label,
        )

    def report_refused(self, error: ReportRefused) -> str:
        bid = error.broadcast_id
        if error.reason is ReportRefusal.UNKNOWN:
            return self._("There is no broadcast #{id} in this group.", id=bid)
        if error.reason is ReportRefusal.NOT_STARTED:
            return self._("Broadcast #{id} was never sent: there is nothing to report.", id=bid)
        return self.report_usage()

    def report_usage(self) -> str:
        return self._(
            "Which broadcast? e.g. <code>/broadcast report 12</code>: its delivery, and for one "
            "sent with variants or a holdout, how each did."
        )

    # --- the preview ------------------------------------------------------------------------

    def variant_label(self, label: str) -> str:
        return self._("⬇️ Variant {label}", label=label)

    def split(self, b: BroadcastRecord) -> str:
        """`A 45% · B 45% · held out 10%`: each arm's share of the audience."""
        return self.experiment.split(b.variant_count, b.holdout)

    def broadcast_draft(self, b: BroadcastRecord, count: int) -> str:
        text = super().broadcast_draft(b, count)
        if not is_experiment(b.variant_count, b.holdout):
            return text
        return (
            text
            + "\n"
            + self._(
                "🧪 A/B test: {split}. Each member gets one variant, drawn from the broadcast "
                "and the member; those held out get nothing. <code>/broadcast report {id}</code> "
                "compares them.",
                split=self.split(b),
                id=b.id,
            )
        )

    # --- the report -------------------------------------------------------------------------

    def measure(self, measure: Measure) -> str:
        if measure is Measure.ACTIVE_3D:
            return self._("Active within 3 days")
        return self._("Ordered within 7 days")

    def arm(self, arm: str) -> str:
        return self._("held out") if arm == HOLDOUT else arm

    def report(self, r: VariantReport) -> str:
        x = self.experiment
        head = (
            self._(
                "📊 Broadcast #{id}: A/B test, each variant against the holdout", id=r.broadcast_id
            )
            if r.holdout
            else self._("📊 Broadcast #{id}: A/B test, each variant against A", id=r.broadcast_id)
        )
        lines = [head]
        for arm in r.order:
            counts = r.counts(arm)
            if arm == HOLDOUT:
                lines.append(self._("<b>Held out</b>: {n} members", n=counts.members))
            else:
                lines.append(self._("<b>{arm}</b>: {n} sent", arm=arm, n=counts.members))
            for measure in Measure:
                lines.append(x.arm_line(self.measure(measure), counts.result(measure)))
        for arm in r.tested():
            lines.append(
                self._("<b>{arm} against {control}</b>", arm=arm, control=self.arm(r.control))
            )
            for measure in Measure:
                lines += x.compared(self.measure(measure), r.test(arm, measure))
        if r.counting:
            lines.append(
                self._(
                    "⏳ Still counting: not every member's 3 and 7 days are over, so the "
                    "numbers may still grow."
                )
            )
        if r.holdout:
            lines.append(
                self._(
                    "Sent counts the members a variant reached; the holdout counts all its "
                    "members. Active: a message or check-in in the group within 3 days of the "
                    "message (for the holdout, of the broadcast's start); ordered: an order "
                    "within 7 days."
                )
            )
        else:
            lines.append(
                self._(
                    "Sent counts the members a variant reached. Active: a message or check-in "
                    "in the group within 3 days of the message; ordered: an order within 7 days."
                )
            )
        lines.append(x.footnote())
        return "\n".join(lines)
