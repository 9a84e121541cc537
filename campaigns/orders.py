"""Orders from the shop: validated once, stored once per external id, then they drive
coupon redemption, purchase points, the inviter's first-order reward and segmentation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from campaigns.coupons import CouponRejected, normalize, parse_amount, parse_money


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
                raise ValueError(f"the amount is in {named} but the order in {currency}")
        return data

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise ValueError("amount must be a number in major units, e.g. 199.90")
        return parse_amount(str(value))

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("give a UTC offset, e.g. 2026-11-20T10:00:00+08:00")
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:  # 0001-01-01T00:00+10:00 is before the first datetime in UTC
            raise ValueError("the time is out of range") from None

    @field_validator("external_id", "category", "items")
    @classmethod
    def _storable(cls, value: str | list[str] | None) -> str | list[str] | None:
        """PostgreSQL text cannot hold NUL, which JSON can carry as "\\u0000"."""
        texts = value if isinstance(value, list) else [value or ""]
        if any("\x00" in text for text in texts):
            raise ValueError("contains a NUL character")
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
                raise ValueError(f"{code!r} is not a valid coupon code") from None
        return codes


def purchase_points(amount: int, rate: int) -> int:
    """`rate` points per whole major unit spent (0 turns purchase points off)."""
    return amount // 100 * rate


# What each field of an order takes, with an example: a refusal names the field, the form and
# an example instead of the validator's own words.
FIELD_FORMS = {
    "external_id": "the shop's order id, 1 to 64 characters, e.g. A1001",
    "chat_id": "the group's chat id, e.g. -1001234567890",
    "member": "the buyer's Telegram user id, a whole number, e.g. 5000000123",
    "amount": "an amount in major units, e.g. 199.90",
    "currency": "a 3-letter currency code, e.g. CNY",
    "at": "an ISO time with a UTC offset, e.g. 2026-11-20T10:00:00+08:00",
    "coupons": "coupon codes separated by |, e.g. 7KQ2-M9XD-4T|X2B4-8KQM-9C",
    "items": "item names separated by |, e.g. tea|cup",
    "category": "up to 64 characters, e.g. tea",
}


def field_error(field: str, problem: str) -> str:
    """`amount`, "Value error, not an amount: 'abc'" -> "expected an amount in major units,
    e.g. 199.90 (not an amount: 'abc')"."""
    name = field.split(".")[0]
    if name not in FIELD_FORMS:
        return "unknown column (the columns are: " + ", ".join(FIELD_FORMS) + ")"
    if problem.startswith("Field required"):
        return f"required: {FIELD_FORMS[name]}"
    if problem.startswith("Value error, "):  # our own validators say what was wrong
        return f"expected {FIELD_FORMS[name]} ({problem.removeprefix('Value error, ')})"
    return f"expected {FIELD_FORMS[name]}"
