"""LOG_FORMAT: text by default; json gives one parseable object per line."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from pydantic import ValidationError

from bot.logs import JsonFormatter
from bot.settings import Settings, describe


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("growthbot.x", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def test_a_json_line_is_one_line_whatever_the_message_holds():
    line = JsonFormatter().format(record("签到 %s\nsecond line", "Alice"))

    parsed = json.loads(line)
    assert "\n" not in line
    assert parsed["message"] == "签到 Alice\nsecond line"
    assert (parsed["level"], parsed["logger"]) == ("WARNING", "growthbot.x")


def test_the_error_handlers_ids_and_a_traceback_become_fields():
    try:
        raise ValueError("boom")
    except ValueError:
        made = record("unexpected error", chat_id=-100, update_id=7, user_id=5)
        made.exc_info = sys.exc_info()

    parsed = json.loads(JsonFormatter().format(made))

    assert (parsed["update_id"], parsed["chat_id"], parsed["user_id"]) == (7, -100, 5)
    assert parsed["exception"].endswith("ValueError: boom")


def test_log_format_is_text_by_default_and_json_in_any_case():
    default = Settings(_env_file=None)  # type: ignore[call-arg]
    shouted = Settings(_env_file=None, log_format="JSON")  # type: ignore[call-arg]

    assert (default.log_format, shouted.log_format) == ("text", "json")
    with pytest.raises(ValidationError) as err:
        Settings(_env_file=None, log_format="yaml")  # type: ignore[call-arg]
    assert describe(err.value) == "invalid setting LOG_FORMAT: Input should be 'text' or 'json'"
