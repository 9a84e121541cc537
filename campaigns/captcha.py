"""Join captcha and raid mode, as plain rules: nothing here talks to Telegram or storage.

- `Challenge` is what a newcomer must answer: press the one button (`button`), pick the sum
  of two small numbers among four (`sum`), or tap the named emoji among four (`emoji`). It is
  made from an injectable random source, so tests and replays are deterministic.
- `CaptchaStatus` and `next_status` are the one home of a pending captcha's life: pending,
  then passed, failed or expired, once (storage makes each move a conditional UPDATE).
- `raid_should_start` / `raid_should_end` decide raid mode from the joins counted within the
  window (counted by storage from the join log, so every process sees the same burst) and the
  calm time since.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

OPTIONS = 4  # buttons per challenge
NAME_IN_PROMPT = 24  # characters of a newcomer's name on a prompt: 25 lines stay far below
# Telegram's 4,096 (names are up to 129 characters, and an emoji counts twice)
MAX_PROMPT_BUTTONS = 100  # Telegram's limit on one message's inline keyboard
EMOJI = ("🍎", "🍌", "🍇", "🍉", "🍒", "🍋", "🥕", "🌽", "🐶", "🐱", "🐼", "🦊", "⭐", "🌙")
EMOJI_NAMES = {
    "🍎": "apple",
    "🍌": "banana",
    "🍇": "grapes",
    "🍉": "watermelon",
    "🍒": "cherries",
    "🍋": "lemon",
    "🥕": "carrot",
    "🌽": "corn",
    "🐶": "dog",
    "🐱": "cat",
    "🐼": "panda",
    "🦊": "fox",
    "⭐": "star",
    "🌙": "moon",
}


class CaptchaKind(StrEnum):
    """The question a newcomer is asked (`/set captcha_kind`), or, during a raid, no question:
    an admin's approval (`APPROVAL`, never a `/set` choice)."""

    BUTTON = "button"
    SUM = "sum"
    EMOJI = "emoji"
    APPROVAL = "approval"


ASKABLE = (CaptchaKind.BUTTON, CaptchaKind.SUM, CaptchaKind.EMOJI)  # what /set may choose


class CaptchaStatus(StrEnum):
    """A pending captcha's life; only PENDING moves, and only once."""

    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"
    EXPIRED = "expired"
    LEFT = "left"  # the member left before it was decided: closed, nothing done


class RandomSource(Protocol):
    """What a challenge needs of randomness (random.Random fits; tests pass a seeded one)."""

    def randint(self, a: int, b: int) -> int: ...

    def shuffle(self, x: list[str]) -> None: ...


@dataclass(frozen=True)
class Challenge:
    """The question and its four options (one for `button`); `answer` is the index of the
    right option, which is all that is stored (with a hash of its label, see answer_hash)."""

    kind: CaptchaKind
    question: str  # "3+4" for a sum, the emoji for `emoji`, "" for a button
    options: tuple[str, ...]
    answer: int

    @property
    def right(self) -> str:
        return self.options[self.answer]


def make_challenge(kind: CaptchaKind, rng: RandomSource | None = None) -> Challenge:
    """A fresh challenge of `kind` with distinct options in random order."""
    rng = rng or random.SystemRandom()
    if kind is CaptchaKind.BUTTON:
        return Challenge(kind, "", ("✅",), 0)
    if kind is CaptchaKind.SUM:
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        right = str(a + b)
        wrong: list[str] = []
        while len(wrong) < OPTIONS - 1:
            guess = str(rng.randint(2, 18))
            if guess != right and guess not in wrong:
                wrong.append(guess)
        options = [right, *wrong]
        rng.shuffle(options)
        return Challenge(kind, f"{a}+{b}", tuple(options), options.index(right))
    pool = list(EMOJI)
    rng.shuffle(pool)
    options = pool[:OPTIONS]
    target = options[rng.randint(0, OPTIONS - 1)]
    return Challenge(kind, target, tuple(options), options.index(target))


def answer_hash(salt: str, option: int) -> str:
    """What storage keeps of the right option: a hash, so reading the table (or a log) does not
    give the answer away to someone who can also forge a tap."""
    return hashlib.sha256(f"{salt}:{option}".encode()).hexdigest()[:32]


def is_right(stored_hash: str, salt: str, option: int) -> bool:
    """Whether the tapped option is the right one."""
    return 0 <= option < OPTIONS and answer_hash(salt, option) == stored_hash


def next_status(
    status: CaptchaStatus, *, right: bool | None, now: dt.datetime, deadline: dt.datetime | None
) -> CaptchaStatus | None:
    """Where a captcha goes: a tap (`right` True/False) before the deadline passes or fails
    it; a look at it after the deadline (`right` None, or a tap too late) expires it. None:
    nothing changes (already decided, or still waiting). A captcha no prompt has shown yet has
    no deadline (its minutes start when it is shown) and never expires."""
    if status is not CaptchaStatus.PENDING:
        return None
    if deadline is not None and now >= deadline:
        return CaptchaStatus.EXPIRED
    if right is None:
        return None
    return CaptchaStatus.PASSED if right else CaptchaStatus.FAILED


def may_answer(tapper_id: int, member_id: int) -> bool:
    """Only the joining member answers their own captcha (an admin lets them in with /raid
    approve, ↩️ under /modlog, or by unmuting them in Telegram)."""
    return tapper_id == member_id


@dataclass(frozen=True)
class RaidRules:
    """When a join burst turns raid mode on, how long it stays on once calm, and how long a
    member who joins during it is held for an admin's approval before being removed."""

    joins: int = 10  # this many joins …
    seconds: int = 60  # … within this many seconds (0 joins: never by itself)
    calm_minutes: int = 30
    hold_minutes: int = 60


def burst_since(at: dt.datetime, rules: RaidRules) -> dt.datetime:
    """The window a join at `at` is counted in: joins after this instant, up to `at`."""
    return at - dt.timedelta(seconds=rules.seconds)


def in_burst(joined: dt.datetime, at: dt.datetime, rules: RaidRules) -> bool:
    """Whether a join at `joined` counts towards the burst seen at `at`."""
    return burst_since(at, rules) < joined <= at


def burst_size(joins: list[tuple[int, dt.datetime]], at: dt.datetime, rules: RaidRules) -> int:
    """The burst seen at `at`: how many different people joined within its window (one
    account joining and leaving ten times is not ten people). Storage counts the same from
    the join log; a storage test holds it to this."""
    return len({user for user, joined in joins if in_burst(joined, at, rules)})


def raid_should_start(joins_in_window: int, rules: RaidRules) -> bool:
    """A burst: at least `joins` joins within the window."""
    return rules.joins > 0 and joins_in_window >= rules.joins


def raid_should_end(
    *, on_since: dt.datetime | None, last_join: dt.datetime | None, now: dt.datetime,
    rules: RaidRules,
) -> bool:  # fmt: skip
    """Raid mode ends itself after `calm_minutes` without a join (counted from when it went
    on, if nobody joined since)."""
    if on_since is None:
        return False
    quiet_from = max(on_since, last_join) if last_join is not None else on_since
    return now - quiet_from >= dt.timedelta(minutes=rules.calm_minutes)


def prompt_name(name: str) -> str:
    """A newcomer's name as a prompt shows it: cut to NAME_IN_PROMPT characters."""
    return name if len(name) <= NAME_IN_PROMPT else name[: NAME_IN_PROMPT - 1] + "…"


def prompt_page(member_ids: list[int]) -> tuple[list[int], int]:
    """The newcomers one batched prompt can show (each needs up to OPTIONS buttons; Telegram
    allows 100 on a message), and how many wait for the next prompt."""
    room = MAX_PROMPT_BUTTONS // OPTIONS
    return member_ids[:room], max(0, len(member_ids) - room)
