"""`growthbot orders import FILE.csv`: every row validated first; nothing imported from a file
with errors unless `--skip-bad`; a replayed order id changes nothing."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot import arguments
from bot.order_texts import field_error
from bot.settings import Settings
from campaigns.orders import OrderIn

COLUMNS = "external_id, member, amount, at, and optionally currency, coupons, items, category"


def add_parsers(sub: Any) -> None:
    orders = sub.add_parser("orders", help="shop orders")
    actions = orders.add_subparsers(dest="action", required=True)
    imp = actions.add_parser("import", help=f"import orders from CSV ({COLUMNS})")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--chat",
        type=arguments.chat_id,
        default=None,
        help="group for rows without chat_id (needed only when the bot is in several groups)",
    )
    imp.add_argument("--skip-bad", action="store_true", help="import the valid rows anyway")
    imp.add_argument("--json", action="store_true", help="print the report as JSON")


@dataclass
class Report:
    rows: int = 0
    imported: int = 0
    replayed: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    coupons_refused: list[dict[str, Any]] = field(default_factory=list)
    # Stored, but the member was never seen in the group: no points (a sale to someone
    # outside it, or a wrong member id); one warning per line.
    unknown_members: list[dict[str, Any]] = field(default_factory=list)


def read(path: Path, chat: int | None) -> tuple[list[tuple[int, OrderIn]], list[dict[str, Any]]]:
    """Valid rows (with their line numbers) and one error per bad field, naming the line."""
    good: list[tuple[int, OrderIn]] = []
    errors: list[dict[str, Any]] = []
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        byte = raw[error.start : error.end]
        problem = f"not UTF-8 text (byte {byte!r}): save the file as UTF-8 CSV"
        return [], [{"line": line, "field": FILE, "error": problem}]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        for line, row in enumerate(reader, start=2):
            if (order := _row(line, row, chat, errors)) is not None:
                good.append((line, order))
    except csv.Error as error:  # a field over the csv module's limit (128 KiB)
        # line_num counts the lines of the rows read: the failing row starts on the next
        problem = f"not a CSV row: {error}"
        errors.append({"line": reader.line_num + 1, "field": FILE, "error": problem})
    return good, errors


FILE = "file"  # an error that stops the reading: nothing is imported, even with --skip-bad


def _row(
    line: int, row: dict[str, Any], chat: int | None, errors: list[dict[str, Any]]
) -> OrderIn | None:
    """One row as an order, or None with its errors added."""
    data = {k.strip(): v for k, v in row.items() if k and v not in (None, "")}
    if chat is not None:
        data.setdefault("chat_id", chat)
    try:
        order = OrderIn.model_validate(data)
    except ValidationError as error:
        errors += [
            {"line": line, "field": f, "error": field_error(f, e)}
            for e in error.errors()
            for f in [".".join(map(str, e["loc"])) or "-"]
        ]
        return None
    if order.chat_id is None:
        errors.append(
            {
                "line": line,
                "field": "chat_id",
                "error": "which group? the bot is in several: add --chat or a chat_id column",
            }
        )
        return None
    return order


async def run(settings: Settings, args: argparse.Namespace) -> Report:
    from campaigns.errors import UnknownChat
    from campaigns.services.chats import active_groups
    from campaigns.services.orders import record_order
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    try:
        chat = args.chat
        if chat is None:
            groups = await active_groups(SqlUnitOfWork(sessions))
            chat = groups[0].chat_id if len(groups) == 1 else None
        good, errors = read(args.file, chat)
        report = Report(rows=len(good) + len({e["line"] for e in errors}), errors=errors)
        if (errors and not args.skip_bad) or any(e["field"] == FILE for e in errors):
            return report
        report.skipped = len({e["line"] for e in errors})
        for line, order in good:
            assert order.chat_id is not None
            try:
                result = await record_order(
                    SqlUnitOfWork(sessions),
                    order,
                    chat_id=order.chat_id,
                    source="import",
                    received_at=dt.datetime.now(dt.UTC),
                )
            except UnknownChat:
                report.errors.append({"line": line, "field": "chat_id", "error": "unknown group"})
                report.skipped += 1
                continue
            if result.stored:
                report.imported += 1
            else:
                report.replayed += 1
            if result.stored and not result.known_member:
                report.unknown_members.append(
                    {"line": line, "member": order.member, "chat_id": order.chat_id}
                )
            report.coupons_refused += [
                {"line": line, "coupon": code, "reason": reason}
                for code, reason in result.coupons_refused
            ]
    finally:
        await engine.dispose()
    return report
