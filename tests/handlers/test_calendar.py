"""Scheduled posts and sequences through the real handlers, the outbox and the sender."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from campaigns.services.calendar import enrol_due, group_posts, hand_over_due
from handlers.calendar import report_skipped
from handlers.calendar_texts import CalendarTexts
from handlers.callbacks import parse
from tests.handlers.conftest import ADMIN, ALICE, BOB, GROUP, MONDAY, OWNER, Harness, tap

GRACE = dt.timedelta(minutes=10)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def buttons_of(call) -> list[list[dict]]:
    return call.params["reply_markup"]["inline_keyboard"]


def local(at: dt.datetime) -> str:
    return CalendarTexts("en").local(at, "Asia/Shanghai")


async def next_run(bot: Harness) -> dt.datetime:
    """A confirmed post's first run counts from the tap, which happens now."""
    [post] = await group_posts(bot.app.bot_data.deps.uow(), chat_id=GROUP)
    assert post.next_run_at is not None
    return post.next_run_at


async def drain(bot: Harness, now: dt.datetime | None = None) -> None:
    await bot.drain(now)


async def test_an_admin_schedules_a_daily_post_it_runs_once_per_day_with_its_button(
    bot: Harness,
):
    bot.world.start_private(ADMIN)
    refused = await bot.say(ALICE, "/schedule daily 09:00\nhi")
    head = "/schedule daily 09:00 pin\n"
    text = (
        head
        + "Good morning! Check in today 🌞 <3\nbutton: Shop now | https://shop.example/?a=1&b=2"
    )
    entities = [
        {"type": "bot_command", "offset": 0, "length": 9},
        {"type": "bold", "offset": len(head), "length": 13},  # as Telegram marks formatting
    ]
    await bot.send(bot.world.message(GROUP, ADMIN, text, at=MONDAY, entities=entities))
    preview = [c for c in bot.world.calls if c.method == "sendMessage"][-3:-1]
    question = bot.world.sent(ADMIN)[-1]
    ok = buttons_of(question)[0][0]["callback_data"]
    not_admin = await tap(bot, ADMIN, ALICE, ok)
    await tap(bot, ADMIN, ADMIN, ok)
    confirmed = [c for c in bot.world.calls if c.method == "editMessageText"][-1].text
    again = await tap(bot, ADMIN, ADMIN, ok)
    [listing] = await bot.say(ADMIN, "/posts")

    deps = bot.app.bot_data.deps
    first_run = await next_run(bot)
    handed = await hand_over_due(deps.uow, now=first_run + dt.timedelta(minutes=1), grace=GRACE)
    replay = await hand_over_due(deps.uow, now=first_run + dt.timedelta(minutes=2), grace=GRACE)
    await drain(bot, first_run + dt.timedelta(minutes=2))

    assert "only group admins" in refused[0]
    assert preview[0].params["chat_id"] == ADMIN and "<b>Good morning!</b>" in preview[1].text
    assert buttons_of(preview[1])[0][0]["url"] == "https://shop.example/?a=1&b=2"
    assert "Next runs: Tue 17 Nov 09:00, Wed 18 Nov 09:00, Thu 19 Nov 09:00" in question.text
    assert "📌 pinned" in question.text
    assert "Only the group's admins" in not_admin
    assert f"is scheduled. Next run: {local(first_run)}" in confirmed
    assert first_run.astimezone(SHANGHAI).time() == dt.time(9, 0)
    assert "can't do that now" in again
    assert f"<code>daily 09:00</code> · next {local(first_run)} · Good morning! Check in" in listing
    assert (handed.queued, replay.queued) == (1, 0)
    [post] = bot.world.sent(GROUP)[-1:]
    assert post.text == "<b>Good morning!</b> Check in today 🌞 &lt;3"
    assert buttons_of(post)[0][0]["text"] == "Shop now"
    [pin] = [c for c in bot.world.calls if c.method == "pinChatMessage"]
    assert pin.params["chat_id"] == GROUP


async def test_bad_times_html_and_buttons_are_refused_with_the_reason(bot: Harness):
    replies = [
        (await bot.say(OWNER, text))[0]
        for text in (
            "/schedule",
            "/schedule daily 25:00\nhi",
            "/schedule 0 61 * * *\nhi",
            "/schedule 0 9 31 4 *\nhi",
            "/schedule 2020-01-01 09:00\nhi",
            "/schedule someday\nhi",
            "/schedule daily 09:00\n" + "x" * 4097,
            "/schedule daily 09:00\nhi\nbutton: Go | ftp://x",
            "/schedule daily 09:00",
        )
    ]

    assert "Schedule a post" in replies[0]
    assert "25:00 is not a valid time" in replies[1]
    assert "cron expression is invalid" in replies[2]
    assert "0 9 31 4 * never happens" in replies[3]
    assert "already in the past" in replies[4]
    assert "can't read “someday” as a time" in replies[5]
    assert "can't be saved: the text has 4097 characters; 1 to 4096 are allowed" in replies[6]
    assert "must start with https://" in replies[7]
    assert "What should the post say?" in replies[8]
    assert not [c for c in bot.world.calls if "Preview" in c.text]


async def test_formatting_and_buttons_are_explained_in_the_groups_language(bot: Harness):
    await bot.say(OWNER, "/set language zh")

    replies = [
        (await bot.say(OWNER, text))[0]
        for text in (
            "/schedule daily 09:00\n早安\nbutton: " + "长" * 65 + " | https://x.example",
            "/broadcast\nhi\n" + "\n".join(f"button: {i} | https://x.example" for i in range(9)),
            "/sequence add 1\n早安\nbutton: 领券 | coupon 9999999999999999999",
        )
    ]

    assert "无法保存这条内容：按钮文字超过 64 个字符" in replies[0]
    assert "无法保存这条内容：每条内容最多 8 个按钮" in replies[1]
    assert "按钮里的优惠券或拼团编号不属于本群" in replies[2]


async def test_a_chinese_operator_writes_the_time_in_chinese(bot: Harness):
    """每天 / 每周一、周四 / 工作日 are read as daily / mon,thu / weekdays; the post lists
    with the words the operator wrote; an unknown word is refused with Chinese examples."""
    await bot.say(OWNER, "/set language zh")
    bot.world.start_private(OWNER)

    await bot.say(OWNER, "/schedule 每周一、周四 20：00\n晚上好")
    question = bot.world.sent(OWNER)[-1]
    ok = buttons_of(question)[0][0]["callback_data"]
    await tap(bot, OWNER, OWNER, ok)
    [listing] = await bot.say(OWNER, "/posts")
    [refused] = await bot.say(OWNER, "/schedule 周八 20:00\n晚上好")
    [post] = await group_posts(bot.app.bot_data.deps.uow(), chat_id=GROUP)

    assert post.when.cron == "0 20 * * mon,thu"
    assert post.next_run_at is not None
    assert post.next_run_at.astimezone(SHANGHAI).strftime("%a %H:%M") in {"Mon 20:00", "Thu 20:00"}
    assert "每周一、周四 20：00" in listing
    assert "看不懂时间" in refused and "<code>每天 09:00</code>" in refused


async def test_a_reply_with_a_photo_becomes_a_photo_post_and_is_paused_and_deleted(bot: Harness):
    photo = bot.world.message(
        GROUP,
        OWNER,
        None,
        at=MONDAY,
        photo=[{"file_id": "AgACphoto", "file_unique_id": "u1", "width": 90, "height": 90}],
        caption="New menu",
    )
    bot.world.files["AgACphoto"] = "<upload menu.jpg, 100 bytes>"
    day = (bot.clock.now().astimezone(SHANGHAI) + dt.timedelta(days=3)).date()
    command = bot.world.message(
        GROUP,
        OWNER,
        f"/schedule {day} 20:00 silent",
        at=MONDAY,
        reply_to_message=photo["message"],
    )
    await bot.send(command)
    await bot.send(command)  # redelivered: no second draft
    ok = buttons_of(bot.world.sent(GROUP)[-1])[0][0]["callback_data"]
    await tap(bot, GROUP, OWNER, ok)
    post_id = parse(ok).post_id
    paused = await bot.say(OWNER, f"/post pause {post_id}")
    [listed] = await bot.say(OWNER, "/posts")
    resumed = await bot.say(OWNER, f"/post resume {post_id}")
    deleted = await bot.say(OWNER, f"/post delete {post_id}")
    unknown = await bot.say(OWNER, "/post delete 999")
    usage = await bot.say(OWNER, "/post stop 1")

    photos = [c for c in bot.world.calls if c.method == "sendPhoto"]
    assert len(photos) == 1 and photos[0].params["caption"] == "New menu"
    assert photos[0].params["disable_notification"] is True
    assert "⏸ Post" in paused[0] and "⏸ paused" in listed
    at = dt.datetime.combine(day, dt.time(20, 0), tzinfo=SHANGHAI)
    assert f"running again. Next run: {local(at)}" in resumed[0]
    assert "deleted" in deleted[0]
    assert "no post #999" in unknown[0]
    assert "Usage" in usage[0]
    assert "No scheduled posts" in (await bot.say(OWNER, "/posts"))[0]


async def test_a_run_missed_past_the_grace_window_is_skipped_and_shown(bot: Harness):
    await bot.say(OWNER, "/schedule daily 09:00\nMorning")
    await tap(bot, GROUP, OWNER, buttons_of(bot.world.sent(GROUP)[-1])[0][0]["callback_data"])
    deps = bot.app.bot_data.deps
    first_run = await next_run(bot)

    bot.world.start_private(OWNER)  # the owner scheduled it, so the owner is told
    down = await hand_over_due(deps.uow, now=first_run + dt.timedelta(days=2, hours=1), grace=GRACE)
    await report_skipped(bot.app.bot, deps, down.skipped)
    await drain(bot, first_run + dt.timedelta(days=2, hours=1))
    [listed] = await bot.say(OWNER, "/posts")

    assert (down.queued, len(down.skipped), down.passed_over) == (0, 1, 2)
    assert [c.text for c in bot.world.sent(GROUP)].count("Morning") == 1  # the preview only
    missed = first_run + dt.timedelta(days=2)
    assert f"⚠️ the run of {local(missed)} was skipped" in listed
    [notice] = bot.world.delivered(OWNER)
    assert f"Scheduled post #1 (Morning) for {local(missed)} was skipped" in notice
    assert f"next {local(missed + dt.timedelta(days=1))}" in listed


async def test_chinese_groups_get_chinese_calendar_texts(bot: Harness):
    await bot.say(OWNER, "/set language zh")
    [usage] = await bot.say(OWNER, "/schedule")
    await bot.say(OWNER, "/schedule mon,thu 20:00\n每周上新")
    question = bot.world.sent(GROUP)[-1].text

    assert "定时发布" in usage
    assert "11月19日 周四 20:00" in question


async def test_welcome_sequence_reaches_each_new_member_once_on_their_day(bot: Harness):
    bot.world.start_private(BOB)
    added = await bot.say(OWNER, "/sequence add 3\nDay 3, {name}: here is our guide 📘")
    await bot.say(OWNER, "/sequence add 0 group\nWelcome {name} & friends!")
    [listing] = await bot.say(OWNER, "/sequence")
    joined = MONDAY + dt.timedelta(hours=1)
    await bot.send(bot.world.member_update(GROUP, BOB, "member", at=joined))
    deps = bot.app.bot_data.deps

    welcomed = await enrol_due(deps.uow, now=joined + dt.timedelta(minutes=1))  # day 0
    early = await enrol_due(deps.uow, now=joined + dt.timedelta(days=2))
    due = await enrol_due(deps.uow, now=joined + dt.timedelta(days=3, minutes=1))
    again = await enrol_due(deps.uow, now=joined + dt.timedelta(days=3, minutes=2))
    await drain(bot, joined + dt.timedelta(days=3, minutes=2))

    assert "members who join from now on get it on day 3" in added[0]
    assert "day 3, privately: Day 3, {name}: here is our guide" in listing
    assert (welcomed, early, due, again) == (1, 0, 1, 0)
    assert bot.world.delivered(BOB)[-1] == "Day 3, 鲍勃: here is our guide 📘"
    welcome = [t for t in bot.world.delivered(GROUP) if t.startswith("Welcome")]
    assert welcome == [f'Welcome <a href="tg://user?id={BOB}">鲍勃</a> &amp; friends!']


async def test_a_photo_from_a_file_is_uploaded_once_then_sent_by_its_file_id(bot: Harness):
    from campaigns.content import PostContent
    from campaigns.schedule import parse_when
    from campaigns.services.calendar import add_post, store_media

    deps = bot.app.bot_data.deps
    now = bot.clock.now()
    ref = await store_media(deps.uow(), name="menu.jpg", data=b"\xff\xd8" + bytes(500), at=now)
    post = await add_post(
        deps.uow(),
        chat_id=GROUP,
        content=PostContent(text="<b>New menu</b>", photo=ref),
        when=parse_when("daily 09:00", "Asia/Shanghai", now),
        at=now,
    )
    assert post.next_run_at is not None
    for day in range(2):
        at = post.next_run_at + dt.timedelta(days=day, seconds=5)
        await hand_over_due(deps.uow, now=at, grace=GRACE)
        await drain(bot, at)

    first, second = [c for c in bot.world.calls if c.method == "sendPhoto"]
    assert first.params["photo"] == "<upload menu.jpg, 502 bytes>"
    assert second.params["photo"] in bot.world.files
    assert second.params["caption"] == "<b>New menu</b>"


async def test_a_refused_post_is_explained_in_the_groups_language(bot: Harness):
    await bot.say(OWNER, "/set language zh")

    [long] = await bot.say(OWNER, "/schedule daily 09:00\n" + "长" * 4097)
    [link] = await bot.say(OWNER, "/schedule daily 09:00\n早安\nbutton: 去看看 | ftp://x")
    [never] = await bot.say(OWNER, "/schedule 0 0 30 2 *\n早安")

    assert "无法保存这条内容：正文有 4097 个字符，允许 1 到 4096 个" in long
    assert "按钮链接必须以 https://" in link
    assert "0 0 30 2 * 永远不会到来" in never


async def test_a_replied_message_with_links_carrying_ampersands_is_scheduled(bot: Harness):
    text = "Sale today: Shop https://shop.example/?a=1&b=2 <3"
    link = {"type": "text_link", "offset": 12, "length": 4,
            "url": "https://shop.example/?utm_source=tg&utm_medium=post&q=\"x\""}  # fmt: skip
    plain = {"type": "url", "offset": 17, "length": 29}
    source = bot.world.message(GROUP, OWNER, text, at=MONDAY, entities=[link, plain])
    command = bot.world.message(
        GROUP, OWNER, "/schedule daily 09:00", at=MONDAY, reply_to_message=source["message"]
    )

    replies = await bot.send(command)
    ok = buttons_of(bot.world.sent(GROUP)[-1])[0][0]["callback_data"]
    await tap(bot, GROUP, OWNER, ok)
    first_run = await next_run(bot)
    await hand_over_due(bot.app.bot_data.deps.uow, now=first_run, grace=GRACE)
    await drain(bot, first_run)

    assert not [r for r in replies if "can't be saved" in r], replies
    post = bot.world.sent(GROUP)[-1]
    assert post.text == (
        'Sale today: <a href="https://shop.example/?utm_source=tg&amp;utm_medium=post'
        '&amp;q=&quot;x&quot;">Shop</a> https://shop.example/?a=1&amp;b=2 &lt;3'
    )


async def test_pausing_a_paused_post_or_a_draft_says_what_state_it_is_in(bot: Harness):
    await bot.say(OWNER, "/schedule Daily  09:00\nMorning")
    question = bot.world.sent(GROUP)[-1].text
    ok = buttons_of(bot.world.sent(GROUP)[-1])[0][0]["callback_data"]
    draft = await bot.say(OWNER, "/post pause 1")
    confirmed = await tap(bot, GROUP, OWNER, ok)
    edited = [c for c in bot.world.calls if c.method == "editMessageText"][-1].text
    await bot.say(OWNER, "/post pause 1")
    again = await bot.say(OWNER, "/post pause 1")
    running = await bot.say(OWNER, "/post resume 1")
    running += await bot.say(OWNER, "/post resume 1")
    no_text = await bot.say(OWNER, "/sequence add 2")
    too_far = await bot.say(OWNER, "/sequence add 400\nhi")

    assert "🗓 Post #1, daily 09:00 (Asia/Shanghai)" in question  # as written, not as cron
    assert "draft that was never saved" in draft[0] and "✅ Schedule" in draft[0]
    assert confirmed == "" and "Post #1 is scheduled" in edited
    assert "Post #1 can't do that now: it is already paused" in again[0]
    assert "/post resume 1" in again[0]
    assert "running again" in running[0] and "it is already running" in running[1]
    assert "What should day 2 say?" in no_text[0] and "/schedule" not in no_text[0]
    assert "<code>/sequence add 2\nWelcome, {name}!</code>" in no_text[0]
    assert "Day 400 is too far" in too_far[0] and "0 (the day they join) to 365" in too_far[0]


async def test_bad_cron_fields_are_explained_with_the_field_range_and_an_example(bot: Harness):
    [weekday] = await bot.say(OWNER, "/schedule 0 9 * * 8\nhi")
    [minute] = await bot.say(OWNER, "/schedule 75 9 * * *\nhi")
    seven = await bot.say(OWNER, "/schedule 0 9 * * 7\nhi")
    question = bot.world.sent(GROUP)[-1].text
    await bot.say(OWNER, "/set language zh")
    [chinese] = await bot.say(OWNER, "/schedule 0 9 * * 8\nhi")

    assert "“8” in the day of the week (5th field)" in weekday
    assert "0 and 7 are Sunday" in weekday and "<code>0 9 * * 1-5</code>" in weekday
    assert "maximum value" not in weekday
    assert "“75” in the minute (1st field). Use 0–59" in minute
    assert "Next runs: Sun 22 Nov 09:00, Sun 29 Nov 09:00" in question
    assert "Preview" in seven[0]
    assert "星期" in chinese and "0 和 7 都是周日" in chinese
