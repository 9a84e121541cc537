"""`growthbot groupbuy create`: a deal from the command line, optionally posted at once."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot import arguments
from bot.coupon_cli import UsageError, amount_problem
from bot.settings import Settings
from campaigns.content import image_type
from campaigns.coupons import AmountError, parse_amount
from campaigns.groupbuys import (
    MAX_SIZE,
    MAX_TEAM_MINUTES,
    MIN_SIZE,
    Deal,
    DealField,
    DealInputError,
)
from campaigns.ports.groupbuys import DealRecord


def add_parsers(sub: Any) -> None:
    gb = sub.add_parser("groupbuy", help="group-buy deals (拼团)")
    actions = gb.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a deal for a group")
    create.add_argument("--chat", type=arguments.chat_id, required=True)
    create.add_argument("--title", required=True)
    create.add_argument("--description", default=None)
    create.add_argument("--price", required=True, help="price alone, major units")
    create.add_argument("--group-price", required=True, help="price in a full team")
    create.add_argument("--size", type=arguments.number, required=True, help="team size, 2 to 50")
    create.add_argument("--team-minutes", type=arguments.number, required=True)
    create.add_argument("--ends-at", required=True, help="ISO time with offset")
    create.add_argument("--stock", type=arguments.number, default=None)
    create.add_argument("--currency", default="CNY")
    create.add_argument("--photo", type=Path, default=None, help="JPEG, PNG or WebP, 10 MB at most")
    create.add_argument("--post", action="store_true", help="post it in the group now")
    create.add_argument("--json", action="store_true")


def deal_from(args: argparse.Namespace) -> Deal:
    try:
        price, group_price = parse_amount(args.price), parse_amount(args.group_price)
        ends = dt.datetime.fromisoformat(args.ends_at)
    except AmountError as error:
        raise UsageError(f"--price/--group-price/--ends-at: {amount_problem(error)}") from None
    except ValueError as error:
        raise UsageError(f"--price/--group-price/--ends-at: {error}") from None
    if ends.tzinfo is None:
        raise UsageError("--ends-at: give a UTC offset, e.g. 2026-12-31T23:59+08:00")
    try:
        return Deal(
            title=args.title,
            price=price,
            group_price=group_price,
            size=args.size,
            team_minutes=args.team_minutes,
            ends_at=ends.astimezone(dt.UTC),
            stock=args.stock,
            currency=args.currency.upper(),
        )
    except DealInputError as error:
        raise UsageError(DEAL_PROBLEMS.get(error.field, f"--{error.field}: not valid")) from None


DEAL_PROBLEMS = {
    DealField.SIZE: f"team size must be {MIN_SIZE} to {MAX_SIZE}",
    DealField.GROUP_PRICE: "the group price must be above 0 and below the price",
    DealField.MINUTES: f"a team lasts 1 to {MAX_TEAM_MINUTES} minutes",
    DealField.STOCK: "stock must be 1 to 1000000000",
}


PHOTO_TYPES = {".jpg", ".jpeg", ".png", ".webp"}
PHOTO_BYTES = 10 * 1024 * 1024  # Telegram's limit for a photo


def photo_from(path: Path | None) -> tuple[str, bytes] | None:
    """The photo's name and bytes, refused here rather than by Telegram at posting time."""
    if path is None:
        return None
    if path.suffix.lower() not in PHOTO_TYPES:
        raise UsageError(f"--photo: {path.name} is not a JPEG, PNG or WebP file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"--photo: {error.strerror}: {path}") from None
    if not data or len(data) > PHOTO_BYTES:
        raise UsageError(f"--photo: {path.name} has {len(data)} bytes; 1 byte to 10 MB allowed")
    if image_type(data) is None:
        raise UsageError(
            f"--photo: {path.name} is not a JPEG, PNG or WebP image (its bytes say otherwise, "
            "whatever its name); export it as one, e.g. --photo tea.jpg"
        )
    return path.name[-128:], data


def deal_json(d: DealRecord) -> dict[str, Any]:
    deal = d.deal
    return {
        "id": d.id,
        "title": deal.title,
        "price": deal.price,
        "group_price": deal.group_price,
        "currency": deal.currency,
        "size": deal.size,
        "team_minutes": deal.team_minutes,
        "ends_at": deal.ends_at.isoformat(),
        "stock": deal.stock,
        "coupon_offer": d.offer_id,
        "photo": d.photo_name,
    }


async def create(
    settings: Settings,
    args: argparse.Namespace,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> tuple[DealRecord, int | None]:
    """Store the deal; with --post, send it with its 🚀 button; returns (deal, message id).

    A 429 is waited out and the post sent then (never a second deal); a refusal for good
    raises NotPosted, naming the stored deal so it can be posted from the group.
    """
    from telegram.error import RetryAfter, TelegramError

    from campaigns.groupbuys import GroupBuyRefused
    from campaigns.services.chats import chat_settings
    from campaigns.services.groupbuys import create_deal
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    deal = deal_from(args)
    photo = photo_from(args.photo)
    if args.post and not settings.telegram_bot_token:
        raise UsageError("--post needs TELEGRAM_BOT_TOKEN (posting goes through the Bot API)")
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    now = dt.datetime.now(dt.UTC)
    try:
        try:
            stored = await create_deal(
                SqlUnitOfWork(sessions),
                chat_id=args.chat,
                deal=deal,
                description=args.description,
                at=now,
                photo=photo,
            )
        except GroupBuyRefused:
            raise UsageError("--ends-at: the deal would already be over") from None
        if not args.post:
            return stored, None
        group = await chat_settings(
            SqlUnitOfWork(sessions), chat_id=args.chat, defaults=settings.chat_defaults
        )
        from telegram.ext import Defaults, ExtBot

        from handlers.groupbuy_texts import GroupBuyTexts
        from handlers.groupbuys import post_deal

        assert settings.telegram_bot_token
        async with ExtBot(
            settings.telegram_bot_token,
            base_url=settings.telegram_api_base_url,
            defaults=Defaults(parse_mode="HTML"),
        ) as bot:
            while True:
                try:
                    message_id = await post_deal(
                        bot,
                        lambda: SqlUnitOfWork(sessions),
                        stored,
                        GroupBuyTexts(group.language),
                        chat_id=args.chat,
                        now=dt.datetime.now(dt.UTC),
                    )
                    break
                except RetryAfter as error:  # Telegram says when: wait, then send
                    seconds = retry_seconds(error)
                    print(
                        f"growthbot: group {args.chat} is rate-limited by Telegram; group-buy "
                        f"{stored.id} is saved and will be posted in {seconds:.0f} s (if you stop "
                        f"now, post it with /groupbuy post {stored.id} rather than creating "
                        "it again)",
                        file=sys.stderr,
                    )
                    await (sleep or wait)(seconds)
                except TelegramError as error:
                    raise NotPosted(stored.id, error.message) from None
    finally:
        await engine.dispose()
    return stored, message_id


async def wait(seconds: float) -> None:
    """The pause before posting again (tests replace it: no real waiting)."""
    await asyncio.sleep(seconds)


def retry_seconds(error: Any) -> float:
    """The wait a 429 asks for, in seconds (PTB gives an int or a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class NotPosted(Exception):
    """The deal is stored but Telegram refused the post for good (not a rate limit)."""

    def __init__(self, deal_id: int, reason: str) -> None:
        super().__init__(deal_id, reason)
        self.deal_id, self.reason = deal_id, reason
