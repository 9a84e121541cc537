"""What /tag, /untag, /tags and /audience say, and how a bad tag or audience is refused."""

from __future__ import annotations

import html

from campaigns.audience_expr import RULE, AudienceExprError, AudienceProblem
from campaigns.audiences import (
    AudienceRefusal,
    AudienceRefused,
    AudienceUsage,
    Preview,
    SavedAudience,
)
from campaigns.ports.tags import TagRecord
from campaigns.segments import Segment, Stage
from campaigns.services.tags import Tagged, TagRefusal, TagRefused
from campaigns.tags import MAX_TAG, TagError, TagProblem, TagSource, TagUsage
from handlers.words import Words


def code(text: str) -> str:
    return f"<code>{html.escape(text, quote=False)}</code>"


FIT = 3_900  # characters of a list reply, with room for the "and N more" line
SHORT_RULE = 120  # characters of a rule shown in /audience list (/audience show has it whole)


def _short(rule: str) -> str:
    return rule if len(rule) <= SHORT_RULE else rule[: SHORT_RULE - 1] + "…"


# The values a name rule takes, as the operator types them (Chinese stage names work too).
CHOICES = {"stage": [s.value for s in Stage], "rfm": [s.value for s in Segment]}


class AudienceTexts:
    """Tag and saved-audience texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        match error:
            case TagUsage():
                return self.tag_usage()
            case AudienceUsage():
                return self.audience_usage()
            case TagError():
                return self.bad_tag(error)
            case TagRefused():
                return self.tag_refused(error)
            case AudienceExprError():
                return self.bad_rule(error)
            case AudienceRefused():
                return self.audience_refused(error)
        return self.words.refusal(error)

    # -- tags -----------------------------------------------------------------------------

    def tag_usage(self) -> str:
        return self._(
            "Usage (admins): reply to a member's message with <code>/tag name</code> or "
            "<code>/untag name</code>, or give their user id: "
            "<code>/tag 12345 vip-prospect</code>. "
            "<code>/tags</code> in reply shows a member's tags."
        )

    def bad_tag(self, error: TagError) -> str:
        why = {
            TagProblem.EMPTY: self._("the name is empty"),
            TagProblem.TOO_LONG: self._("at most {n} characters", n=MAX_TAG),
            TagProblem.BAD_CHARACTERS: self._("use letters, digits and _ : . - only, no spaces"),
        }[error.problem]
        return self._("❌ Not a tag name: {why}. Example: {example}", why=why,
                      example=code("vip-prospect"))  # fmt: skip

    def tag_refused(self, error: TagRefused) -> str:
        if error.reason is TagRefusal.TOO_MANY:
            return self._("❌ This member has too many tags already; remove one with /untag first.")
        return self._(
            "❌ User {id} is not a member of this group that I know of. Nothing was changed.",
            id=code(str(error.user_id)),
        )

    def tagged(self, name: str, done: Tagged) -> str:
        if not done.changed:
            return self._("{name} already has the tag {tag}.", name=self.words.name(name),
                          tag=code(done.tag))  # fmt: skip
        return self._("🏷 Tagged {name}: {tag}", name=self.words.name(name), tag=code(done.tag))

    def untagged(self, name: str, done: Tagged) -> str:
        if not done.changed:
            return self._("{name} does not have the tag {tag}.", name=self.words.name(name),
                          tag=code(done.tag))  # fmt: skip
        return self._("Removed the tag {tag} from {name}.", name=self.words.name(name),
                      tag=code(done.tag))  # fmt: skip

    def _fit(self, lines: list[str]) -> str:
        """The lines that fit one Telegram message (4,096 characters), then how many more."""
        kept: list[str] = []
        size = 0
        for i, line in enumerate(lines):
            if size + len(line) + 1 > FIT:
                more = self._n("… and {n} more", "… and {n} more", len(lines) - i)
                return "\n".join([*kept, more])
            kept.append(line)
            size += len(line) + 1
        return "\n".join(kept)

    def tags(self, name: str, found: list[TagRecord]) -> str:
        if not found:
            return self._("{name} has no tags.", name=self.words.name(name))
        rule = self._("(from orders)")
        lines = [self._("🏷 Tags of {name}:", name=self.words.name(name))]
        lines += [
            f"• {code(t.tag)}" + (f" {rule}" if t.source is TagSource.RULE else "") for t in found
        ]
        return self._fit(lines)

    # -- saved audiences ------------------------------------------------------------------

    def audience_usage(self) -> str:
        return self._(
            "Saved audiences (admins):\n"
            "<code>/audience save winback stage=dormant and spend&gt;0</code>\n"
            "<code>/audience list</code> · <code>/audience show winback</code> · "
            "<code>/audience delete winback</code>\n"
            "Rules: stage=new|active|silent|dormant|left, rfm=at_risk, tier&gt;=Premium, "
            "tag=vip, orders&gt;=2, spend&gt;=500, last_order&gt;30d, invited&gt;=3, lang=zh, "
            "joined&lt;7d, active&gt;30d, checkin&lt;1d, points&gt;=100; combine with and, or, "
            "not and parentheses. Use one in a broadcast: <code>/broadcast @winback</code>."
        )

    def bad_rule(self, error: AudienceExprError) -> str:
        token = code(error.token)
        why = {
            AudienceProblem.UNKNOWN_RULE: self._("I don't know the rule {token}.", token=token),
            AudienceProblem.BAD_VALUE: self._("The value in {token} is not one I can use.",
                                              token=token),
            AudienceProblem.UNKNOWN_TIER: self._("This group has no tier named {token}.",
                                                 token=token),
            AudienceProblem.SYNTAX: self._("The rule doesn't read right near {token} "
                                           "(check and / or / not and parentheses).",
                                           token=token),
            AudienceProblem.TOO_LONG: self._("The rule is too long."),
        }[error.problem]  # fmt: skip
        rule = RULE.match(error.token)
        field = rule["field"].lower() if rule else ""
        if error.problem is AudienceProblem.BAD_VALUE and field in CHOICES:
            why = self.words.then(why, self._(
                "{field} is one of: {values}.", field=field, values=", ".join(CHOICES[field])
            ))  # fmt: skip
        return "❌ " + why + "\n" + self._("Send /audience for the rules.")

    def audience_refused(self, error: AudienceRefused) -> str:
        name = code(error.name)
        if error.reason is AudienceRefusal.BAD_NAME:
            return self._(
                "❌ Not an audience name: {name}. Use up to 32 letters, digits, _ or -, "
                "e.g. {example}.",
                name=name,
                example=code("winback"),
            )
        if error.reason is AudienceRefusal.TOO_MANY:
            return self._("❌ This group has too many saved audiences; delete one first.")
        return self._("❌ No saved audience named {name} in this group. /audience list shows them.",
                      name=name)  # fmt: skip

    def preview(self, p: Preview) -> str:
        head = self._n(
            "👥 {name}: {n} member who started me matches {rule}",
            "👥 {name}: {n} members who started me match {rule}",
            p.count,
            name=code(p.name or ""),
            rule=code(p.rule),
        )
        if not p.sample:
            return head
        more = self._("e.g. {names}", names=self._(", ").join(self.words.name(n) for n in p.sample))
        return head + "\n" + more

    def saved(self, p: Preview, new: bool) -> str:
        said = self._("✅ Saved.") if new else self._("✅ Replaced.")
        return self.words.then(said, self.preview(p))

    def audience_list(self, saved: list[SavedAudience]) -> str:
        if not saved:
            return self._("No saved audiences yet. Save one: {example}",
                          example=code("/audience save winback stage=dormant"))  # fmt: skip
        lines = [self._("👥 Saved audiences:")]
        lines += [f"• {code(a.name)} — {code(_short(a.rule))}" for a in saved]
        return self._fit(lines)

    def deleted(self, name: str) -> str:
        return self._("🗑 Deleted the audience {name}.", name=code(name))
