"""The dashboard's pages show what the chat commands show, and change what they change:
/stats' KPIs, members by audience (and the CSV), posts as /posts lists them, /set's checks."""

from __future__ import annotations

import csv
import io

import pytest

from campaigns.dashboard import MemberSort
from campaigns.segments import Stage
from campaigns.services.broadcasts import finish
from campaigns.services.segments import refresh_all
from handlers.segment_texts import SegmentTexts
from tests.dashboard.conftest import (
    ADMIN,
    ALICE,
    BOB,
    CAROL,
    GROUP,
    OTHER_ADMIN,
    OWNER,
    Board,
    seed,
)
from tests.handlers.conftest import Harness


@pytest.fixture
async def seeded(board: Board) -> Board:
    await seed(board.bot)
    await board.sign_in(ADMIN)
    return board


async def test_the_overview_shows_the_stats_kpis_and_chart_data(seeded: Board) -> None:
    page = await seeded.http.get(f"/dashboard/g/{GROUP}/?days=7")
    data = await seeded.http.get(f"/dashboard/g/{GROUP}/overview.json?days=7")
    replies = await seeded.bot.say(OWNER, "/stats 7d", at=seeded.bot.clock.now())
    card = next(r for r in replies if "Members" in r)

    assert page.status_code == 200 and "overview.json?days=7" in page.text
    assert "/dashboard/static/vendor/echarts.min.js" in page.text
    lines = {name: value for block in data.json()["blocks"] for name, value, _ in block}
    assert lines["Members"] == "4" and "DAU (daily average)" in lines
    assert f"Members <b>{lines['Members']}</b>" in card  # the same figure /stats gives
    charts = data.json()["charts"]
    checkins = next(s for s in charts["activity"]["series"] if s["name"] == "Check-ins")
    assert len(charts["activity"]["x"]) == 7 and sum(checkins["data"]) == 3


async def test_the_overview_figures_are_for_admins_of_that_group_only(seeded: Board) -> None:
    seeded.http.cookies.clear()
    await seeded.sign_in(OTHER_ADMIN)

    response = await seeded.http.get(f"/dashboard/g/{GROUP}/overview.json")

    assert response.status_code == 403 and "Members" not in response.text


async def test_members_are_filtered_by_a_saved_audience(seeded: Board) -> None:
    everyone = await seeded.http.get(f"/dashboard/g/{GROUP}/members")
    vip = await seeded.http.get(f"/dashboard/g/{GROUP}/members?audience=vip")

    assert all(name in everyone.text for name in ("Alice", "鲍勃", "Carol"))
    assert "Alice" in vip.text and "鲍勃" not in vip.text and "Carol" not in vip.text
    assert "1 member" in vip.text


async def test_members_are_searched_and_sorted(seeded: Board) -> None:
    found = await seeded.http.get(f"/dashboard/g/{GROUP}/members?q=ali")
    by_points = await seeded.http.get(f"/dashboard/g/{GROUP}/members?sort=points&dir=desc")
    wildcard = await seeded.http.get(f"/dashboard/g/{GROUP}/members?q=%25")

    assert "Alice" in found.text and "Carol" not in found.text
    text = by_points.text
    assert text.index("Alice") < text.index("Carol")  # Alice checked in: the most points
    assert "No member matches." in wildcard.text  # `%` is a character, not a wildcard


async def test_the_csv_has_the_audiences_members_with_the_export_columns(seeded: Board) -> None:
    response = await seeded.http.get(f"/dashboard/g/{GROUP}/members.csv?audience=vip")

    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [int(r["user_id"]) for r in rows] == [ALICE]
    assert rows[0]["tags"] == "vip" and int(rows[0]["points"]) > 0


async def test_a_post_made_and_paused_here_is_what_posts_lists(seeded: Board) -> None:
    csrf = await seeded.csrf()
    form = {"csrf": csrf, "when": "daily 09:00", "text": "<b>Good morning</b>"}

    preview = await seeded.http.post(f"/dashboard/g/{GROUP}/content", data=form | {"do": "preview"})
    saved = await seeded.http.post(f"/dashboard/g/{GROUP}/content", data=form | {"do": "save"})
    paused = await seeded.http.post(f"/dashboard/g/{GROUP}/posts/1/pause", data={"csrf": csrf})

    assert "<b>Good morning</b>" in preview.text and "Next runs" in preview.text
    assert saved.status_code == 303 and paused.status_code == 303
    [listed] = await seeded.bot.say(OWNER, "/posts")
    assert "#1" in listed and "paused" in listed.lower()
    page = await seeded.http.get(f"/dashboard/g/{GROUP}/content")
    assert 'id="post-1" data-status="paused"' in page.text


async def test_a_post_paused_in_chat_shows_paused_here(seeded: Board) -> None:
    csrf = await seeded.csrf()
    form = {"csrf": csrf, "when": "daily 09:00", "text": "Hello", "do": "save"}
    await seeded.http.post(f"/dashboard/g/{GROUP}/content", data=form)
    before = await seeded.http.get(f"/dashboard/g/{GROUP}/content")

    await seeded.bot.say(OWNER, "/post pause 1", at=seeded.bot.clock.now())
    after = await seeded.http.get(f"/dashboard/g/{GROUP}/content")

    assert 'id="post-1" data-status="active"' in before.text
    assert 'id="post-1" data-status="paused"' in after.text


async def test_a_bad_post_is_refused_with_schedules_words(seeded: Board) -> None:
    csrf = await seeded.csrf()

    response = await seeded.http.post(
        f"/dashboard/g/{GROUP}/content",
        data={"csrf": csrf, "when": "someday", "text": "Hi", "do": "save"},
    )

    assert response.status_code == 200 and 'role="alert"' in response.text
    assert "I can't read “someday” as a time." in response.text
    assert "Send /schedule for help" not in response.text  # the form is the help here
    [listed] = await seeded.bot.say(OWNER, "/posts")
    assert "#1" not in listed


async def test_settings_are_checked_and_answered_as_set_does(seeded: Board) -> None:
    csrf = await seeded.csrf()
    [in_chat] = await seeded.bot.say(OWNER, "/set checkin_points lots")

    refused = await seeded.http.post(
        f"/dashboard/g/{GROUP}/settings",
        data={"csrf": csrf, "key": "checkin_points", "value": "lots"},
    )
    changed = await seeded.http.post(
        f"/dashboard/g/{GROUP}/settings", data={"csrf": csrf, "key": "checkin_points", "value": "7"}
    )

    assert refused.status_code == 422
    assert in_chat.split("\n")[0].replace("<code>", "").replace("</code>", "")[:30] in (
        refused.text.replace("<code>", "").replace("</code>", "")
    )
    assert changed.status_code == 200
    assert (await seeded.bot.app.bot_data.deps.settings_of(GROUP)).checkin.points == 7


async def test_the_language_switches_to_chinese(seeded: Board) -> None:
    csrf = await seeded.csrf()

    switched = await seeded.http.post(
        "/dashboard/lang",
        data={"csrf": csrf, "language": "zh", "next": f"/dashboard/g/{GROUP}/members"},
        follow_redirects=True,
    )

    assert switched.status_code == 200  # followed to the members page
    assert 'lang="zh-Hans"' in switched.text
    assert 'aria-current="page">成员</a>' in switched.text and "下载 CSV" in switched.text


async def test_dashboard_in_private_answers_with_a_web_app_button(board: Board) -> None:
    await board.private(ADMIN, "/dashboard")

    sent = [c for c in board.bot.world.calls if c.method == "sendMessage"][-1]
    [[button]] = sent.params["reply_markup"]["inline_keyboard"]
    assert button["web_app"]["url"] == "http://bot/dashboard/"


async def test_dashboard_in_a_group_gives_admins_a_startapp_link(board: Board) -> None:
    [reply] = await board.bot.say(ADMIN, "/dashboard")
    refused = await board.bot.say(BOB, "/dashboard")
    links = board.bot.app.bot_data.deps.dashboard
    assert links is not None

    assert "startapp=" + links.group_link(GROUP).split("startapp=")[1] in reply
    assert "web_app" not in str(board.bot.world.calls[-1].params)
    assert refused and "startapp" not in refused[0]


__all__ = ["CAROL"]


async def test_a_big_table_is_counted_only_up_to_the_cap_and_read_by_index_order(
    seeded: Board,
) -> None:
    uow = seeded.bot.app.bot_data.deps.uow()
    async with uow:
        record = await uow.chats.get(GROUP)
        assert record is not None
        ladder = await uow.audiences.ladder(record.pk)
        total, first = await uow.audiences.browse(
            record.pk, None, seeded.bot.clock.now(), ladder, search="",
            sort=MemberSort.POINTS, descending=True, offset=0, limit=2, count_cap=2,
        )  # fmt: skip
        _, rest = await uow.audiences.browse(
            record.pk, None, seeded.bot.clock.now(), ladder, search="",
            sort=MemberSort.POINTS, descending=True, offset=2, limit=2, count_cap=2,
        )  # fmt: skip

    assert total == 3  # four members: "more than 2"
    assert first[0].user_id == ALICE and first[0].points > 0
    assert len({m.user_id for m in first + rest}) == 4


async def test_a_broadcast_being_sent_shows_its_progress_until_it_is_done(seeded: Board) -> None:
    bot = seeded.bot
    await bot.say(OWNER, "/broadcast\nFlash sale tonight", at=bot.clock.now())
    question = bot.world.sent(GROUP)[-1]
    go = question.params["reply_markup"]["inline_keyboard"][0][0]
    await bot.send(bot.world.callback(GROUP, OWNER, go["callback_data"]))
    before = await seeded.http.get(f"/dashboard/g/{GROUP}/content")
    polled = await seeded.http.get(f"/dashboard/g/{GROUP}/broadcasts")

    await bot.drain()
    await bot.clock.run(finish_all(bot))
    after = await seeded.http.get(f"/dashboard/g/{GROUP}/broadcasts")

    assert 'data-live="1"' in before.text and "Broadcast #1" in before.text
    assert "Broadcast #1" in polled.text and "/dashboard/static/live.js" in before.text
    assert "Broadcast #1" not in after.text and "No broadcast is being sent" in after.text


async def finish_all(bot: Harness) -> None:
    """The job that marks broadcasts with nothing left as done."""
    await finish(bot.app.bot_data.deps.uow, now=bot.clock.now())


async def test_another_admin_cannot_poll_a_groups_broadcasts(seeded: Board) -> None:
    seeded.http.cookies.clear()
    await seeded.sign_in(OTHER_ADMIN)

    response = await seeded.http.get(f"/dashboard/g/{GROUP}/broadcasts")

    assert response.status_code == 403


async def test_commerce_lists_offers_deals_and_the_latest_orders(seeded: Board) -> None:
    bot = seeded.bot
    created = await bot.say(OWNER, "/coupon new 周末券 stock=5\n满199减30", at=bot.clock.now())
    uow = bot.app.bot_data.deps.uow()
    async with uow:
        record = await uow.chats.get(GROUP)
        assert record is not None
        await uow.orders.add(
            record.pk, external_id="A-1001", user_id=ALICE, amount=19900, currency="CNY",
            at=bot.clock.now(), coupon_codes=[], items=[], source="import",
        )  # fmt: skip
        await uow.commit()

    page = await seeded.http.get(f"/dashboard/g/{GROUP}/commerce")

    assert page.status_code == 200
    assert "A-1001" in page.text and "¥199.00" in page.text and str(ALICE) in page.text
    assert 'id="offer-1"' in page.text, created
    assert "/offers/1/end" in page.text  # a live offer can be ended here


async def test_an_offer_ended_here_is_ended_for_coupon_list_too(seeded: Board) -> None:
    bot = seeded.bot
    await bot.say(OWNER, "/coupon new 周末券 stock=5\n满199减30", at=bot.clock.now())
    csrf = await seeded.csrf()

    ended = await seeded.http.post(f"/dashboard/g/{GROUP}/offers/1/end", data={"csrf": csrf})
    unknown = await seeded.http.post(f"/dashboard/g/{GROUP}/offers/99/end", data={"csrf": csrf})
    page = await seeded.http.get(f"/dashboard/g/{GROUP}/commerce")

    assert ended.status_code == 303 and unknown.status_code == 404
    assert "/offers/1/end" not in page.text
    told = await seeded.http.get(ended.headers["location"])
    assert "Offer #1 has ended: no more claims." in told.text
    assert 'data-confirm="End offer #' not in page.text  # no button left to ask about
    listed = "\n".join(await bot.say(OWNER, "/coupon list", at=bot.clock.now()))
    assert "#1" in listed and "ended" in listed.lower()


async def test_campaigns_show_the_list_and_the_retro_with_targets(seeded: Board) -> None:
    bot = seeded.bot
    await bot.say(
        ADMIN, "/campaign new 双12 12-01 12-03 新增=3 gmv=500 budget=100", at=bot.clock.now()
    )
    bot.world.start_private(ADMIN)
    report = await bot.say(ADMIN, "/campaign report 1", at=bot.clock.now())

    page = await seeded.http.get(f"/dashboard/g/{GROUP}/campaigns")

    assert page.status_code == 200 and "双12" in page.text
    retro = report[0].split("\n")[0]  # the 复盘's first line, as chat shows it
    assert retro in page.text


async def test_odd_input_is_refused_never_a_server_error(seeded: Board) -> None:
    """Ids beyond the databases' BIGINT, a NUL in a search, a sign-in from another site."""
    csrf = await seeded.csrf()
    huge = "9" * 19
    pages = [
        await seeded.http.get(f"/dashboard/g/{huge}/settings"),
        await seeded.http.get(f"/dashboard/g/-{huge}/overview.json"),
        await seeded.http.post(f"/dashboard/g/{GROUP}/posts/{huge}/pause", data={"csrf": csrf}),
        await seeded.http.post(f"/dashboard/g/{GROUP}/offers/{huge}/end", data={"csrf": csrf}),
    ]
    assert all(400 <= p.status_code < 500 for p in pages), [p.status_code for p in pages]
    search = await seeded.http.get(f"/dashboard/g/{GROUP}/members", params={"q": "a\x00b"})
    assert search.status_code == 200
    foreign = await seeded.http.post(
        "/dashboard/auth", data={"init_data": "x"}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403


async def test_the_post_preview_keeps_telegrams_formatting_and_drops_the_rest(
    seeded: Board,
) -> None:
    csrf = await seeded.csrf()
    text = '<b onmouseover="alert(1)">Hi</b> <a href="javascript:alert(1)">x</a> <a href="https://t.me/x">ok</a>'
    page = await seeded.http.post(
        f"/dashboard/g/{GROUP}/content",
        data={"csrf": csrf, "text": text, "when": "daily 09:00", "do": "preview"},
    )
    assert page.status_code == 200
    shown = page.text.split('class="preview', 1)[1].split("</ul>", 1)[0]  # the bubble
    assert "<b>Hi</b>" in shown and '<a href="https://t.me/x">ok</a>' in shown
    assert "onmouseover" not in shown and "javascript:" not in shown


async def test_hostile_and_odd_input_found_in_review_is_answered_never_a_500(
    seeded: Board,
) -> None:
    """What a reviewer's attack turned up: a setting key with spaces, a button naming an offer
    that is not this group's, a 19-digit search beyond BIGINT, a deeply nested initData, a
    group id in Arabic-Indic digits, a long Chinese post."""
    csrf = await seeded.csrf()
    content = f"/dashboard/g/{GROUP}/content"

    spaced = await seeded.http.post(
        f"/dashboard/g/{GROUP}/settings", data={"csrf": csrf, "key": " Language ", "value": "zh"}
    )
    foreign = {"csrf": csrf, "when": "daily 09:00", "text": "Hi\nbutton: Claim | coupon 77"}
    previewed = await seeded.http.post(content, data=foreign | {"do": "preview"})
    saved = await seeded.http.post(content, data=foreign | {"do": "save"})
    search = await seeded.http.get(
        f"/dashboard/g/{GROUP}/members", params={"q": "9999999999999999999"}
    )
    export = await seeded.http.get(
        f"/dashboard/g/{GROUP}/members.csv", params={"q": "9999999999999999999"}
    )
    nested = "auth_date=1767571200&hash=" + "a" * 64 + "&user=" + "[" * 3000 + "]" * 3000
    signed = await seeded.http.post("/dashboard/auth", data={"init_data": nested})
    arabic = await seeded.http.get("/dashboard/g/-١٠٠١٥٠٠٠٠٠٠٠١/settings")
    long_post = {"csrf": csrf, "when": "每天 09:00", "text": "欢迎" * 1500, "do": "preview"}
    long_preview = await seeded.http.post(content, data=long_post)

    assert spaced.status_code == 200 and "language" in spaced.text
    assert previewed.status_code == 200 and saved.status_code == 200
    assert "coupon" in previewed.text.lower() and 'id="save-post"' not in previewed.text
    [post_list] = await seeded.bot.say(OWNER, "/posts")
    assert "Claim" not in post_list  # nothing saved
    assert search.status_code == 200 and export.status_code == 200
    assert signed.status_code == 401 and signed.json()["error"] == "forged"
    assert arabic.status_code == 403
    assert long_preview.status_code == 200 and "欢迎欢迎" in long_preview.text


async def test_members_are_found_by_at_username_with_stage_names_in_the_pages_language(
    seeded: Board,
) -> None:
    bot = seeded.bot
    await refresh_all(bot.app.bot_data.deps.uow, bot.clock.now())  # the hourly job
    found = await seeded.http.get(f"/dashboard/g/{GROUP}/members", params={"q": "@alice"})
    await seeded.http.post("/dashboard/lang", data={"csrf": await seeded.csrf(), "language": "zh"})
    chinese = await seeded.http.get(f"/dashboard/g/{GROUP}/members")

    assert "Alice" in found.text and "Carol" not in found.text
    cells = chinese.text.split("<tbody>", 1)[1]
    stages = {SegmentTexts("zh").stage(stage) for stage in Stage}
    assert any(f"<td>{name}</td>" in cells for name in stages)
    assert "<td>active</td>" not in cells and "<td>new</td>" not in cells


async def test_a_post_is_listed_with_its_text_escaped_once_and_the_groups_time_zone(
    seeded: Board,
) -> None:
    csrf = await seeded.csrf()
    content = f"/dashboard/g/{GROUP}/content"
    post = {"csrf": csrf, "when": "daily 09:00", "text": "Tom &amp; Jerry &lt;3 <b>bold</b>"}
    preview = await seeded.http.post(
        content, data=post | {"text": post["text"] + "\nbutton: Shop | https://x.example",
                              "pin": "on", "do": "preview"}
    )  # fmt: skip
    await seeded.http.post(content, data=post | {"do": "save"})
    page = await seeded.http.get(content)

    assert "Tom &amp; Jerry &lt;3 bold" in page.text and "&amp;amp;" not in page.text
    assert "Asia/Shanghai" in page.text.split('id="times-in"', 1)[1][:120]
    assert 'class="post-button">Shop<' in preview.text and 'id="preview-options"' in preview.text


async def test_a_mistyped_address_is_a_page_in_the_sessions_language(seeded: Board) -> None:
    await seeded.http.post("/dashboard/lang", data={"csrf": await seeded.csrf(), "language": "zh"})

    missing = await seeded.http.get(f"/dashboard/g/{GROUP}/nope")

    assert missing.status_code == 404
    assert "数据看板里没有这个页面。" in missing.text and 'href="/dashboard/"' in missing.text
