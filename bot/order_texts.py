"""What a shop (webhook) or an operator (CSV import) is told about a refused order field:
the field's form and an example, with our own check's reason said from its code."""

from __future__ import annotations

from pydantic_core import ErrorDetails

from bot.coupon_cli import amount_problem
from campaigns.coupons import AmountError
from campaigns.orders import OrderProblem, OrderRefused

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


def order_problem(error: OrderRefused) -> str:
    value = error.value
    named, _, currency = value.partition(" ")
    return {
        OrderProblem.CURRENCY_MISMATCH: f"the amount is in {named} but the order in {currency}",
        OrderProblem.NOT_A_NUMBER: "amount must be a number in major units, e.g. 199.90",
        OrderProblem.NO_OFFSET: "give a UTC offset, e.g. 2026-11-20T10:00:00+08:00",
        OrderProblem.OUT_OF_RANGE: "the time is out of range",
        OrderProblem.NUL: "contains a NUL character",
        OrderProblem.BAD_COUPON_CODE: f"{value!r} is not a valid coupon code",
        OrderProblem.NOT_AN_ID: "true or false is no id",
        OrderProblem.UNKNOWN_CURRENCY: f"{value!r} is not a currency in use (ISO 4217)",
    }[error.problem]


def field_error(field: str, error: ErrorDetails) -> str:
    """`amount` refused as "abc" -> "expected an amount in major units, e.g. 199.90 (not an
    amount: 'abc')"."""
    name = field.split(".")[0]
    if name not in FIELD_FORMS:
        return "unknown column (the columns are: " + ", ".join(FIELD_FORMS) + ")"
    if error["type"] == "missing":
        return f"required: {FIELD_FORMS[name]}"
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, AmountError):  # our own checks say what was wrong
        return f"expected {FIELD_FORMS[name]} ({amount_problem(cause)})"
    if isinstance(cause, OrderRefused):
        return f"expected {FIELD_FORMS[name]} ({order_problem(cause)})"
    return f"expected {FIELD_FORMS[name]}"
