"""Signing in to the dashboard and who may see what: initData checked (forged, stale),
the session cookie's flags, CSRF on writes, and one group's admin kept out of another's."""

from __future__ import annotations

import datetime as dt

from tests.dashboard.conftest import (
    ADMIN,
    ALICE,
    GROUP,
    OTHER_ADMIN,
    OTHER_GROUP,
    Board,
    init_data,
)


async def test_signed_init_data_signs_in_with_an_httponly_samesite_cookie(board: Board) -> None:
    response = await board.sign_in(ADMIN)

    assert response.status_code == 200
    assert response.json() == {"next": "/dashboard/groups"}
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/dashboard" in cookie
    groups = await board.http.get("/dashboard/groups")
    assert "Sunny Tea Club" in groups.text and "Other Shop" not in groups.text


async def test_forged_init_data_is_refused(board: Board) -> None:
    forged = init_data(ADMIN, board.bot.clock.now(), token="123:SOMEONE-ELSE")

    response = await board.http.post("/dashboard/auth", data={"init_data": forged})

    assert response.status_code == 401 and response.json()["error"] == "forged"
    assert "set-cookie" not in response.headers


async def test_altered_init_data_is_refused(board: Board) -> None:
    signed = init_data(ALICE, board.bot.clock.now())
    altered = signed.replace(str(ALICE), str(ADMIN))

    response = await board.http.post("/dashboard/auth", data={"init_data": altered})

    assert response.status_code == 401


async def test_init_data_older_than_an_hour_is_refused(board: Board) -> None:
    stale = init_data(ADMIN, board.bot.clock.now() - dt.timedelta(hours=1, seconds=5))
    fresh = init_data(ADMIN, board.bot.clock.now() - dt.timedelta(minutes=59))

    refused = await board.http.post("/dashboard/auth", data={"init_data": stale})
    accepted = await board.http.post("/dashboard/auth", data={"init_data": fresh})

    assert refused.status_code == 401 and refused.json()["error"] == "stale"
    assert accepted.status_code == 200


async def test_a_group_link_opens_that_group(board: Board) -> None:
    links = board.bot.app.bot_data.deps.dashboard
    assert links is not None
    token = links.group_link(GROUP).split("startapp=")[1]

    response = await board.sign_in(ADMIN, start_param=token)

    assert response.json() == {"next": f"/dashboard/g/{GROUP}/"}


async def test_a_made_up_group_token_opens_no_group(board: Board) -> None:
    response = await board.sign_in(ADMIN, start_param=f"gn{-GROUP}_AAAAAAAAAAAAAAAAAAAAAA")

    assert response.json() == {"next": "/dashboard/groups"}


async def test_pages_need_a_session(board: Board) -> None:
    response = await board.http.get(f"/dashboard/g/{GROUP}/members", follow_redirects=False)

    assert response.status_code == 303 and response.headers["location"] == "/dashboard/"


async def test_an_altered_cookie_is_no_session(board: Board) -> None:
    await board.sign_in(ADMIN)
    cookie = board.http.cookies["gb_session"]
    board.http.cookies.clear()
    board.http.cookies.set("gb_session", cookie[:-2] + "xx", domain="bot", path="/dashboard")

    response = await board.http.get(f"/dashboard/g/{GROUP}/settings", follow_redirects=False)

    assert response.status_code == 303


async def test_an_admin_of_one_group_cannot_open_anothers_pages(board: Board) -> None:
    await board.sign_in(OTHER_ADMIN)

    for page in ("", "members", "members.csv", "campaigns", "content", "commerce", "settings"):
        response = await board.http.get(f"/dashboard/g/{GROUP}/{page}")
        assert response.status_code == 403, page
        assert "Sunny Tea Club" not in response.text
    own = await board.http.get(f"/dashboard/g/{OTHER_GROUP}/settings")
    assert own.status_code == 200


async def test_a_member_who_is_no_admin_sees_nothing(board: Board) -> None:
    await board.sign_in(ALICE)

    response = await board.http.get(f"/dashboard/g/{GROUP}/")

    assert response.status_code == 403


async def test_an_admin_of_one_group_cannot_write_to_another(board: Board) -> None:
    await board.sign_in(ADMIN)
    await board.http.post(
        f"/dashboard/g/{GROUP}/content",
        data={"csrf": await board.csrf(), "when": "daily 09:00", "text": "Hi", "do": "save"},
    )
    board.http.cookies.clear()
    await board.sign_in(OTHER_ADMIN)
    page = await board.http.get(f"/dashboard/g/{OTHER_GROUP}/settings")
    marker = 'name="csrf" value="'
    csrf = page.text[page.text.index(marker) + len(marker) :].split('"')[0]

    paused = await board.http.post(f"/dashboard/g/{GROUP}/posts/1/pause", data={"csrf": csrf})
    set_ = await board.http.post(
        f"/dashboard/g/{GROUP}/settings", data={"csrf": csrf, "key": "language", "value": "zh"}
    )
    sideways = await board.http.post(
        f"/dashboard/g/{OTHER_GROUP}/posts/1/pause", data={"csrf": csrf}
    )

    assert paused.status_code == 403 and set_.status_code == 403
    assert sideways.status_code == 409  # post 1 is GROUP's: unknown in OTHER_GROUP
    posts = await board.bot.say(ADMIN, "/posts")
    assert "#1" in posts[-1] and "paused" not in posts[-1].lower()
    settings = await board.bot.app.bot_data.deps.settings_of(GROUP)
    assert settings.language == "en"


async def test_a_write_without_the_csrf_token_changes_nothing(board: Board) -> None:
    await board.sign_in(ADMIN)

    without = await board.http.post(
        f"/dashboard/g/{GROUP}/settings", data={"key": "language", "value": "zh"}
    )
    wrong = await board.http.post(
        f"/dashboard/g/{GROUP}/settings", data={"csrf": "guess", "key": "language", "value": "zh"}
    )

    assert without.status_code == 403 and wrong.status_code == 403
    assert (await board.bot.app.bot_data.deps.settings_of(GROUP)).language == "en"


async def test_a_write_from_another_origin_is_refused(board: Board) -> None:
    await board.sign_in(ADMIN)
    csrf = await board.csrf()

    response = await board.http.post(
        f"/dashboard/g/{GROUP}/settings",
        data={"csrf": csrf, "key": "language", "value": "zh"},
        headers={"Origin": "https://evil.example"},
    )

    assert response.status_code == 403


async def test_a_login_link_works_once(board: Board) -> None:
    link = await board.login_link(ADMIN)

    first = await board.http.get(link, follow_redirects=False)
    board.http.cookies.clear()
    second = await board.http.get(link, follow_redirects=False)

    assert first.status_code == 303 and "gb_session" in first.headers["set-cookie"]
    assert second.status_code == 401


async def test_a_login_link_expires_after_five_minutes(board: Board) -> None:
    link = await board.login_link(ADMIN)
    board.bot.clock.advance(301)

    response = await board.http.get(link, follow_redirects=False)

    assert response.status_code == 401


async def test_a_bot_owner_opens_every_group(board: Board) -> None:
    await board.sign_in(999)  # BOT_OWNER_IDS=999, an admin of neither group in Telegram

    groups = await board.http.get("/dashboard/groups")
    page = await board.http.get(f"/dashboard/g/{OTHER_GROUP}/settings")

    assert "Sunny Tea Club" in groups.text and "Other Shop" in groups.text
    assert page.status_code == 200


async def test_an_admin_removed_in_telegram_is_refused_once_the_cache_forgets(
    board: Board,
) -> None:
    await board.sign_in(ADMIN)
    assert (await board.http.get(f"/dashboard/g/{GROUP}/settings")).status_code == 200
    board.bot.world.set_status(GROUP, ADMIN, "member")
    board.bot.app.bot_data.deps.admins.forget(GROUP)  # as a chat_member update does

    response = await board.http.get(f"/dashboard/g/{GROUP}/settings")

    assert response.status_code == 403


async def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(board: Board) -> None:
    await board.sign_in(ADMIN)
    copied = board.http.cookies["gb_session"]
    csrf = await board.csrf()

    out = await board.http.post("/dashboard/logout", data={"csrf": csrf})
    board.http.cookies.set("gb_session", copied, domain="bot", path="/dashboard")
    page = await board.http.get(f"/dashboard/g/{GROUP}/settings", follow_redirects=False)
    write = await board.http.post(
        f"/dashboard/g/{GROUP}/settings", data={"csrf": csrf, "key": "points", "value": "9"}
    )

    assert out.status_code == 303
    assert page.status_code == 303 and page.headers["location"] == "/dashboard/"
    assert write.status_code == 401


async def test_an_init_data_signs_in_once_and_a_reload_keeps_the_session(board: Board) -> None:
    data = init_data(ADMIN, board.bot.clock.now(), language="zh")

    first = await board.http.post("/dashboard/auth", data={"init_data": data})
    reload = await board.http.post("/dashboard/auth", data={"init_data": data})
    board.http.cookies.clear()  # someone else who copied it: no session of the person
    replayed = await board.http.post("/dashboard/auth", data={"init_data": data})

    assert first.status_code == 200 and reload.status_code == 200
    assert "set-cookie" not in reload.headers  # the same session goes on
    assert replayed.status_code == 401 and replayed.json()["error"] == "spent"
    assert (
        replayed.json()["message"] == "这次登录已经用过了。请关闭数据看板，再从 Telegram 重新打开。"
    )
    assert "set-cookie" not in replayed.headers
    assert (await board.http.get("/dashboard/groups", follow_redirects=False)).status_code == 303


async def test_another_persons_session_does_not_let_a_copied_init_data_in(board: Board) -> None:
    data = init_data(ADMIN, board.bot.clock.now())
    await board.http.post("/dashboard/auth", data={"init_data": data})
    board.http.cookies.clear()
    await board.sign_in(ALICE)

    replayed = await board.http.post("/dashboard/auth", data={"init_data": data})

    assert replayed.status_code == 401 and "used already" in replayed.json()["message"]


async def test_an_admin_demoted_in_telegram_is_refused_within_a_minute(board: Board) -> None:
    """No chat_member update reaches the bot (it may not be an admin to get them): the
    dashboard asks Telegram's admin list again once the kept one is a minute old."""
    admins = board.bot.app.bot_data.deps.admins
    offset = 0.0
    real = admins.monotonic
    admins.monotonic = lambda: real() + offset
    await board.sign_in(ADMIN)
    assert (await board.http.get(f"/dashboard/g/{GROUP}/settings")).status_code == 200
    board.bot.world.set_status(GROUP, ADMIN, "member")

    offset = 30.0
    still = await board.http.get(f"/dashboard/g/{GROUP}/settings")
    offset = 61.0
    refused = await board.http.get(f"/dashboard/g/{GROUP}/settings")

    assert still.status_code == 200  # within the minute the kept list answers
    assert refused.status_code == 403
