"""/settings and /set: only admins change things, bad values get an example, nothing is lost."""

from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, OWNER, Harness, make_harness


async def test_admin_sees_the_settings(bot: Harness):
    [reply] = await bot.say(ADMIN, "/settings")

    assert "Settings for Sunny Tea Club" in reply
    assert "<code>timezone</code> = <code>Asia/Shanghai</code>" in reply


async def test_non_admin_is_refused_politely_and_nothing_changes(bot: Harness):
    [refused] = await bot.say(ALICE, "/set checkin_points 1000")
    [after] = await bot.say(ALICE, "/checkin")

    assert "only group admins" in refused
    assert "10 points" in after


async def test_owner_changes_points_and_members_feel_it(bot: Harness):
    [done] = await bot.say(OWNER, "/set checkin_points 25")
    [after] = await bot.say(ALICE, "/checkin")

    assert "checkin_points</code> is now <code>25" in done
    assert "25 points" in after


async def test_invalid_value_gets_a_reason_and_an_example(bot: Harness):
    [reply] = await bot.say(ADMIN, "/set timezone Mars/Olympus")

    assert "not an IANA timezone name" in reply
    assert "/set timezone Asia/Shanghai" in reply


async def test_malformed_set_gets_usage_and_unknown_key_lists_keys(bot: Harness):
    [usage] = await bot.say(ADMIN, "/set")
    [unknown] = await bot.say(ADMIN, "/set colour red")

    assert "Usage: /set" in usage
    assert "Unknown setting" in unknown and "milestones" in unknown


async def test_anonymous_admin_is_an_admin(bot: Harness):
    [reply] = await bot.send(bot.world.anonymous_admin_message(GROUP, "/set streak_bonus 2"))

    assert "is now" in reply


async def test_bot_owner_from_settings_is_an_admin_everywhere(database_url: str):
    harness, app = await make_harness(database_url, bot_owner_ids=str(CAROL))
    try:
        [reply] = await harness.say(CAROL, "/set language zh")
    finally:
        from bot.app import stop_offline

        await stop_offline(app)

    assert "已改为" in reply


async def test_promotion_refreshes_the_admin_cache(bot: Harness):
    await bot.say(BOB, "/settings")  # caches the admin list without Bob
    await bot.send(bot.world.member_update(GROUP, BOB, "administrator", actor=OWNER))

    [reply] = await bot.say(BOB, "/settings")

    assert "Settings for" in reply


async def test_switching_language_switches_every_reply(bot: Harness):
    [confirm] = await bot.say(OWNER, "/set language zh")
    [refused] = await bot.say(ALICE, "/set language en")

    assert "已改为" in confirm
    assert "只有群管理员" in refused


async def test_private_chat_replies_follow_the_users_language(bot: Harness):
    bot.world.start_private(BOB)
    bot.world.start_private(CAROL)

    [zh] = await bot.say(BOB, "/start", chat=BOB)
    [en] = await bot.say(CAROL, "/help", chat=CAROL)

    assert "社群增长助手" in zh
    assert "I help communities grow" in en


async def test_command_menus_are_registered_in_both_languages(bot: Harness):
    menus = bot.world.commands

    # Each menu lists what works there (the private menu listed group commands before).
    assert {c["command"] for c in menus["all_group_chats:"]} >= {"checkin", "me", "top"}
    assert {c["command"] for c in menus["default:"]} == {
        "start",
        "invite",
        "invites",
        "mycoupons",
        "points",
        "unsubscribe",
        "birthday",
        "manage",
        "dashboard",
        "help",
    }
    assert {"redeem", "coupon", "groupbuy", "schedule", "dashboard"} <= {
        c["command"] for c in menus["all_chat_administrators:"]
    }
    assert any(c["description"] == "每日签到" for c in menus["all_group_chats:zh"])


async def test_an_admin_manages_a_group_from_a_private_chat(bot: Harness):
    bot.world.start_private(OWNER)
    bot.world.start_private(ALICE)

    [usage] = await bot.say(OWNER, "/posts", chat=OWNER)
    [chooser] = await bot.say(OWNER, "/manage", chat=OWNER)
    markup = bot.world.sent(OWNER)[-1].params["reply_markup"]["inline_keyboard"]
    await bot.send(bot.world.callback(OWNER, OWNER, markup[0][0]["callback_data"]))
    picked = bot.world.sent(OWNER)[-1].text
    [posts] = await bot.say(OWNER, "/posts", chat=OWNER)
    [changed] = await bot.say(OWNER, "/set checkin_points 7", chat=OWNER)
    [member] = await bot.say(ALICE, "/manage", chat=ALICE)
    [refused] = await bot.say(ALICE, "/set checkin_points 99", chat=ALICE)
    [settings] = await bot.say(ADMIN, "/settings")

    assert "Send /manage to pick one of your groups" in usage
    assert "Which group" in chooser and markup[0][0]["text"] == "Sunny Tea Club"
    assert "Managing <b>Sunny Tea Club</b>" in picked
    assert posts == "No scheduled posts. /schedule creates one."
    assert "7" in changed and "7" in settings
    assert "not an admin of any group" in member
    assert "Send /manage to pick one of your groups" in refused
    assert bot.world.sent(GROUP)[-1].text == settings  # nothing was said in front of members


async def test_help_lists_what_the_caller_can_use_where_they_are(bot: Harness):
    bot.world.start_private(CAROL)

    [member] = await bot.say(ALICE, "/help")
    [admin] = await bot.say(ADMIN, "/help")
    [private] = await bot.say(CAROL, "/start", chat=CAROL)
    [unknown] = await bot.say(CAROL, "/frobnicate", chat=CAROL)
    [checkin] = await bot.say(CAROL, "签到", chat=CAROL)
    known = await bot.say(CAROL, "/mycoupons", chat=CAROL)

    assert "/checkin" in member and "/redeem" not in member
    assert all(f"/{c}" in admin for c in ("checkin", "redeem", "coupon", "groupbuy"))
    assert "/mycoupons" in private and "/manage" in private and "/redeem" not in private
    assert "don't know that command" in unknown
    assert "Check-ins happen in your group" in checkin
    assert len(known) == 1  # a known command gets its own answer only
