"""The audience language: rules over what is known of each member, combined with and / or /
not and parentheses.

    stage=dormant and spend>0
    (rfm=at_risk or rfm=cant_lose) and not tag=vip-care
    tier>=高级 lang=zh                      (rules side by side: and)

Rules, one word each (no spaces inside):
- days: `joined<7d`, `active>30d`, `checkin<1d`, `last_order>30d`. `<` and `<=` mean within
  N days (the cut-off instant included), `>` and `>=` more than N days ago or never;
- counts: `points>=100`, `orders>=2`, `invited>=3` with any of = != < <= > >=;
- money: `spend>=500` in the group's currency units, up to two decimals (`spend>0`);
- names: `stage=dormant`, `rfm=at_risk`, `tag=bought:tea`, `lang=zh` with = or !=;
- tiers: `tier>=高级`, `tier=VIP` with any comparison, by the group's tier names.
Also `all` (everyone), and `且` / `或` / `非` for and / or / not.

Parsing never raises anything but AudienceError, whatever it is given (a hypothesis test
holds it to that). `describe()` gives one canonical text that parses back to a tree that means
the same (a property test holds it to that): that text is what is stored and shown.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from campaigns.errors import DomainError
from campaigns.segments import Segment, Stage, StageThresholds, stage_of

MAX_TEXT = 500
MAX_RULES = 40
MAX_DEPTH = 8
MAX_DAYS = 3650
MAX_COUNT = 10**12


class AudienceProblem(StrEnum):
    UNKNOWN_RULE = "unknown_rule"  # not a rule the language has
    BAD_VALUE = "bad_value"  # the field is known, the value or operator is not
    UNKNOWN_TIER = "unknown_tier"  # no tier by that name in this group
    SYNTAX = "syntax"  # parentheses, and/or/not out of place
    TOO_LONG = "too_long"


class AudienceExprError(DomainError, ValueError):
    """An audience that could not be read; `token` is where, as the operator typed it."""

    def __init__(self, problem: AudienceProblem, token: str = "") -> None:
        super().__init__(problem, token)
        self.problem, self.token = problem, token


class Kind(StrEnum):
    DAYS = "days"
    COUNT = "count"
    MONEY = "money"
    NAME = "name"
    TIER = "tier"


FIELDS: dict[str, Kind] = {
    "joined": Kind.DAYS,
    "active": Kind.DAYS,
    "checkin": Kind.DAYS,
    "last_order": Kind.DAYS,
    "points": Kind.COUNT,
    "orders": Kind.COUNT,
    "invited": Kind.COUNT,
    "spend": Kind.MONEY,
    "stage": Kind.NAME,
    "rfm": Kind.NAME,
    "tag": Kind.NAME,
    "lang": Kind.NAME,
    "tier": Kind.TIER,
}
STAGE_NAMES = {s.value: s for s in Stage} | {
    "新": Stage.NEW,
    "新成员": Stage.NEW,
    "活跃": Stage.ACTIVE,
    "沉默": Stage.SILENT,
    "沉睡": Stage.DORMANT,
    "离开": Stage.LEFT,
    "已离开": Stage.LEFT,
}
SEGMENT_NAMES = {s.value: s for s in Segment}
TAG = re.compile(r"^[\w:.\-]{1,32}$")


def fold_tag(text: str) -> str:
    """A tag as stored and compared: compatibility forms folded (a full-width `ＶＩＰ` is
    `VIP`, as phones' Chinese keyboards type it), then lowercased."""
    return unicodedata.normalize("NFKC", text).lower()


LANG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})?$")
RULE = re.compile(r"^(?P<field>[a-z_]{3,12})(?P<op><=|>=|!=|<|>|=)(?P<value>.{1,64})$", re.I)
TOKEN = re.compile(r"\(|\)|[^\s(),，]+")
AND, OR, NOT = {"and", "且", "&&"}, {"or", "或", "||"}, {"not", "非", "!"}


class Op(StrEnum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


@dataclass(frozen=True)
class Rule:
    field: str
    op: Op
    value: int | str  # days, count, minor units; a name; a tier's name

    def text(self) -> str:
        kind = FIELDS[self.field]
        if kind is Kind.DAYS:
            return f"{self.field}{self.op}{self.value}d"
        if kind is Kind.MONEY:
            assert isinstance(self.value, int)
            whole, cents = divmod(self.value, 100)
            return f"{self.field}{self.op}{whole}" + (f".{cents:02d}" if cents else "")
        return f"{self.field}{self.op}{self.value}"


@dataclass(frozen=True)
class Everyone:
    def text(self) -> str:
        return "all"


@dataclass(frozen=True)
class AllOf:
    items: tuple[Expr, ...]

    def text(self) -> str:
        return " and ".join(_wrapped(item, AnyOf) for item in self.items)


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Expr, ...]

    def text(self) -> str:
        # "and" binds tighter than "or", yet an operator reads "(a and b) or c" more surely
        return " or ".join(_wrapped(item, AllOf) for item in self.items)


@dataclass(frozen=True)
class Not:
    item: Expr

    def text(self) -> str:
        return "not " + _wrapped(self.item, AllOf, AnyOf)


Expr = Rule | Everyone | AllOf | AnyOf | Not


def _wrapped(item: Expr, *kinds: type) -> str:
    text = item.text()
    return f"({text})" if isinstance(item, kinds) else text


def describe(expr: Expr) -> str:
    """The canonical text: what is stored and shown, and parses back to the same tree."""
    return expr.text()


def parse(text: str, *, typed: bool = True) -> Expr:
    """Read an audience; AudienceExprError on anything else.

    The limits on length and nesting are for what is typed. A stored rule is the canonical
    text of a rule that was read within them: it may be longer (`stage=沉睡` is stored as
    `stage=dormant`, a space as ` and `) and nest deeper (an and-group inside an or gets
    parentheses: at most one more level for each the typed rule needed, and one), and has
    as many rules."""
    if typed and len(text) > MAX_TEXT:
        raise AudienceExprError(AudienceProblem.TOO_LONG, text[:20])
    tokens = TOKEN.findall(text)
    if not tokens:
        return Everyone()
    parser = _Parser(tokens, MAX_DEPTH if typed else 2 * MAX_DEPTH + 1)
    expr = parser.any(0)
    if parser.at < len(tokens):
        raise AudienceExprError(AudienceProblem.SYNTAX, tokens[parser.at])
    return expr


class _Parser:
    def __init__(self, tokens: list[str], max_depth: int) -> None:
        self.tokens, self.at, self.rules, self.max_depth = tokens, 0, 0, max_depth

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def any(self, depth: int) -> Expr:
        items = [self.all(depth)]
        while (word := self.peek()) is not None and word.lower() in OR:
            self.take()
            items.append(self.all(depth))
        return items[0] if len(items) == 1 else AnyOf(tuple(items))

    def all(self, depth: int) -> Expr:
        items = [self.unary(depth)]
        while (word := self.peek()) is not None and word != ")" and word.lower() not in OR:
            if word.lower() in AND:
                self.take()
            items.append(self.unary(depth))
        items = [item for item in items if not isinstance(item, Everyone)] or [Everyone()]
        return items[0] if len(items) == 1 else AllOf(tuple(items))

    def unary(self, depth: int) -> Expr:
        if depth > self.max_depth:
            raise AudienceExprError(AudienceProblem.TOO_LONG, self.peek() or "")
        word = self.peek()
        if word is None:
            raise AudienceExprError(AudienceProblem.SYNTAX, self.tokens[-1])
        if word.lower() in NOT:
            self.take()
            return Not(self.unary(depth + 1))
        if word == "(":
            self.take()
            inner = self.any(depth + 1)
            if self.peek() != ")":
                raise AudienceExprError(AudienceProblem.SYNTAX, "(")
            self.take()
            return inner
        if word == ")" or word.lower() in AND | OR:
            raise AudienceExprError(AudienceProblem.SYNTAX, word)
        self.take()
        if word.lower() == "all":
            return Everyone()
        self.rules += 1
        if self.rules > MAX_RULES:
            raise AudienceExprError(AudienceProblem.TOO_LONG, word)
        return parse_rule(word)


def parse_rule(token: str) -> Rule:
    """One rule word, e.g. `spend>=500` -> Rule("spend", GE, 50000)."""
    match = RULE.match(token)
    if match is None or match["field"].lower() not in FIELDS:
        raise AudienceExprError(AudienceProblem.UNKNOWN_RULE, token)
    field, op, raw = match["field"].lower(), Op(match["op"]), match["value"].strip()
    kind = FIELDS[field]
    value = _value(kind, field, op, raw)
    if value is None:
        raise AudienceExprError(AudienceProblem.BAD_VALUE, token)
    return Rule(field, op, value)


def _value(kind: Kind, field: str, op: Op, raw: str) -> int | str | None:
    if kind is Kind.DAYS:
        digits = raw[:-1] if raw.lower().endswith("d") else raw
        if op in (Op.EQ, Op.NE) or not (digits.isascii() and digits.isdigit()):
            return None
        days = int(digits)
        return days if days <= MAX_DAYS else None
    if kind is Kind.COUNT:
        if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_COUNT:
            return None
        return int(raw)
    if kind is Kind.MONEY:
        if not re.fullmatch(r"\d{1,12}(\.\d{1,2})?", raw):
            return None
        try:
            return int(Decimal(raw) * 100)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            return None
    if kind is Kind.TIER:
        # A tier is named; "level:N" is what resolve_tiers makes of a name, never typed.
        typed_level = raw.casefold().startswith("level:")
        return raw if len(raw) <= 32 and not typed_level else None
    if op not in (Op.EQ, Op.NE):
        return None
    lowered = raw.lower()
    if field == "stage":
        stage = STAGE_NAMES.get(lowered)
        return stage.value if stage else None
    if field == "rfm":
        segment = SEGMENT_NAMES.get(lowered.replace("-", "_"))
        return segment.value if segment else None
    if field == "lang":
        return lowered if LANG.match(lowered) else None
    tag = fold_tag(raw)
    return tag if TAG.match(tag) else None


@dataclass(frozen=True)
class Member:
    """What the audience language reads about one member of a group."""

    present: bool
    reachable: bool
    joined_at: dt.datetime | None
    last_active_at: dt.datetime | None
    last_checkin_day: dt.date | None
    last_order_at: dt.datetime | None
    points: int
    orders: int
    spend: int  # minor units
    invited: int  # confirmed invites
    segment: Segment  # as the last refresh scored it (the group's quintiles: hourly)
    tier: int  # level in the group's ladder
    tags: frozenset[str]
    lang: str | None


def resolve_tiers(expr: Expr, level_named: Callable[[str], int | None]) -> Expr:
    """Tier names replaced by their levels in this group's ladder, as text "level:N";
    an unknown name is an AudienceExprError."""
    if isinstance(expr, Rule):
        if expr.field != "tier" or str(expr.value).startswith("level:"):
            return expr
        level = level_named(str(expr.value))
        if level is None:
            raise AudienceExprError(AudienceProblem.UNKNOWN_TIER, str(expr.value))
        return Rule("tier", expr.op, f"level:{level}")
    if isinstance(expr, AllOf):
        return AllOf(tuple(resolve_tiers(i, level_named) for i in expr.items))
    if isinstance(expr, AnyOf):
        return AnyOf(tuple(resolve_tiers(i, level_named) for i in expr.items))
    if isinstance(expr, Not):
        return Not(resolve_tiers(expr.item, level_named))
    return expr


def matches(expr: Expr, member: Member, now: dt.datetime, thresholds: StageThresholds) -> bool:
    """The one audience rule: a present member who can get the bot's private messages and
    meets the expression (tiers resolved first). `stage=` is the member's stage at `now`
    (campaigns.segments.stage_of, by the group's thresholds), not the one the hourly refresh
    stored: a member who spoke a minute ago is no longer dormant, whoever asks. The SQL
    compiled in storage agrees with this; a storage test holds it to that."""
    return member.present and member.reachable and _holds(expr, member, now, thresholds)


def reads(expr: Expr, field: str) -> bool:
    """Whether any rule of `expr` reads `field` (a store reads the group's thresholds only
    for an expression that reads the stage)."""
    if isinstance(expr, Rule):
        return expr.field == field
    if isinstance(expr, AllOf | AnyOf):
        return any(reads(item, field) for item in expr.items)
    if isinstance(expr, Not):
        return reads(expr.item, field)
    return False


def _holds(expr: Expr, m: Member, now: dt.datetime, thresholds: StageThresholds) -> bool:
    if isinstance(expr, Everyone):
        return True
    if isinstance(expr, AllOf):
        return all(_holds(i, m, now, thresholds) for i in expr.items)
    if isinstance(expr, AnyOf):
        return any(_holds(i, m, now, thresholds) for i in expr.items)
    if isinstance(expr, Not):
        return not _holds(expr.item, m, now, thresholds)
    return _rule(expr, m, now, thresholds)


def _rule(rule: Rule, m: Member, now: dt.datetime, thresholds: StageThresholds) -> bool:
    kind = FIELDS[rule.field]
    if kind is Kind.DAYS:
        assert isinstance(rule.value, int)
        cut = now - dt.timedelta(days=rule.value)
        within = rule.op in (Op.LT, Op.LE)
        if rule.field == "checkin":
            day = m.last_checkin_day
            if day is None:
                return not within
            return day >= cut.date() if within else day < cut.date()
        at = {"joined": m.joined_at, "active": m.last_active_at, "last_order": m.last_order_at}[
            rule.field
        ]
        if at is None:
            return not within
        return at >= cut if within else at < cut
    if kind in (Kind.COUNT, Kind.MONEY):
        have = {"points": m.points, "orders": m.orders, "invited": m.invited, "spend": m.spend}
        return compare(have[rule.field], rule.op, int(rule.value))
    if kind is Kind.TIER:
        text = str(rule.value)
        if not text.startswith("level:"):
            raise AudienceExprError(AudienceProblem.UNKNOWN_TIER, text)
        return compare(m.tier, rule.op, int(text.removeprefix("level:")))
    if rule.field == "tag":
        hit = rule.value in m.tags
    elif rule.field == "lang":
        hit = _lang_is(m.lang, str(rule.value))
    elif rule.field == "stage":
        stage = stage_of(
            present=m.present, joined_at=m.joined_at, last_active_at=m.last_active_at,
            now=now, thresholds=thresholds,
        )  # fmt: skip
        hit = stage.value == rule.value
    else:
        hit = m.segment.value == rule.value
    return hit if rule.op is Op.EQ else not hit


def _lang_is(code: str | None, wanted: str) -> bool:
    """`lang=zh` takes zh-hans and zh-hant too; `lang=zh-hant` only that variant."""
    if code is None:
        return False
    code = code.lower()
    return code == wanted or ("-" not in wanted and code.split("-")[0] == wanted)


# What each operator does: one table for the Python rule and the SQL compiled in storage
# (SQLAlchemy's columns take the same operators and give SQL conditions).
OPERATORS: dict[Op, Callable[[Any, Any], Any]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
}


def compare(have: int, op: Op, want: int) -> bool:
    return bool(OPERATORS[op](have, want))
