"""Texts for the content calendar, sequences and broadcasts."""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from zoneinfo import ZoneInfo

from campaigns.access import ButtonKind, ForeignButton
from campaigns.audience import Audience, AudienceError, ExactPoints
from campaigns.audience_expr import AudienceExprError
from campaigns.audiences import AudienceRefused
from campaigns.content import (
    ContentProblem,
    ContentRefused,
    HtmlFault,
    HtmlProblem,
    cut_units,
    plain_text,
)
from campaigns.outbox import MISSED_RUNS, BroadcastStatus, DeliveryStatus
from campaigns.ports.broadcasts import BroadcastRecord
from campaigns.ports.calendar import PostRecord, StepRecord
from campaigns.schedule import LIVE, CronField, PostStatus, ScheduleError, WhenError
from campaigns.services.broadcasts import BroadcastRefusal, BroadcastRefused, Progress
from campaigns.services.calendar import PostAction, PostRefusal, PostRefused
from handlers.audience_texts import AudienceTexts
from handlers.words import Words

PREVIEW_CHARS = 60
HTML_FAULTS_SHOWN = 5  # distinct HTML faults a refusal names (then how many more)
BUTTON = "<code>button: Shop now | https://shop.example/</code>"
WEEKDAYS_ZH = "一二三四五六日"


class CalendarTexts:
    """Texts for the content calendar and broadcasts, in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def local(self, at: dt.datetime, timezone: str) -> str:
        """A run time as the group reads it: `Tue 24 Nov 09:00` / `11月24日 周二 09:00`."""
        t = at.astimezone(ZoneInfo(timezone))
        if self.language == "zh":
            return f"{t.month}月{t.day}日 周{WEEKDAYS_ZH[t.weekday()]} {t:%H:%M}"
        return t.strftime("%a %d %b %H:%M")

    @staticmethod
    def excerpt(text: str) -> str:
        plain = plain_text(text).replace("\n", " ").strip()
        cut = plain if len(plain) <= PREVIEW_CHARS else plain[: PREVIEW_CHARS - 1] + "…"
        return html.escape(cut, quote=False)

    def options(self, pin: bool, silent: bool, replace: bool) -> str:
        marks = [
            mark
            for on, mark in (
                (pin, self._("📌 pinned")),
                (silent, self._("🔕 silent")),
                (replace, self._("♻️ replaces the previous one")),
            )
            if on
        ]
        return " · ".join(marks)

    # -- scheduled posts -------------------------------------------------------------------

    def schedule_usage(self) -> str:
        return self._(
            "Schedule a post (admins): reply to the message to post with "
            "<code>/schedule &lt;when&gt; [pin] [silent] [replace]</code>, or put the text on "
            "the lines after the command.\n"
            "When: <code>daily 09:00</code>, <code>mon,thu 20:00</code>, "
            "<code>weekdays 8:30</code>, <code>2030-12-24 09:00</code> (group time), or a cron "
            "expression such as <code>0 9 * * 1-5</code>.\n"
            "Buttons: end the text with lines like <code>button: Shop now | https://…</code>, "
            "<code>button: 🎟 Claim | coupon 12</code> or <code>button: Join | groupbuy 3</code>."
        )

    def cron_field(self, field: CronField) -> tuple[str, str, str]:
        """(the field's name, what it allows, an example expression)."""
        return {
            CronField.MINUTE: (self._("minute (1st field)"), "0–59", "30 9 * * *"),
            CronField.HOUR: (self._("hour (2nd field)"), "0–23", "0 9 * * *"),
            CronField.DAY: (self._("day of the month (3rd field)"), "1–31", "0 9 1 * *"),
            CronField.MONTH: (
                self._("month (4th field)"),
                self._("1–12 or jan–dec"),
                "0 9 1 1,7 *",
            ),
            CronField.WEEKDAY: (
                self._("day of the week (5th field)"),
                self._("0–7 (0 and 7 are Sunday, 1 is Monday) or mon–sun"),
                "0 9 * * 1-5",
            ),
        }[field]

    def when_refused(self, error: ScheduleError) -> str:
        return self.time_problem(error) + "\n" + self._("Send /schedule for help.")

    def time_problem(self, error: ScheduleError) -> str:
        """What is wrong with the time, without the pointer to /schedule's help (the
        dashboard's form is the help there)."""
        detail = html.escape(error.detail, quote=False)
        if error.reason is WhenError.BAD_CRON and error.field is not None:
            name, allowed, example = self.cron_field(error.field)
            return self._(
                "That cron expression is invalid: “{detail}” in the {field}. Use {allowed}, "
                "with ranges, lists and steps (1-5, 0,6, */2), e.g. <code>{example}</code>.",
                detail=detail,
                field=name,
                allowed=allowed,
                example=example,
            )
        return {
            WhenError.EMPTY: self._("Say when the post should go out."),
            WhenError.BAD_TIME: self._(
                "{detail} is not a valid time: use HH:MM from 00:00 to 23:59, e.g. "
                "<code>daily 09:00</code> or <code>2030-12-24 09:00</code>.",
                detail=detail,
            ),
            WhenError.BAD_CRON: self._(
                "That cron expression is invalid: {detail}. It has five fields: minute, "
                "hour, day of the month, month, day of the week, e.g. "
                "<code>0 9 * * 1-5</code>.",
                detail=detail,
            ),
            WhenError.PAST: self._("{detail} is already in the past.", detail=detail),
            WhenError.NEVER: self._("{detail} never happens.", detail=detail),
            WhenError.UNKNOWN: self._(
                "I can't read “{detail}” as a time. Try <code>daily 09:00</code>, "
                "<code>mon,thu 20:00</code>, <code>2030-12-24 09:00</code> or "
                "<code>0 9 * * 1-5</code>.",
                detail=detail,
            ),
        }[error.reason]

    def refusal(self, error: Exception) -> str | None:
        match error:
            case ScheduleError():
                return self.when_refused(error)
            case ContentRefused():
                return self.content_refused(error)
            case AudienceError():
                return self.audience_refused(error)
            case PostRefused():
                return self.post_refused(error)
            case BroadcastRefused():
                return self.broadcast_refused(error.reason)
            case AudienceRefused() | AudienceExprError():  # a saved audience named by @name
                return AudienceTexts(self.language).refusal(error)
            case ForeignButton():
                return self.foreign_button(error)
        return self.words.refusal(error)

    def content_refused(self, refused: ContentRefused) -> str:
        return self._("The post can't be saved: {detail}", detail=self.content_problem(refused))

    def preview_refused(self) -> str:
        """Telegram refused the preview; its own words are English, so they are not shown."""
        return self._("The post can't be saved: {detail}", detail=self.would_refuse())

    def would_refuse(self) -> str:
        return self._(
            "Telegram would refuse it; check its text and button lines, e.g. {example}",
            example=BUTTON,
        )

    def content_problem(self, refused: ContentRefused) -> str:
        """What is wrong with the post, in the reader's language."""
        problem = refused.problem
        if problem in {ContentProblem.TEXT_EMPTY, ContentProblem.TEXT_TOO_LONG}:
            return self._(
                "the text has {n} characters; {low} to {high} are allowed",
                n=refused.size,
                low=refused.low,
                high=refused.limit,
            )
        if problem is ContentProblem.BAD_HTML:
            # Each fault once, with how often: 4,000 stray `<` are one line, not 4,000 (the
            # refusal itself has to fit in a message).
            said = Counter(self.html_problem(p) for p in refused.html)
            faults = [
                text if n == 1 else self._("{fault} ({n} times)", fault=text, n=n)
                for text, n in said.items()
            ]
            if len(faults) > HTML_FAULTS_SHOWN:
                more = len(faults) - HTML_FAULTS_SHOWN
                faults = [*faults[:HTML_FAULTS_SHOWN], self._n("{n} more", "{n} more", more)]
            why = self._("; ").join(faults)
            return self._(
                "Telegram can't read its formatting ({why})", why=html.escape(why, quote=False)
            )
        return {
            ContentProblem.TOO_MANY_BUTTONS: self._(
                "a post has at most {limit} buttons", limit=refused.limit
            ),
            ContentProblem.BUTTON_TEXT_EMPTY: self._(
                "a button needs its text before the |, e.g. {example}", example=BUTTON
            ),
            ContentProblem.BUTTON_TEXT_TOO_LONG: self._(
                "a button's text is longer than {limit} characters", limit=refused.limit
            ),
            ContentProblem.BUTTON_TARGET: self._("a button needs a link, a coupon or a group-buy"),
            ContentProblem.BAD_BUTTON_URL: self._(
                "a button's link must start with https://, http:// or tg://"
            ),
            ContentProblem.BAD_BUTTON_ID: self._(
                "a button's coupon or group-buy id is not one of this group's "
                "(/coupon list and /groupbuy list show them), e.g. {example}",
                example="<code>button: 🎟 Claim | coupon 12</code>",
            ),
            ContentProblem.INVALID: self.would_refuse(),
        }[problem]

    def html_problem(self, problem: HtmlProblem) -> str:
        """One HTML fault as plain text (the caller escapes it); a tag's name cut short."""
        names = tuple(cut_units(name, 40) for name in problem.names[:HTML_FAULTS_SHOWN])
        first = names[0] if names else ""
        return {
            HtmlFault.UNESCAPED_AMPERSAND: self._("unescaped &"),
            HtmlFault.UNESCAPED_ANGLE: self._("unescaped < or >"),
            HtmlFault.UNSUPPORTED_TAG: self._("unsupported start tag {tag}", tag=repr(first)),
            HtmlFault.UNMATCHED_END_TAG: self._("unmatched end tag {tag}", tag=repr(first)),
            HtmlFault.UNSUPPORTED_ENTITY: self._(
                "unsupported entity {entity}", entity=f"&{first};"
            ),
            HtmlFault.UNCLOSED_TAGS: self._("unclosed tags {tags}", tags=repr(list(names))),
        }[problem.fault]

    def no_text(self) -> str:
        return self._(
            "What should the post say? Reply to a message with /schedule, or write the text on "
            "the lines after the command."
        )

    def broadcast_no_text(self) -> str:
        return self._(
            "What should the message say? Reply to a message with /broadcast, or write the "
            "text on the lines after the command."
        )

    def broadcast_discarded(self, broadcast_id: int) -> str:
        return self._("Broadcast #{id} was not sent.", id=broadcast_id)

    def draft(self, post: PostRecord, runs: list[dt.datetime]) -> str:
        lines = [
            self._(
                "🗓 Post #{id}, {when} ({timezone}). Next runs: {runs}.",
                id=post.id,
                when=html.escape(post.when.describe(), quote=False),
                timezone=post.when.timezone,
                runs=self._(", ").join(self.local(r, post.when.timezone) for r in runs),
            )
        ]
        c = post.content
        if marks := self.options(c.pin, c.silent, c.replace_previous):
            lines.append(marks)
        lines.append(self._("The preview is above. Schedule it?"))
        return "\n".join(lines)

    def preview_note(self, private: bool) -> str:
        if private:
            return self._("👀 Preview of the post (only you see this):")
        return self._("👀 Preview of the post (start a private chat with me to preview privately):")

    def save_button(self) -> str:
        return self._("✅ Schedule")

    def cancel_button(self) -> str:
        return self._("✖ Cancel")

    def scheduled(self, post: PostRecord) -> str:
        assert post.next_run_at is not None
        return self._(
            "✅ Post #{id} is scheduled. Next run: {next}. /posts lists every post.",
            id=post.id,
            next=self.local(post.next_run_at, post.when.timezone),
        )

    def draft_cancelled(self, post_id: int) -> str:
        return self._("Post #{id} was not scheduled.", id=post_id)

    def posts(self, posts: list[PostRecord]) -> str:
        if not posts:
            return self._("No scheduled posts. /schedule creates one.")
        lines = [self._("🗓 Scheduled posts:")]
        for p in posts:
            head = f"#{p.id} <code>{html.escape(p.when.describe(), quote=False)}</code>"
            if p.status == PostStatus.PAUSED:
                state = self._("⏸ paused")
            elif p.next_run_at is not None:
                state = self._("next {at}", at=self.local(p.next_run_at, p.when.timezone))
            else:
                state = self._("done")
            line = f"{head} · {state} · {self.excerpt(p.content.text)}"
            if marks := self.options(p.content.pin, p.content.silent, p.content.replace_previous):
                line += f" ({marks})"
            if p.last_outcome and p.last_outcome[0] in MISSED_RUNS:
                line += "\n  " + self._(
                    "⚠️ the run of {at} was {status}",
                    at=self.local(p.last_outcome[1], p.when.timezone),
                    status=self.run_status(p.last_outcome[0]),
                )
            lines.append(line)
        return "\n".join(lines)

    def run_status(self, status: str) -> str:
        labels: dict[str, str] = {
            DeliveryStatus.SKIPPED: self._("skipped: the bot was down past the grace window"),
            DeliveryStatus.FAILED: self._("refused by Telegram"),
            DeliveryStatus.UNCERTAIN: self._("perhaps not sent (the bot stopped while sending)"),
        }
        return labels.get(status, status)

    def skipped_notice(self, post: PostRecord, at: dt.datetime) -> str:
        return self._(
            "⚠️ Scheduled post #{id} ({text}) for {at} was skipped: the bot was down past the "
            "grace window, and a late post could confuse members. The next run is as planned.",
            id=post.id,
            text=self.excerpt(post.content.text),
            at=self.local(at, post.when.timezone),
        )

    def post_usage(self) -> str:
        return self._(
            "Usage (admins): <code>/post pause|resume|delete &lt;id&gt;</code>. /posts lists the "
            "ids."
        )

    def post_changed(self, post: PostRecord) -> str:
        if post.status == PostStatus.PAUSED:
            return self._("⏸ Post #{id} is paused.", id=post.id)
        if post.status == PostStatus.DELETED:
            return self._("🗑 Post #{id} is deleted.", id=post.id)
        assert post.next_run_at is not None
        return self._(
            "▶️ Post #{id} is running again. Next run: {next}.",
            id=post.id,
            next=self.local(post.next_run_at, post.when.timezone),
        )

    def post_refused(self, refused: PostRefused) -> str:
        """Why the action does not apply to the post as it is, and what would."""
        post_id, status, action = refused.post_id, refused.status, refused.action
        if refused.reason is PostRefusal.UNKNOWN:
            return self._("There is no post #{id} in this group. /posts lists them.", id=post_id)
        if status == PostStatus.DRAFT:
            why = self._(
                "it is a draft that was never saved. Tap ✅ Schedule under its preview, or "
                "/post delete {id}.",
                id=post_id,
            )
        elif action is PostAction.PAUSE and status == PostStatus.PAUSED:
            why = self._("it is already paused. /post resume {id} runs it again.", id=post_id)
        elif action is PostAction.RESUME and status == PostStatus.ACTIVE:
            why = self._("it is already running. /post pause {id} pauses it.", id=post_id)
        elif action is PostAction.RESUME and status == PostStatus.PAUSED:
            why = self._(
                "its time passed while it was paused. Schedule it again with /schedule; "
                "/post delete {id} removes this one.",
                id=post_id,
            )
        elif status == PostStatus.DONE:
            why = self._(
                "it has run and has no more runs. /post delete {id} removes it.", id=post_id
            )
        elif status in LIVE:
            why = self._("it is already scheduled. /posts lists it.")
        else:
            why = self._("it was cancelled. Send /schedule again.")
        return self._("Post #{id} can't do that now: {why}", id=post_id, why=why)

    # -- sequences ---------------------------------------------------------------------------

    def sequence_usage(self) -> str:
        usage = self._(
            "Welcome sequence (admins): reply to a message with "
            "<code>/sequence add &lt;day&gt; [group]</code> (or put the text on the next lines): "
            "each member who joins from now on gets it N days after joining, privately if they "
            "started me (or in the group with <code>group</code>). "
            "<code>/sequence</code> lists the steps, <code>/sequence delete &lt;id&gt;</code> "
            "removes one."
        )
        return usage + "\n" + self.name_tip()

    def step_no_text(self, day: int, group: bool) -> str:
        command = f"/sequence add {day}" + (" group" if group else "")
        return self._(
            "What should day {day} say? Reply to that message with {command}, or write the "
            "text on the lines after the command, e.g.\n{example}",
            day=day,
            command=f"<code>{command}</code>",
            example=f"<code>{command}\n" + self._("Welcome, {name}!", name="{name}") + "</code>",
        )

    def step_day_refused(self, day: str, most: int) -> str:
        return self._(
            "Day {day} is too far: a step's day is 0 (the day they join) to {most}, e.g. {example}",
            day=html.escape(day, quote=False),
            most=most,
            example="<code>/sequence add 3</code>",
        )

    def name_tip(self) -> str:
        return self._(
            "Tip: {tag} in the text becomes the member's name.", tag="<code>{name}</code>"
        )

    def steps(self, steps: list[StepRecord]) -> str:
        if not steps:
            return self._("No welcome sequence yet. /sequence add 0 starts one.")
        lines = [self._("👋 Welcome sequence:")]
        for s in steps:
            where = self._("in the group") if not s.private else self._("privately")
            lines.append(
                self._(
                    "#{id} day {day}, {where}: {text}",
                    id=s.id,
                    day=s.day,
                    where=where,
                    text=self.excerpt(s.content.text),
                )
            )
        return "\n".join(lines)

    def step_added(self, step: StepRecord) -> str:
        return self._(
            "✅ Step #{id} added: members who join from now on get it on day {day}.",
            id=step.id,
            day=step.day,
        )

    def step_deleted(self, step_id: int) -> str:
        return self._("🗑 Step #{id} removed.", id=step_id)

    def step_unknown(self, step_id: int) -> str:
        return self._("There is no step #{id} in this group.", id=step_id)

    # -- broadcasts -------------------------------------------------------------------------

    def broadcast_usage(self) -> str:
        usage = self._(
            "Broadcast (admins): reply to the message to send with "
            "<code>/broadcast [rules]</code>, or put the text on the lines after the command. "
            "It goes privately to members who started me. Rules (all must hold): "
            "<code>joined&lt;7d</code>, <code>joined&gt;30d</code>, <code>active&lt;7d</code>, "
            "<code>active&gt;30d</code>, <code>checkin&lt;1d</code>, <code>checkin&gt;7d</code>, "
            "<code>points&gt;=100</code>. You get a preview first."
        )
        saved = self._(
            "A saved audience: <code>/broadcast @winback</code> (see /audience); other rules "
            "beside it must hold too."
        )
        return usage + "\n" + saved + "\n" + self.name_tip()

    def audience(self, audience: Audience) -> str:
        rules = audience.describe()
        return self._("everyone") if rules == "all" else f"<code>{html.escape(rules)}</code>"

    def audience_refused(self, error: AudienceError) -> str:
        token = html.escape(error.token, quote=False)
        said = self._("I don't know the rule “{token}”.", token=token)
        if isinstance(error, ExactPoints):  # refused on purpose: say what to write
            said += "\n" + self._(
                "“=” would mean exactly that many; for at least, write {example}.",
                example=f"<code>points&gt;={error.points}</code>",
            )
        return said + "\n" + self._("Send /broadcast for help.")

    def nobody(self) -> str:
        return self._(
            "Nobody matches: only members who started me in a private chat can receive a broadcast."
        )

    def broadcast_draft(self, b: BroadcastRecord, count: int) -> str:
        return self._n(
            "📣 Broadcast #{id} to {n} member who started me (audience: {audience}). "
            "The preview is above. Send it?",
            "📣 Broadcast #{id} to {n} members who started me (audience: {audience}). "
            "The preview is above. Send it?",
            count,
            id=b.id,
            audience=self.audience(b.audience),
        )

    def send_button(self, count: int, held: int = 0) -> str:
        """The members it goes to; those an A/B test holds out are not among them."""
        if held:
            return self._("📣 Send to {n} ({held} held out)", n=count, held=held)
        return self._("📣 Send to {n}", n=count)

    def pause_button(self) -> str:
        return self._("⏸ Pause")

    def resume_button(self) -> str:
        return self._("▶️ Resume")

    def progress(self, p: Progress) -> str:
        b = p.broadcast
        if b.status in {BroadcastStatus.DONE, BroadcastStatus.CANCELLED}:
            took = (b.finished_at or b.created_at) - (b.started_at or b.created_at)
            head = (
                self._("✅ Broadcast #{id} finished.", id=b.id)
                if b.status == BroadcastStatus.DONE
                else self._("✖ Broadcast #{id} was cancelled.", id=b.id)
            )
            lines = [
                head,
                self._(
                    "Sent {sent} of {total} · failed {failed} (blocked me or never started) · "
                    "not sent {cancelled} · took {took} from start to finish, pauses included.",
                    sent=p.sent,
                    total=b.total,
                    failed=p.failed,
                    cancelled=p.cancelled,
                    took=self.duration(took),
                ),
            ]
        else:
            state = self._("⏸ paused") if b.status == BroadcastStatus.PAUSED else self._("sending")
            eta = p.eta
            lines = [
                self._("📣 Broadcast #{id}: {state}.", id=b.id, state=state),
                self._(
                    "Sent {sent} · failed {failed} · left {left} · ETA {eta}",
                    sent=p.sent,
                    failed=p.failed,
                    left=p.left,
                    eta=self.duration(eta) if eta is not None else "–",
                ),
            ]
        if p.held_out:
            lines.append(self._("Held out (not sent, to compare against): {n}", n=p.held_out))
        if p.uncertain:
            lines.append(
                self._(
                    "⚠️ {n} perhaps not delivered: the bot stopped while sending them; they "
                    "were not sent again.",
                    n=p.uncertain,
                )
            )
        return "\n".join(lines)

    def duration(self, span: dt.timedelta) -> str:
        seconds = int(span.total_seconds())
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        if hours:
            return self._("{h}h {m}m", h=hours, m=minutes)
        if minutes:
            return self._("{m}m {s}s", m=minutes, s=seconds)
        return self._("{s}s", s=seconds)

    def broadcast_refused(self, reason: BroadcastRefusal) -> str:
        return {
            BroadcastRefusal.UNKNOWN: self._("This broadcast no longer exists."),
            BroadcastRefusal.STATE: self._("Already done."),
            BroadcastRefusal.EMPTY: self.nobody(),
        }[reason]

    def foreign_button(self, error: ForeignButton) -> str:
        if error.kind is ButtonKind.COUPON:
            return self._(
                "❌ The button names coupon offer #{id}, which is not a live offer of this "
                "group (it may belong to another group, be a group-buy's payout, or have ended).",
                id=error.object_id,
            )
        return self._(
            "❌ The button names group-buy #{id}, which is not a deal of this group.",
            id=error.object_id,
        )

    def not_your_group(self) -> str:
        return self._("Only the group's admins can do this.")
