"""What the join captcha says: the group's prompt, its buttons, and the answers to a tap."""

from __future__ import annotations

from campaigns.access import AccessDenied
from campaigns.captcha import CaptchaKind
from campaigns.services.captcha import NotYourCaptcha, Prompt, PromptLine, RaidStatus
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
        name, captcha = self.words.name(line.name), line.captcha
        if captcha.kind is CaptchaKind.SUM:
            return self._("{n}. {name}: how much is {question}?", n=n, name=name,
                          question=captcha.question)  # fmt: skip
        if captcha.kind is CaptchaKind.EMOJI:
            return self._("{n}. {name}: tap {question}", n=n, name=name, question=captcha.question)
        return self._("{n}. {name}: tap ✅", n=n, name=name)

    def prompt(self, prompt: Prompt) -> str:
        head = self._(
            "👋 Welcome! To write here, answer your own question with the buttons of your "
            "number within {minutes} min:",
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

    def failed(self, minutes: int) -> str:
        return self._(
            "❌ That was not the right answer. You may join again in {minutes} min.",
            minutes=minutes,
        )

    def decided(self) -> str:
        return self._("This question was answered already.")

    def raid_status(self, status: RaidStatus) -> str:
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
        return "\n".join([self._("🛡 Captcha status:"), waiting, pending])

    def raid_usage(self) -> str:
        return self._("Use /raid status. Raid mode itself is not available yet.")
