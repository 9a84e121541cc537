"""Whole numbers as people type them into a chat.

Python's `int()` also reads Arabic-Indic and other scripts' digits, and NFKC turns `²` into
`2`: a mistyped superscript must not become an amount or a setting. Accepted: ASCII digits and
the full-width digits a Chinese keyboard types (`１２`), with an optional sign.
"""

from __future__ import annotations

import re
import unicodedata

WHOLE = re.compile(r"[+-]?[0-9]{1,19}", re.ASCII)


def typed_digits(text: str) -> bool:
    """Every digit in `text` is one a person types for a number (ASCII or full-width)."""
    return all(
        "0" <= ch <= "9" or "０" <= ch <= "９" for ch in text if ch.isdigit() or ch.isnumeric()
    )


def read_int(text: str) -> int:
    """`text` as a whole number; ValueError for anything else (other scripts' digits,
    superscripts, underscores, decimals, empty)."""
    if not typed_digits(text):
        raise ValueError(f"not a typed number: {text!r}")
    normal = unicodedata.normalize("NFKC", text).strip()
    if WHOLE.fullmatch(normal) is None:
        raise ValueError(f"not a whole number: {text!r}")
    return int(normal)
