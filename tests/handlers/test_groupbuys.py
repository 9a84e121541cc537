"""Group-buys through the real handlers: post, start, join, complete, leave, expire."""

from __future__ import annotations

import datetime as dt
import re

from campaigns.groupbuys import Deal, Refusal
from campaigns.services.groupbuys import create_deal, expire_teams
from handlers.callbacks import GroupBuyButton, GroupBuyVerb, build, parse
from handlers.groupbuy_texts import GroupBuyTexts
from handlers.groupbuys import announce_expired
from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, OWNER, Harness, tap

START, JOIN_ANY, JOIN, LEAVE = GroupBuyVerb


async def deal_id(bot: Harness, size: int = 3, stock: int | None = None) -> int:
    now = bot.clock.now()
    created = await create_deal(
        bot.app.bot_data.deps.uow(),
        chat_id=GROUP,
        deal=Deal("Milk tea", 3000, 1990, size, 60, now + dt.timedelta(days=1), stock),
        description="Brown sugar boba",
        at=now,
    )
    return created.id


async def press(bot: Harness, user: int, verb: GroupBuyVerb, target: int) -> str:
    """A member taps a group-buy button in the group (a deal's 🚀 or ➕ on its post, which the
    owner posts first if it was not yet); the bot's answer."""
    button = GroupBuyButton(verb, target)
    if verb in {START, JOIN_ANY} and bot.world.button_message(GROUP, build(button)) is None:
        await bot.say(OWNER, f"/groupbuy post {target}")
    return await tap(bot, GROUP, user, button)


def team_of(bot: Harness) -> int:
    card = next(c for c in reversed(bot.world.sent(GROUP)) if "Team for" in c.text)
    return parse(card.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]).target


async def test_a_team_fills_up_and_every_member_gets_a_coupon(bot: Harness):
    deal = await deal_id(bot)
    for member in (ALICE, BOB, CAROL):
        bot.world.start_private(member)

    [refused] = await bot.say(ALICE, f"/groupbuy post {deal}")
    [post] = await bot.say(OWNER, f"/groupbuy post {deal}")
    started = await press(bot, ALICE, START, deal)
    team = team_of(bot)
    again = await press(bot, ALICE, START, deal)
    await press(bot, BOB, JOIN, team)
    await press(bot, CAROL, JOIN, team)
    late = await press(bot, ADMIN, JOIN, team)

    assert "only group admins" in refused
    assert "3 people pay <b>¥19.90</b> each instead of ¥30.00" in post
    assert "Brown sugar boba" in post
    assert "1/3" in started
    assert "already in a team" in again
    assert "closed" in late
    edits = [
        c
        for c in bot.world.calls
        if c.method == "editMessageText" and "Team for" in c.params["text"]
    ]
    assert "2/3" in edits[0].params["text"]
    assert "is complete" in edits[-1].params["text"] and "reply_markup" not in edits[-1].params
    for member in (ALICE, CAROL):
        dm = bot.world.sent(member)[-1].text
        assert "complete" in dm and "so you pay ¥19.90" in dm
    assert "拼团成功" in bot.world.sent(BOB)[-1].text  # Bob's Telegram is in Chinese


async def test_leaving_frees_the_slot_and_expired_teams_are_announced(bot: Harness):
    deal = await deal_id(bot)
    bot.world.start_private(BOB)
    await press(bot, ALICE, START, deal)
    team = team_of(bot)
    await press(bot, BOB, JOIN, team)
    await press(bot, BOB, LEAVE, team)
    not_in = await press(bot, BOB, LEAVE, team)
    await press(bot, BOB, JOIN, team)

    deps = bot.app.bot_data.deps
    expired = await expire_teams(deps.uow, now=bot.clock.now() + dt.timedelta(hours=2))
    await announce_expired(bot.app.bot, deps, expired)

    assert "not in this team" in not_in
    assert [len(v.members) for v in expired] == [2]
    assert (
        "did not fill up" in [c for c in bot.world.calls if c.method == "editMessageText"][-1].text
    )
    assert "无需支付" in bot.world.sent(BOB)[-1].text  # in Bob's language


async def test_chinese_groups_get_chinese_group_buy_texts(bot: Harness):
    await bot.say(OWNER, "/set language zh")
    deal = await deal_id(bot, stock=1)

    [post] = await bot.say(OWNER, f"/groupbuy post {deal}")
    await press(bot, ALICE, START, deal)
    sold_out = await press(bot, BOB, JOIN, team_of_zh(bot))

    assert "3 人成团" in post and "剩余 1 份" in post
    assert "售罄" in sold_out


def team_of_zh(bot: Harness) -> int:
    card = next(c for c in reversed(bot.world.sent(GROUP)) if "拼团中" in c.text)
    return parse(card.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]).target


async def test_a_teams_share_link_brings_a_friend_in_as_the_leaders_referral(bot: Harness):
    from campaigns.services.referral_reports import invite_columns

    friend = 41
    bot.world.add_user(friend, "Fay", language_code="en")
    bot.world.start_private(friend)
    deal = await deal_id(bot)
    await press(bot, ALICE, START, deal)
    team = team_of(bot)
    card = next(c for c in reversed(bot.world.sent(GROUP)) if "Team for" in c.text)
    share = card.params["reply_markup"]["inline_keyboard"][1][0]["url"]
    payload = share.split("?start=")[1]

    welcome, team_card = await bot.send(bot.world.message(friend, friend, f"/start {payload}"))
    link = next(w for w in welcome.split() if w.startswith("https://t.me/+"))
    await bot.send(bot.world.join_via_link(GROUP, friend, link))
    await tap(bot, friend, friend, GroupBuyButton(JOIN, team))

    # The link carries an unguessable token, never the (sequential) team id.
    assert re.fullmatch(r"team_[A-Za-z0-9_-]{16}", payload) and payload != f"team_{team}"
    assert "Alice Liu</b> invited you" in welcome
    assert "1/3" in team_card
    columns = await invite_columns(bot.app.bot_data.deps.uow(), chat_id=GROUP)
    assert columns[friend][0] == ALICE  # credited to the team's leader
    edits = [c for c in bot.world.calls if c.method == "editMessageText"]
    assert "2/3" in edits[-1].params["text"] and "Fay" in edits[-1].params["text"]


async def test_the_deal_post_keeps_count_and_is_marked_when_the_deal_ends(bot: Harness):
    from campaigns.services.groupbuys import end_deals
    from handlers.groupbuys import announce_ended

    deps = bot.app.bot_data.deps
    deps.deal_posts.interval = 0  # edit on every change in this test
    deal = await deal_id(bot, size=2)
    [post] = await bot.say(OWNER, f"/groupbuy post {deal}")
    post_id = bot.world.sent(GROUP)[-1]
    await press(bot, ALICE, START, deal)
    await press(bot, BOB, JOIN, team_of(bot))
    await press(bot, CAROL, START, deal)

    edits = [c for c in bot.world.calls if c.method == "editMessageText"]
    deal_edits = [e for e in edits if "Open teams" in e.params["text"]]
    ended = await end_deals(deps.uow, now=bot.clock.now() + dt.timedelta(days=2))
    again = await end_deals(deps.uow, now=bot.clock.now() + dt.timedelta(days=3))
    await announce_ended(bot.app.bot, deps, ended)

    assert "Milk tea" in post and post_id.method == "sendMessage"
    assert "Open teams: 1 · ✅ complete: 1" in deal_edits[-1].params["text"]
    assert (len(ended), again) == (1, [])
    final = [c for c in bot.world.calls if c.method == "editMessageText"][-1]
    assert "has ended: 1 teams completed" in final.params["text"]
    assert "reply_markup" not in final.params


async def test_deal_post_edits_are_coalesced_within_the_interval(bot: Harness):
    deps = bot.app.bot_data.deps
    deps.deal_posts.interval = 60
    deal = await deal_id(bot)
    await bot.say(OWNER, f"/groupbuy post {deal}")
    await press(bot, ALICE, START, deal)
    await press(bot, BOB, JOIN, team_of(bot))
    await press(bot, CAROL, JOIN, team_of(bot))

    deal_edits = [
        c
        for c in bot.world.calls
        if c.method == "editMessageText" and "Open teams" in c.params["text"]
    ]
    assert len(deal_edits) == 1  # the first change edits, the rest wait for one later edit
    assert list(deps.deal_posts.pending) == [deal]


async def test_join_from_the_deal_post_picks_the_team_closest_to_completing(bot: Harness):
    deal = await deal_id(bot)
    await bot.say(OWNER, f"/groupbuy post {deal}")
    buttons = bot.world.sent(GROUP)[-1].params["reply_markup"]["inline_keyboard"][0]

    nothing = await press(bot, BOB, JOIN_ANY, deal)
    await press(bot, ALICE, START, deal)
    await press(bot, CAROL, START, deal)
    await press(bot, ADMIN, JOIN, team_of(bot))  # Carol's team now has 2 of 3
    joined = await press(bot, BOB, JOIN_ANY, deal)

    assert [b["callback_data"] for b in buttons] == [f"gb:s:{deal}", f"gb:a:{deal}"]
    assert "No team is open" in nothing
    assert "3/3" in joined


async def test_admins_create_a_deal_in_chat_once_and_get_usage_for_bad_input(bot: Harness):
    create = bot.world.message(GROUP, OWNER, "/groupbuy new 3 32 19.9 120 48 Mango sago")

    [post] = await bot.send(create)
    replay = await bot.send(create)
    [bad_size] = await bot.say(OWNER, "/groupbuy new 99 32 19.9 120 48 Too big")
    [bad_price] = await bot.say(OWNER, "/groupbuy new 3 19.9 32 120 48 Upside down")
    [short] = await bot.say(OWNER, "/groupbuy new 3 32")
    [member] = await bot.say(ALICE, "/groupbuy new 3 32 19.9 120 48 Mine")

    assert "Group-buy: <b>Mango sago</b>" in post and "3 people pay <b>¥19.90</b>" in post
    assert replay == []
    for refused in (bad_size, bad_price, short):
        assert "/groupbuy new 3 32 19.9 120 48" in refused
    assert "only group admins" in member


async def test_a_deal_with_a_photo_is_uploaded_once_and_its_caption_kept_current(bot: Harness):
    deps = bot.app.bot_data.deps
    deps.deal_posts.interval = 0
    now = bot.clock.now()
    made = await create_deal(
        deps.uow(),
        chat_id=GROUP,
        deal=Deal("Mango sago", 3200, 1990, 2, 60, now + dt.timedelta(days=1)),
        description="x" * 1000,  # longer than a caption allows
        at=now,
        photo=("sago.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 4096),
    )

    await bot.say(OWNER, f"/groupbuy post {made.id}")
    await bot.say(OWNER, f"/groupbuy post {made.id}")
    await press(bot, ALICE, START, made.id)

    first, second = [c for c in bot.world.calls if c.method == "sendPhoto"]
    assert first.params["photo"] == "<upload sago.jpg, 4100 bytes>"
    assert second.params["photo"] in bot.world.files  # reused, not uploaded again
    assert "Mango sago" in first.params["caption"] and "…" in first.params["caption"]
    assert first.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == (
        f"gb:s:{made.id}"
    )
    [edit] = [c for c in bot.world.calls if c.method == "editMessageCaption"]
    assert "Open teams: 1" in edit.params["caption"]
    assert not [c for c in bot.world.calls if c.method == "editMessageText" and "Open" in c.text]
    assert bot.world.problems() == []


async def test_time_left_is_refreshed_on_a_timer_only_when_it_changed(bot: Harness):
    from bot.jobs import refresh_countdowns

    deps = bot.app.bot_data.deps
    deps.deal_posts.interval = 0
    deal = await deal_id(bot)
    await bot.say(OWNER, f"/groupbuy post {deal}")
    await press(bot, ALICE, START, deal)
    before = len(bot.world.calls)

    later = bot.clock.now() + dt.timedelta(minutes=25)
    await refresh_countdowns(bot.app.bot, deps, later)
    edits = bot.world.calls[before:]
    await refresh_countdowns(bot.app.bot, deps, later)

    assert [c.method for c in edits] == ["editMessageText", "editMessageText"]
    assert "the deal ends in 23h 35m" in edits[0].text  # the clock stood still meanwhile
    assert "1/3, 35m left" in edits[1].text
    assert len(bot.world.calls) == before + 2  # nothing changed, nothing edited


async def test_admins_list_and_end_deals_and_each_bad_argument_is_named(bot: Harness):
    deal = await deal_id(bot)
    await press(bot, ALICE, START, deal)

    replies = [
        (await bot.say(OWNER, text))[0]
        for text in (
            "/groupbuy new 1 32 19.9 120 48 Tea",
            "/groupbuy new 3 abc 19.9 120 48 Tea",
            "/groupbuy new 3 32 40 120 48 Tea",
            "/groupbuy new 3 32 19.9 0 48 Tea",
            "/groupbuy new 3 32 19.9 120 nan Tea",
            "/groupbuy new 3 32",
            "/groupbuy post 999",
        )
    ]
    [listing] = await bot.say(OWNER, "/groupbuy list")
    [ended] = await bot.say(OWNER, f"/groupbuy end {deal}")
    [again] = await bot.say(OWNER, f"/groupbuy end {deal}")
    late = await press(bot, BOB, JOIN, team_of(bot))

    assert "team size is a whole number from 2 to 50" in replies[0]
    assert "the price is an amount above 0" in replies[1]
    assert "below the price" in replies[2]
    assert "minutes per team" in replies[3]
    assert "hours until the end" in replies[4]
    assert "six parts" in replies[5]
    assert "There is no group-buy #999 in this group" in replies[6]
    assert f"#{deal} Milk tea · 🟢 live · teams: 1 open, 0 complete, 0 expired" in listing
    assert f"Group-buy #{deal} Milk tea has ended" in ended
    assert "has ended" in again and "has ended" in late


async def test_a_team_whose_last_member_leaves_is_disbanded_not_timed_out(bot: Harness):
    deal = await deal_id(bot)
    await press(bot, ALICE, START, deal)
    team = team_of(bot)

    await press(bot, ALICE, LEAVE, team)
    closed = await press(bot, BOB, JOIN, team)

    card = [c for c in bot.world.calls if c.method == "editMessageText"][-1].text
    assert "was disbanded: everyone left" in card
    assert "did not fill up in time" not in card
    assert "closed" in closed


async def test_leaving_is_a_brief_notice_and_joining_an_alert(bot: Harness):
    deal = await deal_id(bot)
    await press(bot, ALICE, START, deal)
    team = team_of(bot)

    await press(bot, BOB, JOIN, team)
    joined = [c for c in bot.world.calls if c.method == "answerCallbackQuery"][-1]
    await press(bot, BOB, LEAVE, team)
    left = [c for c in bot.world.calls if c.method == "answerCallbackQuery"][-1]

    assert (joined.params["text"], joined.params["show_alert"]) == ("You are in! 2/3", True)
    assert (left.params["text"], left.params["show_alert"]) == ("You left the team.", False)


async def test_groupbuy_commands_in_a_group_the_bot_never_registered(bot: Harness):
    unknown = -1001500000009
    bot.world.add_group(unknown, "Unregistered Club", owner=OWNER)

    [post] = await bot.say(OWNER, "/groupbuy post 5", chat=unknown)
    [end] = await bot.say(OWNER, "/groupbuy end 5", chat=unknown)
    [listing] = await bot.say(OWNER, "/groupbuy list", chat=unknown)
    [new] = await bot.say(OWNER, "/groupbuy new 3 32 19.9 120 48 Tea", chat=unknown)
    [usage] = await bot.say(OWNER, "/groupbuy post", chat=unknown)

    assert post == end == "There is no group-buy #5 in this group. /groupbuy list shows its deals."
    assert listing == new == "This group-buy is not available."
    assert "Usage (admins)" in usage


async def test_a_share_link_to_a_team_that_is_gone_is_refused_politely(bot: Harness):
    bot.world.start_private(BOB)

    [refused] = await bot.send(bot.world.message(BOB, BOB, "/start team_nosuchtoken"))

    assert refused == GroupBuyTexts("zh").refused(Refusal.UNKNOWN) == "这个拼团不可用。"


async def test_a_chinese_friend_joining_from_a_private_card_leaves_the_group_card_english(
    bot: Harness,
):
    friend = 42
    bot.world.add_user(friend, "Fang", language_code="zh-hans")
    bot.world.start_private(friend)
    deal = await deal_id(bot)
    await press(bot, ALICE, START, deal)
    team = team_of(bot)
    card = next(c for c in reversed(bot.world.sent(GROUP)) if "Team for" in c.text)
    payload = card.params["reply_markup"]["inline_keyboard"][1][0]["url"].split("?start=")[1]
    welcome, private_card = await bot.send(bot.world.message(friend, friend, f"/start {payload}"))
    link = next(w for w in welcome.split() if w.startswith("https://t.me/+"))
    await bot.send(bot.world.join_via_link(GROUP, friend, link))

    answer = await tap(bot, friend, friend, GroupBuyButton(JOIN, team))

    assert "Team for" not in private_card and "Team for" not in answer  # spoken to in 中文
    group_edits = [c for c in bot.world.calls
                   if c.method == "editMessageText" and c.params["chat_id"] == GROUP]  # fmt: skip
    assert "Team for" in group_edits[-1].params["text"] and "2/3" in group_edits[-1].params["text"]
