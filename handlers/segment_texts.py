"""What /segments says: members per stage, RFM segment and tier, and their lists."""

from __future__ import annotations

import html

from campaigns.ports.segments import SegmentCounts
from campaigns.segments import Segment, Stage
from campaigns.services.segments import (
    Dimension,
    MembersPage,
    SegmentsReport,
    ThresholdKey,
    ThresholdRefused,
)
from campaigns.tiers import DEFAULT_LADDER
from handlers.words import Words

STAGE_ICONS = {
    Stage.NEW: "🆕",
    Stage.ACTIVE: "🔥",
    Stage.SILENT: "💤",
    Stage.DORMANT: "😴",
    Stage.LEFT: "🚪",
}


class SegmentTexts:
    """Segment texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, ThresholdRefused):
            return self.threshold_refused(error)
        return self.words.refusal(error)

    def stage(self, stage: Stage) -> str:
        return {
            Stage.NEW: self._("new"),
            Stage.ACTIVE: self._("active"),
            Stage.SILENT: self._("silent"),
            Stage.DORMANT: self._("dormant"),
            Stage.LEFT: self._("left"),
        }[stage]

    def segment(self, segment: Segment) -> str:
        return {
            Segment.CHAMPIONS: self._("Champions"),
            Segment.LOYAL: self._("Loyal"),
            Segment.POTENTIAL_LOYALIST: self._("Potential Loyalist"),
            Segment.NEW: self._("New"),
            Segment.PROMISING: self._("Promising"),
            Segment.NEED_ATTENTION: self._("Need Attention"),
            Segment.ABOUT_TO_SLEEP: self._("About to Sleep"),
            Segment.AT_RISK: self._("At Risk"),
            Segment.CANT_LOSE: self._("Can't Lose Them"),
            Segment.HIBERNATING: self._("Hibernating"),
            Segment.LOST: self._("Lost"),
        }[segment]

    def tier(self, level: int, names: tuple[str, ...] | None = None) -> str:
        names = names or tuple(t.name for t in DEFAULT_LADDER.in_language(self.language).tiers)
        return html.escape(names[level] if 0 <= level < len(names) else f"#{level}", quote=False)

    def label(
        self, dimension: Dimension, key: str, tier_names: tuple[str, ...] | None = None
    ) -> str:
        """A stage, segment or tier by its stored key, as members of this language read it
        (a tier by the group's own name for it)."""
        if dimension is Dimension.STAGE:
            return f"{STAGE_ICONS[Stage(key)]} {self.stage(Stage(key))}"
        if dimension is Dimension.RFM:
            return self.segment(Segment(key))
        return self.tier(int(key), tier_names)

    def _lines(
        self,
        dimension: Dimension,
        keys: list[str],
        counts: SegmentCounts,
        tier_names: tuple[str, ...] | None = None,
    ) -> list[str]:
        """A line per key with members now or then: the count, and the change when the
        counts of a week ago were kept."""
        before = counts.before
        lines = []
        for key in keys:
            now, then = counts.now.get(key, 0), (before or {}).get(key, 0)
            if not now and not then:
                continue
            change = "" if before is None else f" ({now - then:+d})" if now != then else " (±0)"
            label = self.label(dimension, key, tier_names)
            lines.append(self._("{label}: <b>{n}</b>{change}", label=label, n=now, change=change))
        return lines

    def report(self, r: SegmentsReport, *, buttons: bool = True) -> str:
        """The counts; `buttons`: the lists are a tap away (else: how to get them)."""
        th, group = r.thresholds, html.escape(r.chat.title or "-", quote=False)
        none = [self._("none yet")]
        lines = [
            self._("👥 Segments of <b>{group}</b>", group=group),
            self._("(in brackets: the change in the last 7 days)")
            if r.stages.before is not None
            else self._("(the change shows once counts from 7 days ago exist)"),
            "",
            self._(
                "<b>Stages</b> (new: joined within {new} days; silent after {silent}, dormant "
                "after {dormant} days without activity)",
                new=th.new_days, silent=th.silent_days, dormant=th.dormant_days,
            ),
            *self._lines(Dimension.STAGE, [str(s) for s in Stage], r.stages),
            "",
            self._("<b>RFM</b> (by orders, last {days} days)", days=th.rfm_window_days)
            if r.by_orders
            else self._(
                "<b>RFM</b> (no orders yet: by activity, last {days} days)",
                days=th.rfm_window_days,
            ),
            *(self._lines(Dimension.RFM, [str(s) for s in Segment], r.rfm) or none),
            "",
            self._("<b>Tiers</b>"),
            *(self._lines(Dimension.TIER, [str(n) for n in range(5)], r.tiers, r.tier_names)
              or none),
            "",
            self._(
                "Tap a button for the members. Thresholds, one at a time: /segments set silent 7 "
                "(or dormant, new, window)"
            )
            if buttons
            else self.list_in_private(),
        ]  # fmt: skip
        return "\n".join(lines)

    def sent_privately(self) -> str:
        return self._("📬 I sent you the segments in a private chat.")

    def list_in_private(self) -> str:
        return self._(
            "Member lists go to a private chat only: open a chat with me, tap Start, then "
            "send /segments again."
        )

    def usage(self) -> str:
        return self._(
            "Usage: /segments (the report), /segments set &lt;new|silent|dormant|window&gt; "
            "&lt;days&gt;, /segments list &lt;stage or segment&gt; [page]"
        )

    def threshold_set(self, key: str, days: int) -> str:
        return self._(
            "✅ {key} is now {days}. Stages were recomputed.", key=key, days=self.words.days(days)
        )

    def threshold_refused(self, error: ThresholdRefused) -> str:
        c = error.current
        keys = ", ".join(str(k) for k in ThresholdKey)
        return self._(
            "Can't set {key} to {value}: give one of {keys} and a whole number of days "
            "(silent 1-3650, dormant more than silent, window 7-3650). Now: new {new}, "
            "silent {silent}, dormant {dormant}, window {window}.",
            key=html.escape(error.key[:32], quote=False),
            value=html.escape(error.value[:32], quote=False),
            keys=keys, new=c.new_days, silent=c.silent_days, dormant=c.dormant_days,
            window=c.rfm_window_days,
        )  # fmt: skip

    def unknown_list(self) -> str:
        stages = ", ".join(str(s) for s in Stage)
        segments = ", ".join(str(s) for s in Segment)
        return self._(
            "Which list? A stage ({stages}), an RFM segment ({segments}) or a tier (0-4).",
            stages=stages,
            segments=segments,
        )

    def members(self, p: MembersPage) -> str:
        title = self._n(
            "{label} in <b>{group}</b>: {n} member (page {page} of {pages})",
            "{label} in <b>{group}</b>: {n} members (page {page} of {pages})",
            p.total,
            label=self.label(
                p.dimension, p.key, tuple(t.name for t in p.chat.settings.tiers.tiers)
            ),
            group=html.escape(p.chat.title or "-", quote=False),
            page=p.page + 1,
            pages=p.pages,
        )
        if not p.members:
            return title + "\n" + self._("nobody here")
        rows = [
            self._(
                "{i}. {name}{user} · {points} pts · {orders}",
                i=p.page * 10 + i + 1,
                name=self.words.name(m.name or str(m.user_id)),
                user=f" @{html.escape(m.username, quote=False)}" if m.username else "",
                points=m.points,
                orders=self._n("{n} order", "{n} orders", m.orders),
            )
            for i, m in enumerate(p.members)
        ]
        return "\n".join([title, *rows])
