"""Orders as shops send them: validated field by field, amounts exact, codes normalised."""

import datetime as dt

import pytest
from pydantic import ValidationError

from campaigns.coupons import new_code
from campaigns.orders import OrderIn, purchase_points

ROW = {"external_id": "A-1", "member": "42", "amount": "199.90", "at": "2026-11-20T10:00:00+08:00"}


def test_a_csv_row_becomes_an_order_in_minor_units_and_utc():
    code = new_code()
    order = OrderIn.model_validate(ROW | {"coupons": code.lower() + "|", "items": "tea|cake"})

    assert order.amount == 19990
    assert order.at == dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC)
    assert order.coupons == [code]
    assert order.items == ["tea", "cake"]
    assert order.currency == "CNY"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "19.999"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"at": "2026-11-20T10:00:00"}, "at"),
        ({"member": "0"}, "member"),
        ({"currency": "yuan"}, "currency"),
        ({"coupons": "NOT-A-CODE"}, "coupons"),
        ({"colour": "red"}, "colour"),
        ({"external_id": ""}, "external_id"),
        ({"amount": "1e999999999"}, "amount"),
        ({"amount": "1e-999999999"}, "amount"),
        ({"at": "0001-01-01T00:00:00+10:00"}, "at"),
        ({"at": "9999-12-31T23:59:59-10:00"}, "at"),
        # held in UTC, but no local day in Shanghai (UTC+8): a 500 from the webhook once
        ({"at": "9999-12-31T23:00:00+00:00"}, "at"),
        ({"at": "0001-01-01T01:00:00+00:00"}, "at"),  # none in Honolulu (UTC-10)
        ({"member": str(2**63)}, "member"),
        ({"chat_id": str(-(2**63) - 1)}, "chat_id"),
        ({"external_id": "A\x00"}, "external_id"),
        ({"items": "tea|ca\x00ke"}, "items"),
    ],
)
def test_bad_fields_are_named(change, field):
    with pytest.raises(ValidationError) as err:
        OrderIn.model_validate(ROW | change)
    assert field in {str(e["loc"][0]) for e in err.value.errors()}


def test_an_order_two_days_inside_the_datetimes_has_a_local_day_in_every_zone():
    from zoneinfo import ZoneInfo

    from campaigns.orders import EARLIEST, LATEST

    for at in (EARLIEST, LATEST):
        order = OrderIn.model_validate(ROW | {"at": at.isoformat()})
        for zone in ("Pacific/Kiritimati", "Etc/GMT+12", "Asia/Shanghai"):
            day = order.at.astimezone(ZoneInfo(zone)).date()
            assert day + dt.timedelta(days=1) > day


def test_purchase_points_count_whole_units():
    assert purchase_points(19990, 1) == 199
    assert purchase_points(19990, 0) == 0
    assert purchase_points(99, 5) == 0


def test_hostile_csv_rows_become_line_errors_not_exceptions(tmp_path):
    from bot.order_cli import read

    path = tmp_path / "orders.csv"
    path.write_text(
        "external_id,member,amount,at,currency\n"
        "A-1,42,1e999999999,2026-11-20T10:00:00+08:00,CNY\n"
        "A-2,42,-0,2026-11-20T10:00:00+08:00,CNY\n"
        "A-3,42,10,0001-01-01T00:00:00+10:00,CNY\n"
        "A-4,99999999999999999999,10,2026-11-20T10:00:00+08:00,CNY\n"
        "A-5,42,$5,2026-11-20T10:00:00+08:00,USD\n"
        "A-6,42,$5,2026-11-20T10:00:00+08:00,CNY\n",
        encoding="utf-8",
    )

    good, errors = read(path, chat=-100)

    assert [order.external_id for _, order in good] == ["A-5"]
    assert [(e["line"], e["field"]) for e in errors] == [
        (2, "amount"),
        (3, "amount"),
        (4, "at"),
        (5, "member"),
        (7, "-"),
    ]


def test_a_bad_row_is_explained_with_the_fields_form_and_an_example_not_the_validators_words(
    tmp_path,
):
    from bot.order_cli import read

    path = tmp_path / "orders.csv"
    path.write_text("external_id,member,amount,at\nA-1,abc,abc,yesterday\n", encoding="utf-8")

    _good, errors = read(path, chat=-100)

    said = {e["field"]: e["error"] for e in errors}
    assert said["member"].startswith("expected the buyer's Telegram user id")
    assert "e.g. 199.90" in said["amount"] and "Value error" not in said["amount"]
    assert "e.g. 2026-11-20T10:00:00+08:00" in said["at"]
    assert not any("Input should be" in text for text in said.values())


@pytest.mark.parametrize(
    ("row", "field", "says"),
    [
        (ROW | {"amount": True}, "amount", "(amount must be a number in major units"),
        (ROW | {"amount": "1.999"}, "amount", "(more than 2 decimals: '1.999')"),
        (ROW | {"at": "2026-11-20T10:00:00"}, "at", "(give a UTC offset"),
        (ROW | {"at": "0001-01-01T00:00:00+10:00"}, "at", "(the time is out of range)"),
        (ROW | {"items": "tea\x00"}, "items", "(contains a NUL character)"),
        (ROW | {"coupons": "!!"}, "coupons", "('!!' is not a valid coupon code)"),
    ],
)
def test_each_refused_field_is_said_from_its_code(row, field, says):
    from bot.order_texts import field_error

    with pytest.raises(ValidationError) as caught:
        OrderIn.model_validate(row)
    [error] = caught.value.errors()

    assert ".".join(map(str, error["loc"])) == field
    assert says in field_error(field, error)
