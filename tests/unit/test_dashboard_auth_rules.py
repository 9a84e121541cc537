"""The dashboard's tokens: group tokens fit Telegram's startapp, login links and sessions
are signed and expire; initData is checked by init-data-py."""

import datetime as dt
import json
import re

import init_data_py
import pytest

from bot.dashboard.auth import DashboardAuth, Identity, NotSignedIn, csrf_ok, page_language

NOW = dt.datetime(2026, 11, 30, 4, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> dt.datetime:
        return self.at


def auth(clock: Clock | None = None, secret: str = "s" * 20) -> DashboardAuth:
    return DashboardAuth(bot_token="1:T", secret=secret, now=clock or Clock())


def test_a_group_token_fits_startapp_and_names_its_group():
    token = auth().group_token(-1001500000001)

    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token)
    assert auth().group_of(token) == -1001500000001
    assert auth().group_of(auth().group_token(42)) == 42


def test_a_group_token_of_another_secret_or_edited_names_no_group():
    token = auth().group_token(-1001500000001)

    assert auth(secret="t" * 20).group_of(token) is None
    assert auth().group_of(token.replace("1001500000001", "1001500000002")) is None
    assert auth().group_of("g1_" + "A" * 22) is None


def test_a_session_survives_a_round_trip_and_not_an_edit():
    who = Identity(7, "zh", "token", "Op")
    cookie = auth().session_cookie(who)

    assert auth().session_of(cookie) == who
    assert auth().session_of(cookie[:-1] + ("A" if cookie[-1] != "A" else "B")) is None
    assert auth(secret="t" * 20).session_of(cookie) is None


def test_a_session_ends_after_twelve_hours():
    clock = Clock()
    cookie = auth(clock).session_cookie(Identity(7, "en", "c"))
    clock.at = NOW + dt.timedelta(hours=12, seconds=2)

    assert auth(clock).session_of(cookie) is None


def test_a_login_link_names_its_person_and_a_nonce_of_its_own():
    """Spending the nonce once is the database's (bot/dashboard/sessions.py; the HTTP test
    test_a_login_link_works_once): every link has its own."""
    a = auth()
    first, second = a.login_token(7, "en"), a.login_token(7, "en")

    who, nonce = a.redeem_login(first)
    _, other = a.redeem_login(second)

    assert who.user_id == 7 and nonce and nonce != other
    assert a.redeem_login(first)[1] == nonce  # the same link, the same nonce to spend


def test_init_data_from_the_future_is_refused():
    clock = Clock()
    data = init_data_py.sign(
        {"user": json.dumps({"id": 7, "first_name": "A"})}, "1:T",
        auth_date=NOW + dt.timedelta(minutes=5),
    )  # fmt: skip

    with pytest.raises(NotSignedIn):
        auth(clock).check_init_data(data)


def test_init_data_without_a_user_is_refused():
    data = init_data_py.sign({"query_id": "x"}, "1:T", auth_date=NOW)

    with pytest.raises(NotSignedIn):
        auth().check_init_data(data)


def test_languages_and_csrf():
    assert (page_language("zh-hans", "en"), page_language("en-US", "zh")) == ("zh", "en")
    assert page_language("de", "zh") == "zh"
    who = Identity(7, "en", "abc")
    assert csrf_ok(who, "abc") and not csrf_ok(who, "abd") and not csrf_ok(who, None)
