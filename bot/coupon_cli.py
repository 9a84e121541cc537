"""`growthbot coupons create|post|end|report` and `growthbot export coupons`, with `--json`
output."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass
from decimal import InvalidOperation
from typing import Any

from bot import arguments
from bot.settings import Settings
from campaigns.content import plain_text
from campaigns.coupon_variants import (
    Measure,
    OfferReport,
    TermsProblem,
    TermsRefused,
    check_test,
    currency_of,
    parse_percent,
    read_variants,
    templates_of,
)
from campaigns.coupons import (
    MAX_AUDIENCE_DAYS,
    MAX_PER_MEMBER,
    MAX_STOCK,
    MAX_VALID_DAYS,
    MINOR_DIGITS,
    AmountError,
    AmountProblem,
    CouponKind,
    OfferProblem,
    OfferRefused,
    Template,
    parse_amount,
)
from campaigns.experiments import HOLDOUT, LABELS, MAX_HOLDOUT, MAX_VARIANTS, Comparison
from campaigns.ports.coupons import CouponRecord, TemplateRecord

TERMS_EXAMPLES = "满100减10, 无门槛5, 85折, 满200打9折 最高减50, ¥10 off ¥100, 15% off cap ¥50"

EXPORT_FIELDS = [
    "code", "template", "member", "status", "issued_at", "redeemed_at", "discount", "arm",
]  # fmt: skip


def add_parsers(sub: Any) -> None:
    """The `coupons` command group."""
    coupons = sub.add_parser("coupons", help="coupon offers: create one, post its claim button")
    actions = coupons.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a coupon offer for a group")
    create.add_argument("--chat", type=arguments.chat_id, required=True, help="group chat id")
    create.add_argument("--name", required=True, help="shown to members, e.g. 满199减30")
    create.add_argument("--type", choices=[k.value for k in CouponKind], default=None)
    create.add_argument("--value", default=None, help="amount off (fixed) or percent (percent)")
    create.add_argument("--min-spend", default=None, help="minimum order, in major units")
    create.add_argument("--cap", default=None, help="largest discount of a percent coupon")
    create.add_argument(
        "--variant",
        action="append",
        default=None,
        metavar="TERMS",
        help="an A/B test's variant, A first, instead of --type/--value/--min-spend/--cap: "
        "'满100减10', '85折', '¥10 off ¥100', '15%% off cap ¥50' (up to 4)",
    )
    create.add_argument(
        "--holdout",
        type=arguments.number,
        default=0,
        help="percent of an audience grant held out (0-50)",
    )
    create.add_argument(
        "--plan", type=arguments.number, default=None, help="members per arm to reach"
    )
    valid = create.add_mutually_exclusive_group()
    valid.add_argument(
        "--valid-days", type=arguments.number, default=None, help="days after claiming"
    )
    valid.add_argument("--valid-until", default=None, help="ISO time, e.g. 2026-12-31T23:59+08:00")
    create.add_argument(
        "--stock", type=arguments.number, default=None, help="total coupons (default: no limit)"
    )
    create.add_argument("--per-member", type=arguments.number, default=1)
    create.add_argument(
        "--new-members-days",
        type=arguments.number,
        default=None,
        help="only members who joined within N days",
    )
    create.add_argument("--currency", default=None, help="ISO 4217 code (default: CNY)")
    create.add_argument("--json", action="store_true", help="print the offer as JSON")
    post = actions.add_parser("post", help="post an offer with its claim button in the group")
    post.add_argument("--chat", type=arguments.chat_id, required=True)
    post.add_argument(
        "--template", type=arguments.record_id, required=True, help="offer id from `create`"
    )
    post.add_argument("--json", action="store_true")
    end = actions.add_parser("end", help="end an offer early: no more claims or grants")
    end.add_argument("--chat", type=arguments.chat_id, required=True)
    end.add_argument(
        "--template", type=arguments.record_id, required=True, help="offer id from `create`"
    )
    end.add_argument("--json", action="store_true")
    report = actions.add_parser("report", help="an offer's A/B test: each arm and comparison")
    report.add_argument("--chat", type=arguments.chat_id, required=True)
    report.add_argument(
        "--template", type=arguments.record_id, required=True, help="offer id from `create`"
    )
    report.add_argument("--json", action="store_true", help="the numbers as JSON")


@dataclass
class UsageError(Exception):
    """A wrong value on the command line; the message names the option."""

    message: str


@dataclass(frozen=True)
class OfferTerms:
    """What `coupons create` makes: the terms (A's in a test), the variants, the test."""

    template: Template
    variants: list[Template]
    holdout: int = 0
    planned: int | None = None


def terms_from(args: argparse.Namespace) -> OfferTerms:
    """The offer as typed: one set of terms (--type …) or variants (--variant …), and the
    test's holdout and planned size; UsageError names the option at fault."""
    try:
        check_test(len(args.variant or ()), args.holdout, args.plan)
    except TermsRefused as refused:
        raise UsageError(terms_refusal(refused)) from None
    if not args.variant:
        if args.type is None:
            raise UsageError("--type or --variant: give the terms, e.g. --type fixed --value 5")
        template = template_from(args)
        return OfferTerms(template, [], args.holdout, args.plan)
    if args.type is not None or any(x is not None for x in (args.value, args.min_spend, args.cap)):
        raise UsageError(
            "--variant: the variants carry the terms; leave out --type, --value, --min-spend "
            "and --cap"
        )
    try:
        terms = read_variants(args.variant)
        currency = currency_of(terms, args.currency.upper() if args.currency else None)
    except TermsRefused as refused:
        raise UsageError(terms_refusal(refused)) from None
    base = template_from(args, kind=terms[0].kind, value=terms[0].value, currency=currency)
    variants = templates_of(terms, base)
    return OfferTerms(variants[0], variants if len(variants) > 1 else [], args.holdout, args.plan)


def terms_refusal(refused: TermsRefused) -> str:
    """A variant or test option the command line cannot use, with what it takes."""
    value, label = refused.value, refused.label
    return {
        TermsProblem.UNREADABLE: f"--variant {label}: cannot read {value!r} as a discount; "
        f"write e.g. {TERMS_EXAMPLES}",
        TermsProblem.TOO_MANY: f"--variant: at most {MAX_VARIANTS} (A-D), given {refused.count}",
        TermsProblem.LABEL: f"--variant: the variant for {label} is labelled {value}; give "
        "them in order A, B, C, D (the labels may be left out)",
        TermsProblem.CURRENCY: f"--variant/--currency: different currencies ({value}); an "
        "offer has one",
        TermsProblem.HOLDOUT: f"--holdout: {value}; give a percent from 0 to {MAX_HOLDOUT}, "
        "e.g. --holdout 10",
        TermsProblem.PLAN: f"--plan: {value}; give the members per arm to reach before the "
        "test is read, e.g. --plan 400",
        TermsProblem.NO_TERMS: "--variant: give the terms, e.g. --variant '满100减10'",
    }.get(refused.problem, f"--variant: {refused.problem}")


def template_from(
    args: argparse.Namespace,
    *,
    kind: CouponKind | None = None,
    value: int | None = None,
    currency: str | None = None,
) -> Template:
    """The offer as typed: amounts in major units, percentages as percent (or, for
    variants, A's terms as read, with the offer's validity)."""
    try:
        if kind is not None and value is not None:
            min_spend, cap = 0, None
        else:
            kind = CouponKind(args.type)
            value = _value(kind, args.value or "0")
            min_spend = parse_amount(args.min_spend or "0")
            cap = parse_amount(args.cap) if args.cap is not None else None
    except AmountError as error:
        raise UsageError(f"--value/--min-spend/--cap: {amount_problem(error)}") from None
    except (ValueError, InvalidOperation) as error:
        raise UsageError(f"--value/--min-spend/--cap: {error}") from None
    until = None
    if args.valid_until is not None:
        try:
            until = dt.datetime.fromisoformat(args.valid_until)
        except ValueError:
            raise UsageError("--valid-until: use ISO 8601, e.g. 2026-12-31T23:59+08:00") from None
        if until.tzinfo is None:
            raise UsageError("--valid-until: give a UTC offset, e.g. +08:00")
    try:
        return Template(
            kind=kind,
            value=value,
            currency=currency or (args.currency or "CNY").upper(),
            min_spend=min_spend,
            cap=cap,
            valid_until=until,
            valid_days=args.valid_days,
        )
    except OfferRefused as refused:
        raise UsageError(refusal_text(refused, dt.datetime.now(dt.UTC))) from None


def _value(kind: CouponKind, typed: str) -> int:
    """--value: a percentage in basis points, else an amount in minor units (a gift's amount
    is refused by the offer's rules)."""
    if kind is not CouponKind.PERCENT:
        return parse_amount(typed)
    try:
        return parse_percent(typed)
    except ValueError:
        raise UsageError(
            f"--value: a percentage over 0 and at most 100, with at most 2 decimals, e.g. 12.5"
            f" (not {typed[:40]!r})"
        ) from None


def amount_problem(error: AmountError) -> str:
    """Money that could not be read, said with what was typed."""
    return {
        AmountProblem.NOT_AN_AMOUNT: "not an amount",
        AmountProblem.TOO_LARGE: "too large",
        AmountProblem.TOO_PRECISE: f"more than {MINOR_DIGITS} decimals",
    }[error.problem] + f": {error.raw!r}"


def offer_json(offer: TemplateRecord) -> dict[str, Any]:
    t = offer.template
    return {
        "id": offer.id,
        "name": offer.name,
        "type": str(t.kind),
        "value": t.value,
        "currency": t.currency,
        "min_spend": t.min_spend,
        "cap": t.cap,
        "valid_days": t.valid_days,
        "valid_until": t.valid_until.isoformat() if t.valid_until else None,
        "stock": offer.stock,
        "issued": offer.issued,
        "per_member": offer.per_member,
        "new_members_days": offer.audience_joined_days,
        "variants": [
            {
                "arm": arm,
                "type": str(v.kind),
                "value": v.value,
                "min_spend": v.min_spend,
                "cap": v.cap,
            }
            for arm, v in zip(LABELS, offer.variants, strict=False)
        ],
        "holdout": offer.holdout,
        "plan": offer.planned,
    }


def export_rows(coupons: list[CouponRecord], now: dt.datetime) -> list[dict[str, Any]]:
    from campaigns.services.coupons import status_at

    return [
        {
            "code": c.code,
            "template": c.offer.name,
            "member": c.user_id,
            "status": status_at(c, now),
            "issued_at": c.issued_at.isoformat(),
            "redeemed_at": c.redeemed_at.isoformat() if c.redeemed_at else None,
            "discount": c.discount,
            "arm": c.offer.arm,  # the A/B test's variant whose terms it has (None: no test)
        }
        for c in coupons
    ]


async def create(settings: Settings, args: argparse.Namespace) -> TemplateRecord:
    from campaigns.services.coupons import create_offer
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    terms = terms_from(args)
    now = dt.datetime.now(dt.UTC)
    engine = create_engine(settings.database_url)
    try:
        return await create_offer(
            SqlUnitOfWork(session_factory(engine)),
            chat_id=args.chat,
            name=args.name,
            template=terms.template,
            stock=args.stock,
            per_member=args.per_member,
            at=now,
            audience_joined_days=args.new_members_days,
            variants=terms.variants,
            holdout=terms.holdout,
            planned=terms.planned,
        )
    except OfferRefused as refused:
        raise UsageError(refusal_text(refused, now)) from None
    finally:
        await engine.dispose()


def refusal_text(refused: OfferRefused, now: dt.datetime) -> str:
    """The option at fault, what it takes, and an example."""
    later = (now + dt.timedelta(days=30)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    value = refused.value
    return {
        OfferProblem.NAME: (
            "--name: empty or over 64 characters; give the name members will see, "
            "e.g. --name '满199减30'"
        ),
        OfferProblem.EXPIRED: f"--valid-until: {value} is already past; give a future time "
        f"with its UTC offset, e.g. --valid-until {later:%Y-%m-%dT23:59%z}",
        OfferProblem.TOO_LATE: f"--valid-until: {value} is more than {MAX_VALID_DAYS} days "
        f"away; give a time within ten years, e.g. --valid-until {later:%Y-%m-%dT23:59%z}",
        OfferProblem.VALID_DAYS: f"--valid-days: {value}; give 1 to {MAX_VALID_DAYS} days "
        "after claiming, e.g. --valid-days 30",
        OfferProblem.STOCK: f"--stock: {value} coupons; give 1 to {MAX_STOCK}, "
        "e.g. --stock 100, or leave it out for no limit",
        OfferProblem.PER_MEMBER: f"--per-member: {value}; give 1 to {MAX_PER_MEMBER}, "
        "e.g. --per-member 1",
        OfferProblem.AUDIENCE: f"--new-members-days: {value}; give 1 to {MAX_AUDIENCE_DAYS}, "
        "e.g. --new-members-days 7, or leave it out for every member",
        OfferProblem.CURRENCY: f"--currency: {value} is not an ISO 4217 currency code; "
        "give one, e.g. --currency CNY or --currency USD",
        OfferProblem.GIFT_VALUE: "--value: a gift takes no money off; leave --value out and "
        "say what the gift is in --name, e.g. --type gift --name 'Free cookie'",
        OfferProblem.PERCENT: "--value: a percentage must be above 0 and at most 100",
        OfferProblem.FIXED: "--value: a fixed discount must be above 0",
        OfferProblem.MIN_SPEND: "--value: minimum spend and cap cannot be negative",
        OfferProblem.CAP: "--value: minimum spend and cap cannot be negative",
        OfferProblem.OVER_MIN_SPEND: "--value: more off than --min-spend would make every "
        "order it applies to free; give at most the minimum spend, e.g. --value 30 "
        "--min-spend 199",
    }[refused.problem]


async def post(settings: Settings, args: argparse.Namespace) -> int:
    """Send the offer with its claim button; returns the message id."""
    from telegram import Bot

    from campaigns.access import ButtonKind
    from campaigns.services.access import remember_buttons
    from campaigns.services.chats import chat_settings
    from campaigns.services.coupons import offer_of
    from handlers.coupon_texts import CouponTexts
    from handlers.coupons import claim_markup
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    if not settings.telegram_bot_token:
        raise UsageError("TELEGRAM_BOT_TOKEN is not set (posting goes through the Bot API)")
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    try:
        offer = await offer_of(
            SqlUnitOfWork(sessions),
            chat_id=args.chat,
            template_id=args.template,
            now=dt.datetime.now(dt.UTC),
        )
        group = await chat_settings(
            SqlUnitOfWork(sessions), chat_id=args.chat, defaults=settings.chat_defaults
        )
    finally:
        await engine.dispose()
    t = CouponTexts(group.language)
    async with Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url) as bot:
        message = await bot.send_message(
            args.chat,
            t.offer_post(offer, group.timezone),
            parse_mode="HTML",
            reply_markup=claim_markup(offer, t),
        )
    engine = create_engine(settings.database_url)
    try:  # the claim button is honoured on this message
        await remember_buttons(
            SqlUnitOfWork(session_factory(engine)),
            kind=ButtonKind.COUPON,
            object_id=offer.id,
            chat_id=args.chat,
            message_id=message.message_id,
            at=dt.datetime.now(dt.UTC),
        )
    finally:
        await engine.dispose()
    return message.message_id


async def end(settings: Settings, args: argparse.Namespace) -> TemplateRecord:
    """End an offer early (coupons already issued stay valid)."""
    from campaigns.services.coupons import end_offer
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    engine = create_engine(settings.database_url)
    try:
        return await end_offer(
            SqlUnitOfWork(session_factory(engine)), chat_id=args.chat, template_id=args.template
        )
    finally:
        await engine.dispose()


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


async def report(settings: Settings, args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The offer's A/B report: the chat's text in the group's language (without HTML), and
    the numbers as JSON."""
    from campaigns.services.chats import chat_settings
    from campaigns.services.coupon_variants import offer_report
    from handlers.coupon_texts import CouponTexts
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    try:
        offer, r = await offer_report(
            SqlUnitOfWork(sessions), chat_id=args.chat, template_id=args.template,
            now=dt.datetime.now(dt.UTC),
        )  # fmt: skip
        group = await chat_settings(
            SqlUnitOfWork(sessions), chat_id=args.chat, defaults=settings.chat_defaults
        )
    finally:
        await engine.dispose()
    html_text = CouponTexts(group.language).report(offer, r)
    return plain_text(html_text), report_json(offer, r)


def _comparison_json(c: Comparison) -> dict[str, Any]:
    return {
        "control_size": c.control.size,
        "control_conversions": c.control.conversions,
        "arm_size": c.variant.size,
        "arm_conversions": c.variant.conversions,
        "lift_points": c.lift_points,
        "lift_relative": c.lift_relative,
        "p_value": c.p_value,
        "method": None if c.method is None else str(c.method),
        "needed_per_arm": c.needed,
        "planned_per_arm": c.planned,
        "read_early": c.read_early,
    }


def report_json(offer: TemplateRecord, r: OfferReport) -> dict[str, Any]:
    """Every arm's counts (money in minor units, rates as fractions, intervals at 95%) and
    every comparison."""
    arms: dict[str, Any] = {}
    for arm in r.order:
        counts = r.counts(arm)
        arms[arm] = {
            "members": counts.members,
            "redeemed": counts.redeemed,
            "ordered_14d": counts.ordered,
            "gmv_14d": counts.gmv,
            "granted_to_audience": counts.granted,
            "granted_ordered_14d": counts.granted_ordered,
        }
        for measure in Measure:
            if arm == HOLDOUT and measure is Measure.REDEEMED:
                continue  # the holdout has no coupon to redeem
            result = counts.result(measure)
            arms[arm][f"{measure}_rate"] = result.rate
            arms[arm][f"{measure}_interval"] = result.interval
    return {
        "offer": offer_json(offer),
        "arms": arms,
        "tests": [
            {
                "arm": t.arm,
                "control": t.control,
                "measure": str(t.measure),
                "audience_grants_only": t.granted_only,
            }
            | _comparison_json(t.comparison)
            for t in r.tests()
        ],
        "still_counting": r.counting,
    }
