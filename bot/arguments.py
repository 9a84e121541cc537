"""argparse types for the whole numbers an operator types: chat ids, record ids and counts.

Each reads one whole number and refuses, in argparse's one line with exit code 2, anything the
database could not hold (a 64-bit signed integer, or the range given). What a number means to
an offer or a deal (stock of at least 1, at most 100 per member) is the domain's rule and
is said there, with the option named and an example."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from campaigns.stats import Asked

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def whole(
    what: str, example: str, low: int = INT64_MIN, high: int = INT64_MAX
) -> Callable[[str], int]:
    """A type reading a whole number from `low` to `high`; `what` names it in the error."""

    def read(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            shown = text if len(text) <= 40 else text[:37] + "..."
            raise argparse.ArgumentTypeError(
                f"{shown} is not {what}: give a whole number from {low} to {high}, e.g. {example}"
            )
        return number

    read.__name__ = what  # argparse says "invalid <name> value" for anything else
    return read


chat_id = whole("a chat id", "-1001234567890")
record_id = whole("an id", "12", 1)
number = whole("a number", "30")


def period(text: str) -> Asked:
    """--period of `stats` and `links`, read by the one parser /stats uses (7, 7d, 7天)."""
    from campaigns.stats import BadPeriod, parse_asked

    try:
        return parse_asked([text])
    except BadPeriod:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise argparse.ArgumentTypeError(f"{shown}: give 7d, 30d or 90d (or 7, 30, 90)") from None
