"""CSV cells a spreadsheet would run as formulas are neutralised; numbers stay numbers."""

import csv
import io

import pytest

from bot.spreadsheet import safe_cell, write_csv


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","y")', "@SUM(1)", "+1+1", "-2+3", "\t=1", "\r=1", "=", "@"],
)
def test_text_starting_like_a_formula_gets_a_leading_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Alice", "鲍勃", "a=b", " =1", "", "2026-11-16T02:00:00+00:00"])
def test_ordinary_text_is_left_alone(text):
    assert safe_cell(text) == text


@pytest.mark.parametrize("value", [-30, 0, 12, -1.5, None, True])
def test_numbers_and_empty_cells_are_never_touched(value):
    assert safe_cell(value) is value


def test_written_csv_keeps_negative_numbers_and_neutralises_names():
    out = io.StringIO()

    write_csv(out, ["user_id", "display_name", "points"], [
        {"user_id": 5, "display_name": "=1+2", "points": -30},
        {"user_id": 6, "display_name": "-Bob-", "points": 10},
    ])  # fmt: skip

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["display_name"], r["points"]) for r in rows] == [("'=1+2", "-30"), ("'-Bob-", "10")]
