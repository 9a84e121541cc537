"""Coupon rules: money in minor units, discount math, validity, and typo-proof codes.

Money is never a float: amounts are integers in minor units (分, cents) with a currency.
Operators type major units (`199` or `199.90`), parsed exactly with Decimal.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Context, Decimal, DecimalException, Inexact, localcontext
from enum import StrEnum

from campaigns.access import parse_id
from campaigns.errors import DomainError
from campaigns.numbers import typed_digits

# Crockford's base 32: no I, L, O or U, so codes survive being read aloud and retyped.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_BODY = 9
LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
MINOR_DIGITS = 2
MAX_AMOUNT = 10**12  # minor units; far above any order, far below overflow
# ASCII digits only (after NFKC, so full-width １９９ from a Chinese keyboard counts); the
# exponent is bounded so scaling can never overflow or underflow a Decimal context.
AMOUNT = re.compile(
    r"(?P<pre>[A-Z]{3}|[¥$])?(?P<num>\+?(?:\d+(?:\.\d*)?|\.\d+)(?:E[+-]?\d{1,4})?)(?P<post>[A-Z]{3})?",
    re.ASCII,
)
SYMBOLS = {"¥": "CNY", "$": "USD"}


class CouponKind(StrEnum):
    FIXED = "fixed"  # value off, optionally above a minimum spend (满减 / 无门槛)
    PERCENT = "percent"  # value in basis points off, optionally capped
    GIFT = "gift"  # a free item; no money off


class OfferPurpose(StrEnum):
    """What an offer is for: only an operator's offer may be claimed from its posts."""

    OFFER = "offer"  # created by an operator; posted for claiming, granted, or a reward
    GROUPBUY = "groupbuy"  # pays out a deal's completed teams; never claimable by tap


class CouponState(StrEnum):
    """Where an issued coupon stands at a moment; only `active` and `used` are stored."""

    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"  # never stored: an active coupon past its expiry


class Reason(StrEnum):
    """Why a coupon cannot be used; handlers turn these into words."""

    UNKNOWN = "unknown"
    BAD_CHECK = "bad_check"
    USED = "used"
    EXPIRED = "expired"
    NOT_YET = "not_yet"
    BELOW_MIN_SPEND = "below_min_spend"
    WRONG_GROUP = "wrong_group"
    CURRENCY = "currency"  # the order is in another currency than the coupon
    NOTHING_TO_PAY = "nothing_to_pay"  # an order of 0, or already paid by other coupons
    NO_DISCOUNT = "no_discount"  # it would take nothing off what is left to pay


@dataclass
class CouponRejected(DomainError):
    reason: Reason
    detail: int = 0  # e.g. the minimum spend in minor units
    currency: str = ""  # the coupon's, when the reason involves money


class AmountProblem(StrEnum):
    """Why typed money could not be read; the command line and the order feeds say it."""

    NOT_AN_AMOUNT = "not_an_amount"
    TOO_LARGE = "too_large"  # over MAX_AMOUNT
    TOO_PRECISE = "too_precise"  # more than MINOR_DIGITS decimals


@dataclass
class AmountError(DomainError, ValueError):
    """`raw` is what was typed. A ValueError, so pydantic carries it in `ctx["error"]`."""

    problem: AmountProblem
    raw: str

    def __str__(self) -> str:
        return str(self.problem)  # the code; texts say it with `raw`


def parse_money(raw: str) -> tuple[int, str | None]:
    """`199`, `¥199.90`, `$5`, `12.5 USD` -> (minor units, the currency if it names one).

    AmountError (a ValueError) for anything else, whatever the string: never a decimal signal.
    """
    if not typed_digits(raw):  # `²` or `٣` is no amount, though NFKC or int() would read one
        raise AmountError(AmountProblem.NOT_AN_AMOUNT, raw)
    text = unicodedata.normalize("NFKC", raw).upper().replace(",", "")
    match = AMOUNT.fullmatch("".join(text.split()))
    if match is None or (match["pre"] and match["post"]):
        raise AmountError(AmountProblem.NOT_AN_AMOUNT, raw)
    value = Decimal(match["num"])  # exact: the construction ignores the context
    if value.adjusted() > len(str(MAX_AMOUNT)):
        raise AmountError(AmountProblem.TOO_LARGE, raw)
    try:
        with localcontext(Context(prec=40, traps=[Inexact])):
            minor = value.scaleb(MINOR_DIGITS)
    except DecimalException:
        raise AmountError(AmountProblem.TOO_PRECISE, raw) from None
    if minor != minor.to_integral_value():
        raise AmountError(AmountProblem.TOO_PRECISE, raw)
    if minor > MAX_AMOUNT:
        raise AmountError(AmountProblem.TOO_LARGE, raw)
    code = match["pre"] or match["post"]
    return int(minor), SYMBOLS.get(code, code) if code else None


def parse_amount(raw: str) -> int:
    """`199` or `199.9` (major units as typed) -> 19990 minor units; AmountError if not exact."""
    return parse_money(raw)[0]


def format_amount(minor: int, currency: str) -> str:
    """19990 CNY -> `¥199.90`; other currencies as `199.90 USD`."""
    major = Decimal(minor) / 10**MINOR_DIGITS
    text = f"{major:,.{MINOR_DIGITS}f}"
    return f"¥{text}" if currency == "CNY" else f"{text} {currency}"


# ISO 4217 codes in use (amounts are kept with two minor digits whatever the currency).
ISO_4217 = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG
"""
CURRENCIES = frozenset(ISO_4217.split())


MAX_OFFER_NAME = 64  # characters: coupon_templates.name, and what a button or report shows
MAX_VALID_DAYS = 3650  # a coupon valid for at most ten years after claiming
MAX_VALID_AHEAD = dt.timedelta(days=MAX_VALID_DAYS)  # an offer's end at most ten years away
MAX_STOCK = 10**9  # coupons of one offer
MAX_PER_MEMBER = 100  # coupons of one offer a member may hold
MAX_AUDIENCE_DAYS = 3650  # "joined within N days"


class OfferProblem(StrEnum):
    """Why an operator's offer cannot be created; the command line and handlers say it."""

    NAME = "name"  # empty (a button with nothing to claim), or over MAX_OFFER_NAME
    EXPIRED = "expired"  # valid until a time already past
    TOO_LATE = "too_late"  # valid until a time more than MAX_VALID_AHEAD away
    VALID_DAYS = "valid_days"  # valid for fewer than 1 or more than MAX_VALID_DAYS days
    STOCK = "stock"  # no coupon to give (0), a negative count, or over MAX_STOCK
    PER_MEMBER = "per_member"  # below 1 or over MAX_PER_MEMBER
    AUDIENCE = "audience"  # "joined within N days" with N below 1 or over MAX_AUDIENCE_DAYS
    CURRENCY = "currency"  # not an ISO 4217 code
    GIFT_VALUE = "gift_value"  # a gift takes nothing off, so an amount would mislead
    PERCENT = "percent"  # a percentage not above 0 and at most 100
    FIXED = "fixed"  # a fixed discount not above 0
    MIN_SPEND = "min_spend"  # below 0
    CAP = "cap"  # not above 0
    OVER_MIN_SPEND = "over_min_spend"  # more off than the minimum spend (满5减10)


@dataclass
class OfferRefused(DomainError, ValueError):
    problem: OfferProblem
    value: str = ""  # what was given, for the message


def check_offer(
    *,
    name: str,
    template: Template,
    stock: int | None,
    per_member: int,
    audience_joined_days: int | None,
    now: dt.datetime,
) -> None:
    """An offer members can claim: named, not over already, with stock, in a real currency,
    and a gift without an amount; OfferRefused names the first problem."""
    if not name.strip() or len(name) > MAX_OFFER_NAME:
        raise OfferRefused(OfferProblem.NAME, name[:MAX_OFFER_NAME])
    if template.kind is CouponKind.GIFT and template.value != 0:
        raise OfferRefused(OfferProblem.GIFT_VALUE, str(template.value))
    if template.currency not in CURRENCIES:
        raise OfferRefused(OfferProblem.CURRENCY, template.currency)
    if over_min_spend(template.kind, template.value, template.min_spend):
        raise OfferRefused(OfferProblem.OVER_MIN_SPEND, str(template.value))
    check_validity(template, now)
    if stock is not None and not 1 <= stock <= MAX_STOCK:
        raise OfferRefused(OfferProblem.STOCK, str(stock))
    if not 1 <= per_member <= MAX_PER_MEMBER:
        raise OfferRefused(OfferProblem.PER_MEMBER, str(per_member))
    if audience_joined_days is not None and not 1 <= audience_joined_days <= MAX_AUDIENCE_DAYS:
        raise OfferRefused(OfferProblem.AUDIENCE, str(audience_joined_days))


def over_min_spend(kind: CouponKind, value: int, min_spend: int) -> bool:
    """A fixed discount above its minimum spend (满5减10): every order it applies to would
    cost nothing, and count as an order of ¥0. (满10减10, a free item, is allowed; so is a
    no-threshold discount, whose minimum spend is 0.)"""
    return kind is CouponKind.FIXED and 0 < min_spend < value


def check_validity(template: Template, now: dt.datetime) -> None:
    """The one rule for how long an offer's coupons are valid, whoever makes it (chat or
    command line): 1 to MAX_VALID_DAYS days after claiming, until a time in the future and at
    most MAX_VALID_AHEAD away. Every expiry the bot computes then fits a datetime."""
    if template.valid_until is not None:
        if template.valid_until <= now:
            raise OfferRefused(OfferProblem.EXPIRED, template.valid_until.isoformat())
        if template.valid_until - now > MAX_VALID_AHEAD:
            raise OfferRefused(OfferProblem.TOO_LATE, template.valid_until.isoformat())
    if template.valid_days is not None and not 1 <= template.valid_days <= MAX_VALID_DAYS:
        raise OfferRefused(OfferProblem.VALID_DAYS, str(template.valid_days))


def _said(value: int) -> str:
    """A refused number as a refusal may quote it: Python will not turn an integer of more
    than 4,300 digits into text, and nobody reads one."""
    return str(value) if abs(value) < 10**30 else ("-" if value < 0 else "") + "10^30 or more"


@dataclass(frozen=True)
class Template:
    """What a coupon is worth and when it can be used; issued coupons point to one."""

    kind: CouponKind
    value: int  # minor units off (fixed) or basis points (percent); 0 for a gift
    currency: str = "CNY"
    min_spend: int = 0
    cap: int | None = None  # largest discount of a percent coupon, minor units
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    valid_days: int | None = None  # counted from issue, instead of (or within) the window

    def __post_init__(self) -> None:
        if self.kind is CouponKind.PERCENT and not 0 < self.value <= 10_000:
            raise OfferRefused(OfferProblem.PERCENT, _said(self.value))
        if self.kind is CouponKind.FIXED and self.value <= 0:
            raise OfferRefused(OfferProblem.FIXED, _said(self.value))
        if self.min_spend < 0:
            raise OfferRefused(OfferProblem.MIN_SPEND, str(self.min_spend))
        if self.cap is not None and self.cap <= 0:
            raise OfferRefused(OfferProblem.CAP, str(self.cap))

    def expires_at(self, issued_at: dt.datetime) -> dt.datetime | None:
        """The earlier of the window's end and `valid_days` after issue."""
        ends = [t for t in (self.valid_until,) if t is not None]
        if self.valid_days is not None:
            ends.append(issued_at + dt.timedelta(days=self.valid_days))
        return min(ends) if ends else None


def discount(template: Template, order: int) -> int:
    """Money off an order of `order` minor units; never more than the order itself.

    Percentages round down to the minor unit, so a coupon never gives more than it says.
    """
    if order < template.min_spend:
        raise CouponRejected(Reason.BELOW_MIN_SPEND, template.min_spend, template.currency)
    if template.kind is CouponKind.GIFT:
        return 0
    if template.kind is CouponKind.FIXED:
        return min(template.value, order)
    off = int((Decimal(order) * template.value / 10_000).to_integral_value(ROUND_FLOOR))
    if template.cap is not None:
        off = min(off, template.cap)
    return min(off, order)


def coupon_state(status: str, expires_at: dt.datetime | None, now: dt.datetime) -> CouponState:
    """The one validity rule: a used coupon stays used; an active one expires at `expires_at`
    (exclusive: at that instant it is already expired); no expiry means it never expires."""
    if status == CouponState.USED:
        return CouponState.USED
    if status != CouponState.ACTIVE:
        raise ValueError(f"not a stored coupon status: {status!r}")
    if expires_at is not None and now >= expires_at:
        return CouponState.EXPIRED
    return CouponState.ACTIVE


def reminder_due(
    status: str, expires_at: dt.datetime | None, now: dt.datetime, until: dt.datetime
) -> bool:
    """An expiry reminder is due for a coupon still active now that expires by `until`."""
    return (
        coupon_state(status, expires_at, now) is CouponState.ACTIVE
        and expires_at is not None
        and expires_at <= until
    )


def check_usable(
    template: Template,
    *,
    status: str,
    issued_at: dt.datetime,
    expires_at: dt.datetime | None,
    order: int,
    currency: str,
    now: dt.datetime,
) -> int:
    """The discount if this issued coupon can pay for the order now; CouponRejected if not.

    `order` is what is left to pay (after other coupons on the same order) and `now` is when
    the bot learns of the order, never a time the shop supplies.
    """
    now = used_at(issued_at, now)
    state = coupon_state(status, expires_at, now)
    if state is CouponState.USED:
        raise CouponRejected(Reason.USED)
    if template.valid_from is not None and now < template.valid_from:
        raise CouponRejected(Reason.NOT_YET)
    if state is CouponState.EXPIRED:
        raise CouponRejected(Reason.EXPIRED)
    if currency != template.currency:
        raise CouponRejected(Reason.CURRENCY, currency=template.currency)
    if order <= 0:
        raise CouponRejected(Reason.NOTHING_TO_PAY)
    off = discount(template, order)
    if off <= 0 and template.kind is not CouponKind.GIFT:
        raise CouponRejected(Reason.NO_DISCOUNT)
    return off


def used_at(issued_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """When a coupon counts as used: never before it was issued, whatever the clocks say."""
    return max(issued_at, now)


def in_audience(joined_at: dt.datetime | None, now: dt.datetime, joined_days: int | None) -> bool:
    """An offer for new members: joined within `joined_days` (None means everyone)."""
    if joined_days is None:
        return True
    return joined_at is not None and now - joined_at <= dt.timedelta(days=joined_days)


# -- codes -------------------------------------------------------------------------------------


def _check_char(body: str) -> str:
    """Luhn mod 32: catches every single wrong character and almost every swap of neighbours."""
    factor, total, n = 2, 0, len(ALPHABET)
    for ch in reversed(body):
        addend = factor * ALPHABET.index(ch)
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


def new_code() -> str:
    """A random code with its check character, grouped for reading: `7KQ2-M9XD-4T`.

    Luhn mod 32 misses exactly one swap of neighbours, "0Z" <-> "Z0", so codes that
    contain either pair are not handed out.
    """
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_BODY))
        code = body + _check_char(body)
        if "0Z" not in code and "Z0" not in code:
            return pretty(code)


def pretty(code: str) -> str:
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def normalize(typed: str) -> str:
    """What a member typed -> the stored form; CouponRejected if it cannot be a code."""
    raw = "".join(ch for ch in typed.upper() if ch.isalnum()).translate(LOOK_ALIKES)
    if len(raw) != CODE_BODY + 1 or any(ch not in ALPHABET for ch in raw):
        raise CouponRejected(Reason.UNKNOWN)
    if _check_char(raw[:-1]) != raw[-1]:
        raise CouponRejected(Reason.BAD_CHECK)
    return pretty(raw)


class OfferState(StrEnum):
    """Whether an offer can hand out a coupon now."""

    LIVE = "live"
    SOLD_OUT = "sold_out"
    ENDED = "ended"  # ended by an admin or past its end date


def offer_state(
    *, active: bool, valid_until: dt.datetime | None, stock: int | None, issued: int,
    now: dt.datetime, valid_days: int | None = None,
) -> OfferState:  # fmt: skip
    """The one rule for claims, posts, post buttons and /coupon list (the stock itself is
    held by a conditional UPDATE; this says what a reader sees).

    An offer stored with a validity `check_validity` refuses (made before it held, e.g. valid
    for 99,999,999 days or until the year 9999) is ended: no coupon of it could be given an
    expiry, so a claim or a post says so instead of failing."""
    if not active or (valid_until is not None and now >= valid_until):
        return OfferState.ENDED
    if (valid_until is not None and valid_until - now > MAX_VALID_AHEAD) or (
        valid_days is not None and not 1 <= valid_days <= MAX_VALID_DAYS
    ):
        return OfferState.ENDED
    if stock is not None and issued >= stock:
        return OfferState.SOLD_OUT
    return OfferState.LIVE


class CouponCommand(StrEnum):
    """Which coupon command was typed in a way that means nothing (its usage is shown)."""

    REDEEM = "redeem"  # /redeem <code> <order amount>
    COUPON = "coupon"  # /coupon post|grant|end <offer id>, /coupon list
    GRANT = "grant"  # /coupon grant away from the group, where no member's message is replied to


@dataclass
class CouponUsage(DomainError):
    """A coupon command whose words mean nothing: nothing was looked up or changed."""

    command: CouponCommand


class OfferVerb(StrEnum):
    """What `/coupon` does with an offer."""

    POST = "post"  # its claim post in the group
    GRANT = "grant"  # one coupon to the member replied to
    END = "end"  # no more claims or grants
    REPORT = "report"  # its A/B test's numbers
    LIST = "list"  # every offer of the group (no id)
    NEW = "new"  # a new offer (campaigns/coupon_variants.py: parse_new_offer)


WITH_ID = {OfferVerb.POST, OfferVerb.GRANT, OfferVerb.END, OfferVerb.REPORT}


def parse_offer_command(args: list[str]) -> tuple[OfferVerb, int | None]:
    """`/coupon list`, or `/coupon post|grant|end|report <offer id>` (the verb in any case)
    -> the verb and the offer id; CouponUsage for anything else."""
    verb = args[0].lower() if args else ""
    if verb == OfferVerb.LIST and len(args) == 1:
        return OfferVerb.LIST, None
    offer_id = parse_id(args[1]) if len(args) == 2 else None
    if offer_id is None or verb not in WITH_ID:
        raise CouponUsage(CouponCommand.COUPON)
    return OfferVerb(verb), offer_id


def parse_audience_grant(args: list[str]) -> tuple[int, str] | None:
    """`/coupon grant <offer id> @<audience>` (or `audience=<name>`) -> (offer id, the
    audience's name as typed); None when the words are not that form."""
    if len(args) != 3 or args[0].lower() != OfferVerb.GRANT:
        return None
    offer_id, name = parse_id(args[1]), args[2]
    for prefix in ("@", "audience="):
        if name.lower().startswith(prefix) and len(name) > len(prefix) and offer_id is not None:
            return offer_id, name[len(prefix) :]
    return None


def parse_redeem(args: list[str]) -> tuple[str, int, str | None]:
    """`/redeem <code> <order amount>` -> (the code as typed, which may contain spaces; the
    order in minor units; its currency if the amount names one); CouponUsage otherwise."""
    try:
        order, currency = parse_money(args[-1]) if args else (0, None)
    except ValueError:
        raise CouponUsage(CouponCommand.REDEEM) from None
    code = " ".join(args[:-1])
    if not code:
        raise CouponUsage(CouponCommand.REDEEM)
    return code, order, currency
