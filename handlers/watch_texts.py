"""What /watch says, and the watch-word alert (舆情) the admins get privately."""

from __future__ import annotations

import html

from campaigns.keywords import KEYWORD_MAX, KeywordProblem, KeywordRefused
from campaigns.listening import ListenSettings
from campaigns.services.watch import WatchChange
from campaigns.watch import MAX_WORDS, WatchProblem, WatchRefused
from handlers.words import Words


def code_list(words: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"<code>{html.escape(w)}</code>" for w in words)


def keyword_problem(words: Words, err: KeywordRefused) -> str:
    """Why a typed keyword (a watch word, a FAQ keyword) cannot be one."""
    value = f"<code>{html.escape(err.value)}</code>"
    if err.problem is KeywordProblem.TOO_LONG:
        return words._("{value} is longer than {limit} characters.", value=value, limit=err.limit)
    return words._("{value} has no letter or digit to look for.", value=value)


class WatchTexts:
    """Watch-word texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, WatchRefused):
            return self.refused(error)
        return self.words.refusal(error)

    def usage(self) -> str:
        return self._(
            "👀 Watch words (舆情): when a member's message contains one, the group's admins "
            "who started me get a private alert with a link to it (at most one per member an "
            "hour).\n"
            "<code>/watch add 投诉, 退款, refund</code> — add words (commas between them)\n"
            "<code>/watch remove refund</code> — remove words\n"
            "<code>/watch list</code> — the words\n"
            "<code>/set watch_alerts off</code> pauses the alerts."
        )

    def refused(self, err: WatchRefused) -> str:
        if err.problem is WatchProblem.TOO_MANY:
            return self._(
                "❌ A group can watch at most {limit} words. /watch list shows them; remove "
                "some first.",
                limit=MAX_WORDS,
            )
        if err.problem is WatchProblem.BAD_WORD and err.keyword is not None:
            return "❌ " + self.words.then(
                keyword_problem(self.words, err.keyword), self._("Nothing was changed.")
            )
        return self._(
            "❌ Which words? e.g. <code>/watch add 投诉, 退款, refund</code> (at most {limit} "
            "characters each).",
            limit=KEYWORD_MAX,
        )

    def added(self, change: WatchChange) -> str:
        lines = []
        if change.changed:
            lines.append(self._("👀 Now watching: {words}.", words=code_list(change.changed)))
        if change.unchanged:
            lines.append(self._("Already watched: {words}.", words=code_list(change.unchanged)))
        lines.append(self.counted(len(change.words)))
        return "\n".join(lines)

    def removed(self, change: WatchChange) -> str:
        lines = []
        if change.changed:
            lines.append(self._("🗑 No longer watching: {words}.", words=code_list(change.changed)))
        if change.unchanged:
            lines.append(self._("Not watched: {words}.", words=code_list(change.unchanged)))
        lines.append(self.counted(len(change.words)))
        return "\n".join(lines)

    def counted(self, n: int) -> str:
        return self._n(
            "The group watches {n} word of at most {limit}.",
            "The group watches {n} words of at most {limit}.",
            n,
            limit=MAX_WORDS,
        )

    def listing(self, words: list[str], settings: ListenSettings) -> str:
        if not words:
            return self._(
                "No watch words yet. <code>/watch add 投诉, 退款, refund</code> adds some."
            )
        lines = [self._("👀 Watch words ({n}):", n=len(words)), code_list(words)]
        if not settings.watch_alerts:
            lines.append(self._("⏸ Alerts are paused: <code>/set watch_alerts on</code>."))
        return "\n".join(lines)

    def alert(
        self,
        *,
        group: str | None,
        word: str,
        name: str,
        user_id: int,
        excerpt: str,
        link: str | None,
    ) -> str:
        """To an admin, privately: who said which word where, a short quote and the link.
        Names, titles and the quote are escaped (the member wrote them)."""
        who = f'<a href="tg://user?id={user_id}">{html.escape(name, quote=False)}</a>'
        lines = [
            self._(
                "👀 <b>Watch word</b> {word} in {group}",
                word=f"<code>{html.escape(word)}</code>",
                group=html.escape(group or "-", quote=False),
            ),
            f"{who}: “{html.escape(excerpt, quote=False)}”",
        ]
        if link is not None:
            opener = self._("Open the message")
            lines.append(f'<a href="{html.escape(link)}">{opener}</a>')
        else:
            lines.append(self._("(A basic group: Telegram gives its messages no link.)"))
        lines.append(
            self._("<i>At most one alert per member an hour. /watch list shows the words.</i>")
        )
        return "\n".join(lines)
