"""Coupon-offer A/B tests: an offer's variant terms, its holdout, who gets which, the report.

An offer may carry up to four sets of terms (variants A–D, e.g. A 满100减10, B 85折) and a
holdout (0–50%). The terms are written the way shops write them, in Chinese or English
(`parse_terms`): 满100减10, 无门槛5, 85折, 满200打9折, 8折 最高减50, ¥10 off ¥100, 15% off,
15% off cap ¥50. Validity, currency, stock and the per-member limit belong to the offer and
are shared by its arms, so the database's stock UPDATE and per-member slots hold across arms.

A member's arm is `assign("offer:<id>", member, arms(variants, holdout))` of
campaigns/experiments.py: the same in every process and after a restart, and the same
whichever way the member gets a coupon, so a second coupon (a per-member limit above 1) has
the first one's terms. The holdout only applies to a grant to a saved audience
(`/coupon grant <id> @audience`): those drawn into it get no coupon and a row that makes
them the control. Everywhere else (a claim by tap, a grant to one member, a journey's,
referral's or tier's coupon) nobody is turned away, so a member whose draw is the holdout
gets a variant by a second draw on its own key: a claim has no "not for you".

The report counts each member once, in the arm they were first put in (intention to treat:
a held-out member who claims from the post later stays in the holdout, which dilutes the
lift rather than flatters it). Per arm: members; those who redeemed a coupon of the offer;
those who ordered in the group within 14 days of their coupon (or of being held out), the
journeys' window, measured to the second as the funnels do; and that GMV. Variants are
compared with A on both measures over all their members; with a holdout, each variant is
compared with it on orders over the members who got their coupon by an audience grant, the
population the holdout was drawn from (members who claimed by tap chose to, and would
flatter the lift).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from campaigns.coupons import (
    MAX_PER_MEMBER,
    MAX_STOCK,
    MAX_VALID_DAYS,
    AmountError,
    CouponKind,
    Template,
    over_min_spend,
    parse_amount,
)
from campaigns.errors import DomainError
from campaigns.experiments import (
    HOLDOUT,
    LABELS,
    MAX_HOLDOUT,
    MAX_VARIANTS,
    ArmResult,
    Comparison,
    arm_result,
    arms,
    assign,
    compare,
    labels,
)
from campaigns.funnels import BOUGHT_WITHIN, converted_within
from campaigns.numbers import read_int, typed_digits

AUDIENCE_SOURCE = "audience"  # a coupon's source when an audience grant gave it
MAX_TERMS = 80  # characters of one variant's terms
MAX_PLAN = 10_000_000  # members per arm
CURRENCY_WORDS = {"¥": "CNY", "元": "CNY", "块": "CNY", "cny": "CNY", "rmb": "CNY",
                  "$": "USD", "usd": "USD"}  # fmt: skip

# Money as shops write it: `¥10`, `10元`, `10.5`, `$5`, `12 usd` (two decimals at most).
_MONEY = r"(?:[¥$] ?)?\d{1,12}(?:\.\d{1,2})?(?: ?(?:元|块|cny|usd|rmb))?"
_MONEY_PARTS = re.compile(
    r"(?P<sym>[¥$])? ?(?P<num>\d{1,12}(?:\.\d{1,2})?) ?(?P<unit>元|块|cny|usd|rmb)?"
)
_PERCENT = r"\d{1,3}(?:\.\d{1,2})? ?%"
_ZHE = r"\d{1,2}(?:\.\d{1,2})?"  # 85折 (pay 85%), 8.5折 (85%), 9折 (90%)
_CAP = re.compile(
    rf"^(?P<core>.+?) ?[,;]? ?(?:最高减?|最多减?|封顶|上限|capped at|cap|up to|max)"
    rf" ?(?P<cap>{_MONEY})$"
)
_FORMS = [
    re.compile(rf"^满 ?(?P<min>{_MONEY}) ?减 ?(?P<off>{_MONEY})$"),
    re.compile(rf"^满 ?(?P<min>{_MONEY}) ?打? ?(?P<zhe>{_ZHE}) ?折$"),
    re.compile(rf"^(?:无门槛|立减) ?减? ?(?P<off>{_MONEY})$"),
    re.compile(rf"^打? ?(?P<zhe>{_ZHE}) ?折$"),
    re.compile(
        rf"^(?:(?P<pct>{_PERCENT})|(?P<off>{_MONEY}))(?: ?off)?"
        rf"(?: ?(?:on )?(?:orders )?(?:over|from|above|min|满) ?(?P<min>{_MONEY}))?$"
    ),
    re.compile(rf"^(?:(?P<pct>{_PERCENT})|(?P<off>{_MONEY})) ?off (?P<min>{_MONEY})$"),
]
_LABEL = re.compile(r"^(?P<label>[a-z]) ?[:.)] ?(?P<rest>.*)$")


class TermsProblem(StrEnum):
    """Why an offer's variants or test settings cannot be used as written."""

    UNREADABLE = "unreadable"  # `value`: the terms as typed; `label`: whose
    TOO_MANY = "too_many"  # `count`: how many were given
    LABEL = "label"  # `value`: the label typed; `label`: the one expected there
    CURRENCY = "currency"  # `value`: the currencies named
    NO_TERMS = "no_terms"  # /coupon new without a line of terms
    NO_NAME = "no_name"  # /coupon new without a name
    OPTION = "option"  # `value`: a key=value word that is unknown or out of its range
    HOLDOUT = "holdout"  # `value`: not a percent from 0 to MAX_HOLDOUT
    PLAN = "plan"  # `value`: a planned size that is not a count of members
    OVER_MIN_SPEND = "over_min_spend"  # `value`: the terms, more off than their minimum


@dataclass
class TermsRefused(DomainError, ValueError):
    """An offer's test as written cannot be made; nothing was stored."""

    problem: TermsProblem
    value: str = ""
    label: str = ""
    count: int = 0


@dataclass(frozen=True)
class Terms:
    """One variant's money terms; its currency when the text named one (¥, 元, $, USD)."""

    kind: CouponKind  # FIXED or PERCENT
    value: int  # minor units off, or basis points
    min_spend: int = 0
    cap: int | None = None
    currency: str | None = None

    def template(self, base: Template) -> Template:
        """These terms on the offer's validity and currency."""
        return replace(
            base, kind=self.kind, value=self.value, min_spend=self.min_spend, cap=self.cap
        )


def _normal(text: str) -> str:
    """Full-width forms folded (１０ ％ ： ￥), lower case, single spaces, no brackets."""
    folded = unicodedata.normalize("NFKC", text).lower()
    folded = re.sub(r"[()\[\]]", " ", folded)
    return " ".join(folded.split())


def _money(text: str) -> tuple[int, str | None]:
    """`¥10`, `10元`, `$5.5` -> (minor units, the currency it names)."""
    m = _MONEY_PARTS.fullmatch(text)
    if m is None:
        raise ValueError(text)
    named = {CURRENCY_WORDS[x] for x in (m["sym"], m["unit"]) if x}
    if len(named) > 1:  # `$10元`
        raise ValueError(text)
    return parse_amount(m["num"]), next(iter(named), None)


def _zhe(text: str) -> int:
    """`85折` / `8.5折` (pay 85%) / `9折` (pay 90%) -> the basis points off."""
    z = Decimal(text)
    pay = z * 10 if z < 10 else z
    if z == 10 or not 0 < pay < 100:  # 10折 is no discount (or 10%?): refused, not guessed
        raise ValueError(text)
    off = (100 - pay) * 100
    if off != off.to_integral_value():
        raise ValueError(text)
    return int(off)


def parse_percent(text: str) -> int:
    """`15%` or `12.5` -> basis points off (1500, 1250): more than 0 and at most 100, with at
    most 2 decimals; ValueError for anything else, whatever the string (`Infinity`, `NaN`,
    `1e100000`, another script's digits)."""
    if not typed_digits(text) or len(text) > 40:
        raise ValueError(text)
    try:
        bp = Decimal(unicodedata.normalize("NFKC", text).strip().rstrip("% ")) * 100
        if not (bp.is_finite() and 0 < bp <= 10_000 and bp == bp.to_integral_value()):
            raise ValueError(text)
    except ArithmeticError:  # decimal's InvalidOperation: not a number at all
        raise ValueError(text) from None
    return int(bp)


def parse_terms(raw: str, label: str = "A") -> Terms:
    """One variant's terms as shops write them (see the module's docstring); TermsRefused
    (UNREADABLE) for anything else, whatever the string."""
    refused = TermsRefused(TermsProblem.UNREADABLE, raw.strip()[:40], label)
    if len(raw) > MAX_TERMS or not typed_digits(raw):  # `²` or `٣` is no amount
        raise refused
    text = _normal(raw)
    cap_text = None
    if (capped := _CAP.fullmatch(text)) is not None:
        text, cap_text = capped["core"].rstrip(" ,;"), capped["cap"]
    m = next((f.fullmatch(text) for f in _FORMS if f.fullmatch(text)), None)
    if m is None:
        raise refused
    found = m.groupdict()
    try:
        named: list[str | None] = []
        min_spend = 0
        if found.get("min"):
            min_spend, currency = _money(found["min"])
            named.append(currency)
        cap = None
        if cap_text is not None:
            cap, currency = _money(cap_text)
            named.append(currency)
        if found.get("off"):
            kind, (value, currency) = CouponKind.FIXED, _money(found["off"])
            named.append(currency)
        elif found.get("zhe"):
            kind, value = CouponKind.PERCENT, _zhe(found["zhe"])
        else:
            kind, value = CouponKind.PERCENT, parse_percent(found["pct"])
    except (ValueError, AmountError):
        raise refused from None
    currencies = {c for c in named if c is not None}
    if (
        len(currencies) > 1
        or value <= 0
        or cap == 0
        or (cap is not None and kind is CouponKind.FIXED)
    ):
        raise refused
    if over_min_spend(kind, value, min_spend):
        raise TermsRefused(TermsProblem.OVER_MIN_SPEND, raw.strip()[:40], label)
    return Terms(kind, value, min_spend, cap, next(iter(currencies), None))


def read_variants(lines: Iterable[str]) -> list[Terms]:
    """Each non-blank line one variant's terms, A first; a line may start with its label
    (`B: 85折`), which must then be its own. TermsRefused otherwise."""
    given = [x for x in lines if x.strip()]
    if not given:
        raise TermsRefused(TermsProblem.NO_TERMS)
    if len(given) > MAX_VARIANTS:
        raise TermsRefused(TermsProblem.TOO_MANY, count=len(given))
    found: list[Terms] = []
    for expected, line in zip(LABELS, given, strict=False):
        text = line
        labelled = _LABEL.fullmatch(_normal(line))
        if labelled is not None:
            if labelled["label"].upper() != expected:
                raise TermsRefused(TermsProblem.LABEL, labelled["label"].upper(), expected)
            text = labelled["rest"]
        found.append(parse_terms(text, expected))
    return found


def currency_of(terms: Sequence[Terms], given: str | None) -> str | None:
    """The offer's one currency: the one its terms (or the operator, `given`) name; None when
    nobody named one. TermsRefused(CURRENCY) for two."""
    named = sorted({t.currency for t in terms if t.currency} | ({given} if given else set()))
    if len(named) > 1:
        raise TermsRefused(TermsProblem.CURRENCY, ", ".join(named))
    return named[0] if named else None


def templates_of(terms: Sequence[Terms], base: Template) -> list[Template]:
    """Each variant's full terms: its money terms on the offer's validity and currency."""
    return [t.template(base) for t in terms]


def check_test(variants: int, holdout: int, planned: int | None) -> None:
    """At most four variants, a holdout from 0 to 50%, a planned size of at least one
    member per arm; TermsRefused names the first that is not."""
    if variants > MAX_VARIANTS:
        raise TermsRefused(TermsProblem.TOO_MANY, count=variants)
    if not 0 <= holdout <= MAX_HOLDOUT:
        raise TermsRefused(TermsProblem.HOLDOUT, str(holdout))
    if planned is not None and not 1 <= planned <= MAX_PLAN:
        raise TermsRefused(TermsProblem.PLAN, str(planned))


# --- /coupon new ------------------------------------------------------------------------------

OPTION_KEYS = {"stock": "stock", "库存": "stock", "per": "per", "per_member": "per",
               "每人": "per", "days": "days", "天数": "days", "有效期": "days",
               "holdout": "holdout", "对照": "holdout", "plan": "plan", "计划": "plan"}  # fmt: skip
OPTION_RANGES = {"stock": (1, MAX_STOCK), "per": (1, MAX_PER_MEMBER), "days": (1, MAX_VALID_DAYS),
                 "holdout": (0, MAX_HOLDOUT), "plan": (1, MAX_PLAN)}  # fmt: skip


@dataclass(frozen=True)
class NewOffer:
    """`/coupon new <name> [stock=N] [per=N] [days=N] [holdout=N] [plan=N]` and a line of
    terms per variant."""

    name: str
    terms: list[Terms]
    stock: int | None = None
    per_member: int = 1
    valid_days: int | None = None
    holdout: int = 0
    planned: int | None = None


def parse_new_offer(words: Sequence[str], lines: Sequence[str]) -> NewOffer:
    """The first line's words (the name, and key=value options anywhere among them) and the
    lines below (the terms); TermsRefused names what cannot be used."""
    options: dict[str, int] = {}
    name: list[str] = []
    for word in words:
        key, eq, value = word.partition("=")
        if not eq:
            name.append(word)
            continue
        canonical = OPTION_KEYS.get(unicodedata.normalize("NFKC", key).lower())
        if canonical is None or canonical in options:
            raise TermsRefused(TermsProblem.OPTION, word[:40])
        low, high = OPTION_RANGES[canonical]
        try:
            number = read_int(value.removesuffix("%"))
        except ValueError:
            number = -1
        if not low <= number <= high:
            problem = {"holdout": TermsProblem.HOLDOUT, "plan": TermsProblem.PLAN}.get(
                canonical, TermsProblem.OPTION
            )
            raise TermsRefused(problem, word[:40])
        options[canonical] = number
    if not name:
        raise TermsRefused(TermsProblem.NO_NAME)
    return NewOffer(
        name=" ".join(name),
        terms=read_variants(lines),
        stock=options.get("stock"),
        per_member=options.get("per", 1),
        valid_days=options.get("days"),
        holdout=options.get("holdout", 0),
        planned=options.get("plan"),
    )


# --- who gets which -----------------------------------------------------------------------------


def experiment_key(offer_id: int) -> str:
    return f"offer:{offer_id}"


def arm_of(offer_id: int, user_id: int, variants: int, holdout: int, *, may_hold_out: bool) -> str:
    """The member's arm of the offer's test. Without `may_hold_out` (anything but a grant to
    an audience) a member whose draw is the holdout gets a variant by a second draw, on the
    variants only; the others keep their arm, so it is the same whichever way they get it."""
    key = experiment_key(offer_id)
    arm = assign(key, user_id, arms(variants, holdout))
    if arm == HOLDOUT and not may_hold_out:
        return assign(f"{key}:variant", user_id, arms(variants, 0))
    return arm


# --- the report -----------------------------------------------------------------------------


class Measure(StrEnum):
    REDEEMED = "redeemed"  # used a coupon of the offer (variants only: the holdout has none)
    ORDERED_14D = "ordered_14d"  # placed an order in the group within 14 days


@dataclass(frozen=True)
class Issue:
    """A coupon of the offer as stored: whose, which arm, when, how, and whether used."""

    user_id: int
    arm: str | None
    at: dt.datetime
    audience: bool  # granted to a saved audience (the holdout's population)
    redeemed: bool


@dataclass(frozen=True)
class HeldOut:
    """A member an audience grant held out: no coupon, the control."""

    user_id: int
    at: dt.datetime


@dataclass(frozen=True)
class Assigned:
    """A member of the test, once, in the arm they were first put in and from when."""

    user_id: int
    arm: str
    since: dt.datetime
    audience: bool
    redeemed: bool


def assigned_of(issues: Iterable[Issue], held: Iterable[HeldOut]) -> list[Assigned]:
    """Each member in the arm of their first record (a coupon or being held out; on a tie
    the holdout); redeemed when any of their coupons of the offer was used."""
    first: dict[int, Assigned] = {}
    used: set[int] = set()
    for h in held:
        seen = first.get(h.user_id)
        if seen is None or h.at <= seen.since:
            first[h.user_id] = Assigned(h.user_id, HOLDOUT, h.at, True, False)
    for c in issues:
        if c.arm is None:  # not part of a test (an offer made before it had one)
            continue
        if c.redeemed:
            used.add(c.user_id)
        seen = first.get(c.user_id)
        if seen is None or c.at < seen.since:
            first[c.user_id] = Assigned(c.user_id, c.arm, c.at, c.audience, False)
    return [
        replace(a, redeemed=a.arm != HOLDOUT and a.user_id in used)
        for _, a in sorted(first.items())
    ]


@dataclass(frozen=True)
class ArmCounts:
    """An arm's members and what they did; `granted…` over those an audience grant put in."""

    members: int = 0
    redeemed: int = 0
    ordered: int = 0
    gmv: int = 0  # minor units, orders within 14 days
    granted: int = 0
    granted_ordered: int = 0

    def result(self, measure: Measure, *, granted_only: bool = False) -> ArmResult:
        if granted_only:
            return arm_result(self.granted, self.granted_ordered)
        if measure is Measure.REDEEMED:
            return arm_result(self.members, self.redeemed)
        return arm_result(self.members, self.ordered)


def counts_of(
    members: Iterable[Assigned],
    orders: Mapping[int, Sequence[tuple[dt.datetime, int]]],
    now: dt.datetime,
) -> dict[str, ArmCounts]:
    """The rule: per arm, members, those who redeemed, those who ordered within 14 days of
    their `since` (to the second, up to `now`) and their GMV in that window."""
    tally: dict[str, list[int]] = {}
    for m in members:
        row = tally.setdefault(m.arm, [0] * 6)
        placed = [
            (at, amount)
            for at, amount in orders.get(m.user_id, ())
            if converted_within([at], m.since, now, BOUGHT_WITHIN)
        ]
        row[0] += 1
        row[1] += m.redeemed
        row[2] += bool(placed)
        row[3] += sum(amount for _, amount in placed)
        row[4] += m.audience
        row[5] += m.audience and bool(placed)
    return {arm: ArmCounts(*row) for arm, row in tally.items()}


@dataclass(frozen=True)
class ArmTest:
    """One comparison of the report: an arm against its control on a measure, over all
    members or (against the holdout) over those granted to an audience."""

    arm: str
    control: str
    measure: Measure
    comparison: Comparison
    granted_only: bool = False


@dataclass(frozen=True)
class OfferReport:
    """An offer's arms (A, B, …, then the holdout when it has one) and their numbers."""

    offer_id: int
    variants: int
    holdout: int  # percent
    planned: int | None = None  # members per arm the operator meant to reach first
    arms: dict[str, ArmCounts] = field(default_factory=dict)
    counting: bool = False  # a member's 14 days are not over yet: the numbers may still grow

    @property
    def order(self) -> list[str]:
        """The arms as shown: the variants, then the holdout."""
        return labels(self.variants) + ([HOLDOUT] if self.holdout else [])

    def counts(self, arm: str) -> ArmCounts:
        return self.arms.get(arm, ArmCounts())

    def tests(self) -> list[ArmTest]:
        """B, C, D against A on both measures; then each variant against the holdout on
        orders, over the members of audience grants."""
        out = []
        variants = labels(self.variants)
        control = self.counts(LABELS[0])
        for arm in variants[1:]:
            for measure in Measure:
                test = compare(
                    control.result(measure), self.counts(arm).result(measure),
                    planned=self.planned,
                )  # fmt: skip
                out.append(ArmTest(arm, LABELS[0], measure, test))
        if self.holdout:
            held = self.counts(HOLDOUT).result(Measure.ORDERED_14D, granted_only=True)
            for arm in variants:
                mine = self.counts(arm).result(Measure.ORDERED_14D, granted_only=True)
                test = compare(held, mine, planned=self.planned)
                out.append(ArmTest(arm, HOLDOUT, Measure.ORDERED_14D, test, granted_only=True))
        return out


def report_of(
    offer_id: int,
    *,
    variants: int,
    holdout: int,
    planned: int | None,
    members: Sequence[Assigned],
    orders: Mapping[int, Sequence[tuple[dt.datetime, int]]],
    now: dt.datetime,
) -> OfferReport:
    """The report: `counting` while the latest member's 14 days are not over."""
    latest = max((m.since for m in members), default=None)
    counting = latest is None or now < latest + BOUGHT_WITHIN
    counts = counts_of(members, orders, now)
    return OfferReport(offer_id, variants, holdout, planned, counts, counting)


@dataclass
class NotATest(DomainError):
    """/coupon report of an offer with one set of terms and no holdout: nothing to compare."""

    offer_id: int
