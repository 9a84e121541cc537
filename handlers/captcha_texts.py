"""What the join captcha says: the group's prompt, its buttons, and the answers to a tap."""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

from campaigns.access import AccessDenied
from campaigns.captcha import CaptchaKind, CaptchaStatus, prompt_name
from campaigns.services.captcha import NotYourCaptcha, Prompt, PromptLine, RequestCheck
from campaigns.services.raids import RaidStatus, Switched
from handlers.words import Words


class CaptchaTexts:
    """Join-captcha texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        match error:
            case NotYourCaptcha():
                return self.not_yours()
            case AccessDenied():
                return self.words.access_denied(error)
        return self.words.refusal(error)

    def not_yours(self) -> str:
        return self._("🙏 This question is for another newcomer.")

    def _line(self, n: int, line: PromptLine) -> str:
        name, captcha = self.words.name(prompt_name(line.name)), line.captcha
        if captcha.kind is CaptchaKind.SUM:
            return self._("{n}. {name}: how much is {question}?", n=n, name=name,
                          question=captcha.question)  # fmt: skip
        if captcha.kind is CaptchaKind.EMOJI:
            return self._("{n}. {name}: tap {question}", n=n, name=name, question=captcha.question)
        return self._("{n}. {name}: tap ✅", n=n, name=name)

    def prompt(self, prompt: Prompt) -> str:
        head = self._(
            "👋 Welcome! Before you can write here, tap the right answer in your own row "
            "within {minutes} min:",
            minutes=prompt.minutes,
        )
        lines = [self._line(n, line) for n, line in enumerate(prompt.lines, 1)]
        more = []
        if prompt.waiting:
            more.append(
                self._n(
                    "…and {n} more newcomer: their question comes in the next message.",
                    "…and {n} more newcomers: their questions come in the next message.",
                    prompt.waiting,
                )
            )
        return "\n".join([head, *lines, *more])

    @staticmethod
    def option(n: int, option: str) -> str:
        return f"{n} · {option}"

    def passed(self) -> str:
        return self._("✅ Thank you, welcome! You can write now.")

    def answered(self, status: CaptchaStatus, ban_minutes: int, *, refused: bool) -> str:
        """The newcomer's own answer, as decided: right (and whether Telegram let the bot lift
        the restriction), wrong, or too late."""
        if status is CaptchaStatus.PASSED:
            if refused:
                return self._(
                    "✅ Right answer, but Telegram did not let me lift your restriction: the "
                    "admins have been told."
                )
            return self.passed()
        if status is CaptchaStatus.EXPIRED:
            return self._(
                "⌛ Time was up. You may join again in {minutes} min.", minutes=ban_minutes
            )
        return self.failed(ban_minutes)

    def failed(self, minutes: int) -> str:
        return self._(
            "❌ That was not the right answer. You may join again in {minutes} min.",
            minutes=minutes,
        )

    def decided(self) -> str:
        return self._("This question was answered already.")

    def raid_status(self, status: RaidStatus) -> str:
        if status.on_since is not None:
            since = status.on_since.astimezone(ZoneInfo(status.timezone))
            head = self._(
                "🚨 Raid mode has been on since {time}.", time=since.strftime("%m-%d %H:%M")
            )
        elif status.rules_joins == 0:
            head = self._("🛡 Raid mode is off and does not switch on by itself (raid_joins 0).")
        else:
            head = self._(
                "🛡 Raid mode is off. It switches on at {joins} joins within {seconds} s.",
                joins=status.rules_joins,
                seconds=status.rules_seconds,
            )
        held = self._n(
            "{n} member held for an admin's approval.",
            "{n} members held for an admin's approval.",
            status.held,
        )
        names = [
            self._("• {name} (id {id})", name=html.escape(h.name, quote=False),
                   id=h.captcha.user_id)
            for h in status.first_held
        ]  # fmt: skip
        waiting = self._n(
            "{n} newcomer waits for their question (restricted, their time not started).",
            "{n} newcomers wait for their question (restricted, their time not started).",
            status.waiting,
        )
        pending = self._n(
            "{n} captcha pending in all (asked or waiting).",
            "{n} captchas pending in all (asked or waiting).",
            status.pending,
        )
        captcha = [self._("🛡 Captcha status:"), waiting, pending] if status.captcha else []
        return "\n".join([head, held, *names, *captcha])

    def raid_usage(self) -> str:
        return self._(
            "Use /raid status, /raid on, /raid off, or /raid approve (in reply to a member's "
            "join, with user ids, or all)."
        )

    def raid_already(self, on: bool) -> str:
        return self._("Raid mode is on already.") if on else self._("Raid mode is off already.")

    def raid_group_notice(self, on: bool) -> str:
        """What the group sees: once when raid mode goes on, once when it goes off."""
        if on:
            return self._(
                "🛡 Raid mode is on: many people joined at once. New members can read but "
                "not write until an admin lets them in."
            )
        return self._("✅ Raid mode is off: new members are welcome again as usual.")

    def raid_admin(self, switched: Switched) -> str:
        """What the admins hear privately when raid mode goes on or off."""
        group = html.escape(switched.title or "", quote=False)
        if switched.on:
            why = (
                self._("switched on by an admin")
                if switched.by is not None
                else self._("{joins} or more joins within {seconds} s",
                            joins=switched.burst_joins, seconds=switched.burst_seconds)
            )  # fmt: skip
            return self._(
                "🚨 Raid mode is on in <b>{group}</b> ({why}). Everyone who joins now is "
                "muted and removed after {hold} min unless you let them in: /raid approve in "
                "the group, in reply to their join, with their user ids, or all. Referral "
                "rewards and welcome messages wait. It ends by itself after {calm} calm "
                "minutes, or with /raid off.",
                group=group, why=why, hold=switched.hold_minutes, calm=switched.calm_minutes,
            )  # fmt: skip
        why = (
            self._("switched off by an admin")
            if switched.by is not None
            else self._("{calm} minutes without a join", calm=switched.calm_minutes)
        )
        held = self._n(
            "{n} member is still held: /raid approve all lets them in, else they are removed "
            "when their hold runs out.",
            "{n} members are still held: /raid approve all lets them in, else they are removed "
            "when their hold runs out.",
            switched.held,
        )
        lines = [self._("✅ Raid mode is off in <b>{group}</b> ({why}).", group=group, why=why)]
        return "\n".join([*lines, held] if switched.held else lines)

    def raid_switched(self, switched: Switched) -> str:
        """The reply to `/raid on|off` in the group."""
        if switched.on:
            return self._(
                "🚨 Raid mode is on. New members are muted and removed after {hold} min unless "
                "an admin lets them in with /raid approve. It ends after {calm} calm minutes.",
                hold=switched.hold_minutes,
                calm=switched.calm_minutes,
            )
        return self.raid_group_notice(False)

    def approved(self, n: int, refused: int, left: int, *, named: bool) -> str:
        """The reply to `/raid approve`: who was let in, whom Telegram refused (the admins are
        told which right), and how many still wait after a batch of `all`."""
        if n == 0 and refused == 0:
            return (
                self._("None of them is held or waiting for the captcha.")
                if named
                else self._("Nobody is held or waiting for the captcha right now.")
            )
        lines = []
        if n:
            lines.append(self._n("✅ {n} person let in.", "✅ {n} people let in.", n))
        if refused:
            lines.append(
                self._n(
                    "⚠️ Telegram refused to let {n} person in: the admins have been told "
                    "which right I lack.",
                    "⚠️ Telegram refused to let {n} people in: the admins have been told "
                    "which right I lack.",
                    refused,
                )
            )
        if left:
            lines.append(
                self._n(
                    "{n} more still waits: send /raid approve all again.",
                    "{n} more still wait: send /raid approve all again.",
                    left,
                )
            )
        return "\n".join(lines)

    def request_question(self, check: RequestCheck) -> str:
        """The private question for a join request."""
        captcha = check.captcha
        group = html.escape(check.title or "", quote=False)
        if captcha.kind is CaptchaKind.SUM:
            ask = self._("How much is {question}?", question=captcha.question)
        elif captcha.kind is CaptchaKind.EMOJI:
            ask = self._("Tap {question}.", question=captcha.question)
        else:
            ask = self._("Tap ✅.")
        return self._(
            "👋 You asked to join <b>{group}</b>. To be let in, answer within {minutes} min: "
            "{ask}",
            group=group, minutes=check.minutes, ask=ask,
        )  # fmt: skip

    def request_held(self, check: RequestCheck) -> str:
        return self._(
            "👋 Your request to join <b>{group}</b> waits for an admin: many people are "
            "joining at once right now.",
            group=html.escape(check.title or "", quote=False),
        )

    def request_outcome(self, title: str | None, status: CaptchaStatus, *, refused: bool) -> str:
        """The private question (or the note that a request waits for an admin), edited once
        decided; a decision Telegram refused to carry out is not called done."""
        group = html.escape(title or "", quote=False)
        if status is CaptchaStatus.PASSED and refused:
            return self._(
                "✅ Thank you. An admin of <b>{group}</b> still has to approve your request.",
                group=group,
            )
        if status is CaptchaStatus.PASSED:
            return self._("✅ Welcome! Your request to join <b>{group}</b> is approved.",
                          group=group)  # fmt: skip
        if status is CaptchaStatus.FAILED:
            return self._(
                "❌ That was not the right answer: your request to join <b>{group}</b> was "
                "declined. You may ask again.",
                group=group,
            )
        return self._(
            "⌛ Time is up: your request to join <b>{group}</b> was declined. You may ask again.",
            group=group,
        )
