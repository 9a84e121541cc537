"""Logging for `growthbot` commands: readable text by default, or one JSON object per line
(LOG_FORMAT=json) for a log shipper.

A JSON line has `time` (UTC, ISO 8601), `level`, `logger` and `message`; written while an
update is handled, or by the error handler, it also has `update_id`, `update_type`,
`chat_id` and `user_id`; with a traceback, `exception`. A formatter of our own rather than
python-json-logger: it is twenty lines, and the update's ids come from the bot's own
context variable, which that library would need a subclass for anyway.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from typing import Any

from bot.scope import CURRENT

CONTEXT_FIELDS = ("update_id", "update_type", "chat_id", "user_id")
# Loggers that would drown the bot's own lines.
QUIET = {
    "httpx": logging.WARNING,
    "apscheduler": logging.WARNING,  # the outbox ticks every second: "Running job" lines
    "alembic.runtime.plugins": logging.WARNING,
}


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON (newlines inside the message are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        scope = CURRENT.get()
        if scope is not None:
            line.update(scope.fields())
        for key in CONTEXT_FIELDS:  # the error handler's own, e.g. for a job's update
            if key in record.__dict__:
                line[key] = record.__dict__[key]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)


def reason(error: BaseException) -> str:
    """An exception as one line for an operator: its message, else its type's name (an
    empty TimeoutError says "TimeoutError", never nothing)."""
    text = " ".join(str(error).split())
    return text or type(error).__name__


def log_failure(logger: logging.Logger, error: BaseException, message: str, *args: object) -> None:
    """Log a failed step of a loop that will try again: a database that cannot be reached
    or does not answer is one line (it is weather, and may last); anything else, a bug,
    comes with its traceback."""
    from storage.engine import connection_problem

    why = connection_problem(error)
    if why is None:
        logger.error(message, *args, exc_info=error)
    else:
        logger.warning(message + ": the database: %s", *args, why)


class CutOff(logging.Filter):
    """A task cancelled because the bot is stopping is logged by some libraries (uvicorn,
    APScheduler) with the cancellation's traceback: `line` says what happened instead."""

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, asyncio.CancelledError):
            record.msg = f"{record.getMessage()}: {self.line}"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def formatter(log_format: str) -> logging.Formatter:
    """The formatter LOG_FORMAT names: "json" or "text"."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def setup_logging(level: str, log_format: str) -> None:
    """Root logging to stderr for a command; a no-op if logging is already configured."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=level, handlers=[handler])
    if log_format == "json":
        logging.captureWarnings(True)  # warnings become JSON lines too, not bare text
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
