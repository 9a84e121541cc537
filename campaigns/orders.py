"""Orders from the shop: validated once, stored once per external id, then they drive
coupon redemption, purchase points, the inviter's first-order reward and segmentation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from campaigns.coupons import CURRENCIES, CouponRejected, normalize, parse_amount, parse_money
from campaigns.errors import DomainError
from campaigns.journeys import on_member_day
from campaigns.tiers import TierLadder, multiplied

# An order's time, in UTC: two days inside the datetimes Python can hold, so its local day in
# any group's zone (UTC-12 to UTC+14), and the day after it, can be told.
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC) + dt.timedelta(days=2)
LATEST = dt.datetime.max.replace(tzinfo=dt.UTC) - dt.timedelta(days=2)


class OrderProblem(StrEnum):
    """Why a field of an order was refused (beyond its type); the feeds say it."""

    CURRENCY_MISMATCH = "currency_mismatch"  # `$5` on an order in CNY; `value` is "USD CNY"
    NOT_A_NUMBER = "not_a_number"  # the amount is not a number at all
    NO_OFFSET = "no_offset"  # a time without its UTC offset
    OUT_OF_RANGE = "out_of_range"  # a time within two days of the first or last datetime
    NUL = "nul"  # a NUL character PostgreSQL text cannot hold
    BAD_COUPON_CODE = "bad_coupon_code"  # `value` is the code
    NOT_AN_ID = "not_an_id"  # true or false where a Telegram id goes
    UNKNOWN_CURRENCY = "unknown_currency"  # a code of three letters no country uses; `value`


@dataclass
class OrderRefused(DomainError, ValueError):
    """A ValueError, so that pydantic carries it in the error's `ctx["error"]`."""

    problem: OrderProblem
    value: str = ""

    def __str__(self) -> str:
        return str(self.problem)  # the code; texts say it


class OrderIn(BaseModel):
    """One order as a shop sends it (CSV row or webhook body); amounts in major units."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: Annotated[str, Field(min_length=1, max_length=64)]
    chat_id: Annotated[int, Field(ge=-(2**63), lt=2**63)] | None = None  # a BIGINT column
    member: Annotated[int, Field(gt=0, lt=2**63, description="the buyer's Telegram user id")]
    amount: int = Field(description="minor units; the input is major units, e.g. 199.90")
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    at: dt.datetime
    coupons: list[str] = Field(default_factory=list)
    items: list[str] = Field(default_factory=list)
    category: Annotated[str, Field(max_length=64)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_currency(cls, data: object) -> object:
        """`$5` on an order in CNY is a mistake, not five yuan."""
        if isinstance(data, dict) and isinstance(data.get("amount"), str):
            try:
                _, named = parse_money(data["amount"])
            except ValueError:
                return data  # the amount's own validator names the problem
            currency = data.get("currency", "CNY")
            if named and isinstance(currency, str) and named != currency.strip().upper():
                raise OrderRefused(OrderProblem.CURRENCY_MISMATCH, f"{named} {currency}")
        return data

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise OrderRefused(OrderProblem.NOT_A_NUMBER)
        return parse_amount(str(value))

    @field_validator("chat_id", "member", mode="before")
    @classmethod
    def _id(cls, value: object) -> object:
        """JSON's true is no user 1 (pydantic's lax mode would read it so); a number written
        as a string ("42") is still read, as spreadsheets and loosely typed shops send it."""
        if isinstance(value, bool):
            raise OrderRefused(OrderProblem.NOT_AN_ID)
        return value

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("currency")
    @classmethod
    def _in_use(cls, value: str) -> str:
        """Only a currency in use (ISO 4217): `XXX` or `ABC` is a typo, not money."""
        if value not in CURRENCIES:
            raise OrderRefused(OrderProblem.UNKNOWN_CURRENCY, value)
        return value

    @field_validator("at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise OrderRefused(OrderProblem.NO_OFFSET)
        try:
            at = value.astimezone(dt.UTC)
        except OverflowError:  # 0001-01-01T00:00+10:00 is before the first datetime in UTC
            raise OrderRefused(OrderProblem.OUT_OF_RANGE) from None
        if not EARLIEST <= at <= LATEST:  # its local day, in any group's zone, and the next
            raise OrderRefused(OrderProblem.OUT_OF_RANGE)
        return at

    @field_validator("external_id", "category", "items")
    @classmethod
    def _storable(cls, value: str | list[str] | None) -> str | list[str] | None:
        """PostgreSQL text cannot hold NUL, which JSON can carry as "\\u0000"."""
        texts = value if isinstance(value, list) else [value or ""]
        if any("\x00" in text for text in texts):
            raise OrderRefused(OrderProblem.NUL)
        return value

    @field_validator("coupons", "items", mode="before")
    @classmethod
    def _list(cls, value: object) -> object:
        """CSV cells hold lists separated by `|` or `;`."""
        if isinstance(value, str):
            return [part for part in value.replace(";", "|").split("|") if part.strip()]
        return value

    @field_validator("coupons")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        codes = []
        for code in value:
            try:
                codes.append(normalize(code))
            except CouponRejected:
                raise OrderRefused(OrderProblem.BAD_COUPON_CODE, code) from None
        return codes


def purchase_points(
    amount: int,
    rate: int,
    *,
    ladder: TierLadder | None = None,
    level: int = 0,
    member_day: float = 1.0,
) -> int:
    """`rate` points per whole major unit spent (0 turns purchase points off), times the
    buyer's tier multiplier (`level` of `ladder`), then the member day's (`member_day`)."""
    points = amount // 100 * rate
    boosted = multiplied(points, ladder, level) if ladder is not None else points
    return on_member_day(boosted, member_day)
