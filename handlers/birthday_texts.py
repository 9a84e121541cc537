"""What /birthday says."""

from __future__ import annotations

from campaigns.birthdays import BirthdayProblem, BirthdayRefused
from campaigns.services.birthdays import Birthday
from handlers.words import Words

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


class BirthdayTexts:
    """Birthday texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._ = language, self.words._

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, BirthdayRefused):
            return self.refused(error)
        return self.words.refusal(error)

    def date(self, month_day: str) -> str:
        """A stored "03-05" as people read it: 3月5日, March 5."""
        month, day = (int(part) for part in month_day.split("-"))
        if self.language.startswith("zh"):
            return f"{month}月{day}日"
        return f"{MONTHS[month - 1]} {day}"

    def shown(self, birthday: Birthday | None) -> str:
        if birthday is None:
            return self._(
                "🎂 You have not told me your birthday yet. Send <code>/birthday 03-05</code> "
                "(month-day) and the groups that run the birthday journey will send you a gift "
                "on the day. It can be set only once."
            )
        return self._(
            "🎂 Your birthday: {date}. Gifts on it from {year} on.",
            date=self.date(birthday.month_day),
            year=birthday.counts_from,
        )

    def saved(self, birthday: Birthday) -> str:
        if birthday.waited:
            return self._(
                "🎂 Saved: {date}. Groups that run the birthday journey will send you a gift "
                "on the day, from {year} on (a birthday set within 30 days before it counts "
                "from the next year).",
                date=self.date(birthday.month_day),
                year=birthday.counts_from,
            )
        return self._(
            "🎂 Saved: {date}. Groups that run the birthday journey will send you a gift on "
            "the day, from {year} on.",
            date=self.date(birthday.month_day),
            year=birthday.counts_from,
        )

    def cleared(self, display_name: str) -> str:
        """Said in the group: the date itself stays private."""
        return self._(
            "🗑 {name}'s birthday is cleared: they may set it again with /birthday in a "
            "private chat with me.",
            name=self.words.name(display_name),
        )

    def refused(self, err: BirthdayRefused) -> str:
        p = err.problem
        if p is BirthdayProblem.NOT_A_DATE:
            return self._(
                "That is not a date I can read. Send your birthday as month-day, e.g. "
                "<code>/birthday 03-05</code> or <code>/birthday 3月5日</code>."
            )
        if p is BirthdayProblem.ALREADY_SET:
            return self._(
                "Your birthday is already set: {date}. It can be set only once; an admin of "
                "your group can clear it if it is wrong.",
                date=self.date(err.value),
            )
        if p is BirthdayProblem.NOT_SET:
            return self._("That member has not set a birthday.")
        if p is BirthdayProblem.IN_PRIVATE:
            return self._(
                "🎂 Birthdays are personal: send it to me privately, e.g. "
                "<code>/birthday 03-05</code> in a private chat with me."
            )
        return self._(
            "In the group, reply to a message of the member whose birthday you want to clear "
            "with <code>/birthday clear</code> (admins only)."
        )
