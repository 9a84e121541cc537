"""`growthbot groupbuy create`: a deal from the command line, optionally posted at once."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from bot.coupon_cli import UsageError
from bot.settings import Settings
from campaigns.coupons import parse_amount
from campaigns.groupbuy import Deal
from campaigns.ports import DealRecord


def add_parsers(sub: Any) -> None:
    gb = sub.add_parser("groupbuy", help="group-buy deals (拼团)")
    actions = gb.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a deal for a group")
    create.add_argument("--chat", type=int, required=True)
    create.add_argument("--title", required=True)
    create.add_argument("--description", default=None)
    create.add_argument("--price", required=True, help="price alone, major units")
    create.add_argument("--group-price", required=True, help="price in a full team")
    create.add_argument("--size", type=int, required=True, help="team size, 2 to 50")
    create.add_argument("--team-minutes", type=int, required=True)
    create.add_argument("--ends-at", required=True, help="ISO time with offset")
    create.add_argument("--stock", type=int, default=None)
    create.add_argument("--currency", default="CNY")
    create.add_argument("--post", action="store_true", help="post it in the group now")
    create.add_argument("--json", action="store_true")


def deal_from(args: argparse.Namespace) -> Deal:
    try:
        price, group_price = parse_amount(args.price), parse_amount(args.group_price)
        ends = dt.datetime.fromisoformat(args.ends_at)
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
    except ValueError as error:
        raise UsageError(str(error)) from None


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
    }


async def create(settings: Settings, args: argparse.Namespace) -> tuple[DealRecord, int | None]:
    """Store the deal; with --post, send it with its 🚀 button; returns (deal, message id)."""
    from campaigns.groupbuy import GroupBuyRefused
    from campaigns.services.chats import chat_settings
    from campaigns.services.groupbuys import create_deal, remember_deal_post
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    deal = deal_from(args)
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
            )
        except GroupBuyRefused:
            raise UsageError("--ends-at: the deal would already be over") from None
        group = await chat_settings(
            SqlUnitOfWork(sessions), chat_id=args.chat, defaults=settings.chat_defaults
        )
    finally:
        await engine.dispose()
    if not args.post:
        return stored, None
    from telegram import Bot

    from handlers.groupbuy_texts import GroupBuyTexts
    from handlers.groupbuys import deal_markup

    assert settings.telegram_bot_token
    t = GroupBuyTexts(group.language)
    async with Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url) as bot:
        message = await bot.send_message(
            args.chat,
            t.deal_post(stored, now),
            parse_mode="HTML",
            reply_markup=deal_markup(stored, t),
        )
    engine = create_engine(settings.database_url)
    try:
        await remember_deal_post(
            SqlUnitOfWork(session_factory(engine)), deal_id=stored.id, message_id=message.message_id
        )
    finally:
        await engine.dispose()
    return stored, message.message_id
