"""/tag, /untag, /tags and /audience through the real handlers, in English and Chinese;
/broadcast to a saved audience; another group's admin sees and changes nothing of this one."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, MONDAY, NOW, OWNER, Harness

OTHER = -1001500000002


async def members_who_started(bot: Harness, *users: int) -> None:
    for uid in users:
        await bot.say(uid, "hello", at=MONDAY)
        bot.world.start_private(uid)
        await bot.send(bot.world.message(uid, uid, "/start", at=MONDAY))
    await bot.flush()


async def replying(bot: Harness, admin: int, text: str, to: int) -> list[str]:
    said = bot.world.message(GROUP, to, "hi there", at=MONDAY)["message"]
    return await bot.send(bot.world.message(GROUP, admin, text, reply_to_message=said))


async def test_admins_tag_by_reply_or_user_id_and_see_a_members_tags(bot: Harness):
    await members_who_started(bot, ALICE, BOB)

    [tagged] = await replying(bot, OWNER, "/tag VIP-Prospect", ALICE)
    [again] = await replying(bot, OWNER, "/tag vip-prospect", ALICE)
    [by_id] = await bot.say(OWNER, f"/tag {ALICE} 茶友")
    [shown] = await replying(bot, ADMIN, "/tags", ALICE)
    [untagged] = await bot.say(OWNER, f"/untag {ALICE} 茶友")
    [not_there] = await bot.say(OWNER, f"/untag {ALICE} 茶友")
    [member] = await replying(bot, BOB, "/tag vip", ALICE)
    [after] = await bot.say(OWNER, f"/tags {ALICE}")

    assert "🏷 Tagged <b>Alice Liu</b>: <code>vip-prospect</code>" in tagged
    assert "already has the tag" in again
    assert "<code>茶友</code>" in by_id
    assert "<code>vip-prospect</code>" in shown and "<code>茶友</code>" in shown
    assert "Removed the tag <code>茶友</code>" in untagged
    assert "does not have the tag" in not_there
    assert "admins" in member
    assert "vip-prospect" in after and "茶友" not in after


async def test_a_tag_of_two_words_by_reply_is_told_it_has_a_space(bot: Harness):
    await members_who_started(bot, ALICE)

    [spaced] = await replying(bot, OWNER, "/tag big spender", ALICE)
    [tags] = await bot.say(OWNER, f"/tags {ALICE}")

    assert "Not a tag name: use letters, digits and _ : . - only, no spaces" in spaced
    assert "<code>vip-prospect</code>" in spaced and "has no tags" in tags


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/tag", "Usage (admins)"),
        ("/tag a b c", "Usage (admins)"),
        ("/tag 12345", "Usage (admins)"),
        (f"/tag {ALICE} no<b>", "Not a tag name"),
        (f"/tag {ALICE} " + "x" * 33, "at most 32 characters"),
        (f"/tag {ALICE} " + "茶" * 3000, "Not a tag name"),
        (f"/tag {ALICE} vip\u200b", "Not a tag name"),
        ("/tag 99999999999999999999999 vip", "Usage (admins)"),
        ("/tag 0 vip", "Usage (admins)"),
        ("/tag ٣٣ vip", "Usage (admins)"),
        ("/tag 424242 vip", "not a member of this group"),
        (f"/tag {ALICE} big spender", "no spaces"),
    ],
)
async def test_bad_tag_commands_get_a_clear_answer_and_change_nothing(
    bot: Harness, command: str, expected: str
):
    await members_who_started(bot, ALICE)

    [answer] = await bot.say(OWNER, command)
    [tags] = await bot.say(OWNER, f"/tags {ALICE}")

    assert expected in answer
    assert "has no tags" in tags


async def test_chinese_groups_get_chinese_tag_and_audience_texts(bot: Harness):
    await bot.say(OWNER, "/set language zh")
    await members_who_started(bot, ALICE, BOB)

    [tagged] = await replying(bot, OWNER, "/tag 老客户", BOB)
    [bad] = await bot.say(OWNER, f"/tag {BOB} 有 空格")
    [saved] = await bot.say(OWNER, "/audience save 老客 tag=老客户 或 stage=沉睡")
    [listed] = await bot.say(OWNER, "/audience list")
    [shown] = await bot.say(OWNER, "/audience show 老客")
    [wrong] = await bot.say(OWNER, "/audience save x stage=困了")
    [unknown] = await bot.say(OWNER, "/audience show nobody")
    [usage] = await bot.say(OWNER, "/audience")
    [deleted] = await bot.say(OWNER, "/audience delete 老客")

    assert "已为 <b>鲍勃</b> 打上标签：<code>老客户</code>" in tagged
    assert "用法" in bad or "标签名无效" in bad
    assert "✅ 已保存。👥" in saved and "1 位已私聊过我的成员符合" in saved  # no space between
    assert "<code>tag=老客户 or stage=dormant</code>" in saved and "<b>鲍勃</b>" in saved
    assert "保存的人群" in listed and "<code>老客</code>" in listed
    assert "1 位" in shown
    assert "取值无法使用" in wrong
    assert "stage 可选：new, active, silent, dormant, left。" in wrong  # what it could be
    assert "没有名为 <code>nobody</code> 的人群" in unknown
    assert "保存的人群（管理员）" in usage
    assert "已删除人群" in deleted


async def test_an_audience_is_saved_with_a_preview_listed_shown_and_deleted(bot: Harness):
    await members_who_started(bot, ALICE, BOB, CAROL)
    await bot.say(OWNER, f"/tag {CAROL} vip")

    [saved] = await bot.say(OWNER, "/audience save WinBack not tag=vip and (lang=zh or lang=en)")
    [replaced] = await bot.say(OWNER, "/audience save winback points>=0")
    [listed] = await bot.say(OWNER, "/audience list")
    [shown] = await bot.say(ADMIN, "/audience show @winback")
    [member] = await bot.say(ALICE, "/audience list")
    [bad_rule] = await bot.say(OWNER, "/audience save x (tag=vip")
    [bad_tier] = await bot.say(OWNER, "/audience save x tier>=gold")
    [bad_name] = await bot.say(OWNER, "/audience save no/pe all")
    [long] = await bot.say(OWNER, "/audience save x " + " or ".join(["tag=a"] * 200))
    [deleted] = await bot.say(OWNER, "/audience delete winback")
    [gone] = await bot.say(OWNER, "/audience list")

    assert "✅ Saved." in saved and "2 members who started me match" in saved
    assert "<code>not tag=vip and (lang=zh or lang=en)</code>" in saved
    assert "<b>鲍勃</b>" in saved and "<b>Alice Liu</b>" in saved and "Carol" not in saved
    assert "✅ Replaced." in replaced and "3 members" in replaced
    assert "<code>winback</code> — <code>points&gt;=0</code>" in listed
    assert "3 members" in shown and "e.g. " in shown
    assert "admins" in member
    assert "doesn't read right" in bad_rule
    assert "no tier named <code>gold</code>" in bad_tier
    assert "Not an audience name" in bad_name
    assert "too long" in long
    assert "Deleted the audience <code>winback</code>" in deleted
    assert "No saved audiences yet" in gone


async def test_a_broadcast_goes_to_a_saved_audience_read_when_it_is_sent(bot: Harness):
    await members_who_started(bot, ALICE, BOB, CAROL)
    await bot.say(OWNER, f"/tag {BOB} vip")
    await bot.say(OWNER, "/audience save vips tag=vip")

    await bot.say(OWNER, "/broadcast @vips\nFor our VIPs")
    question = bot.world.sent(GROUP)[-1]
    [unknown] = await bot.say(OWNER, "/broadcast @nobody\nHello")
    await bot.say(OWNER, "/broadcast audience=vips points>=1000\nRich VIPs")
    nobody = bot.world.sent(GROUP)[-1].text

    assert "Broadcast #1 to 1 member who started me (audience: <code>@vips</code>)" in (
        question.text
    )
    assert "No saved audience named <code>nobody</code>" in unknown
    assert "Nobody matches" in nobody


async def test_another_groups_admin_cannot_read_or_change_this_groups_tags_or_audiences(
    bot: Harness,
):
    await members_who_started(bot, ALICE)
    await bot.say(OWNER, f"/tag {ALICE} vip")
    await bot.say(OWNER, "/audience save vips tag=vip")
    bot.world.add_group(OTHER, "Other Club", owner=ADMIN)
    await bot.send(bot.world.add_bot(OTHER, by=ADMIN, at=MONDAY - dt.timedelta(days=1)))
    at_other = dict(chat=OTHER, at=MONDAY)

    [show] = await bot.say(ADMIN, "/audience show vips", **at_other)
    [delete] = await bot.say(ADMIN, "/audience delete vips", **at_other)
    [listed] = await bot.say(ADMIN, "/audience list", **at_other)
    [tags] = await bot.say(ADMIN, f"/tags {ALICE}", **at_other)
    [untag] = await bot.say(ADMIN, f"/untag {ALICE} vip", **at_other)
    [tag] = await bot.say(ADMIN, f"/tag {ALICE} spy", **at_other)
    [still] = await bot.say(OWNER, "/audience show vips")
    [mine] = await bot.say(OWNER, f"/tags {ALICE}")

    assert "No saved audience named" in show and "No saved audience named" in delete
    assert "No saved audiences yet" in listed
    for answer in (tags, untag, tag):  # not even Alice's name is said
        assert "not a member of this group" in answer and "Alice" not in answer
    assert "1 member" in still
    assert "vip" in mine and "spy" not in mine


async def test_a_coupon_is_granted_to_everyone_a_saved_audience_selects_within_its_limits(
    bot: Harness,
):
    from campaigns.coupons import CouponKind, Template
    from campaigns.services.coupons import create_offer, my_coupons

    await members_who_started(bot, ALICE, BOB, CAROL)
    for uid in (ALICE, BOB, CAROL):
        await bot.say(OWNER, f"/tag {uid} tea")
    await bot.say(OWNER, "/audience save tea tag=tea")
    offer = await create_offer(
        bot.app.bot_data.deps.uow(), chat_id=GROUP, name="满199减30",
        template=Template(CouponKind.FIXED, value=3000, min_spend=19900), stock=2,
        per_member=1, at=MONDAY,
    )  # fmt: skip

    [granted] = await bot.say(OWNER, f"/coupon grant {offer.id} @tea")
    [again] = await bot.say(OWNER, f"/coupon grant {offer.id} audience=tea")
    [unknown] = await bot.say(OWNER, f"/coupon grant {offer.id} @nobody")
    [not_ours] = await bot.say(OWNER, "/coupon grant 999 @tea")
    [member] = await bot.say(ALICE, f"/coupon grant {offer.id} @tea")
    held = [
        len(await my_coupons(bot.app.bot_data.deps.uow(), user_id=uid, default_timezone="UTC"))
        for uid in (BOB, CAROL, ALICE)
    ]

    assert "🎁 2 members of <code>tea</code> received a coupon: 满199减30." in granted
    assert "1 got none: the offer ran out." in granted
    assert "/mycoupons" in granted and "<code>/broadcast @tea</code>" in granted
    assert "0 members of <code>tea</code>" in again and "2 already had it" in again
    assert "1 got none" in again
    assert "No saved audience named <code>nobody</code>" in unknown
    assert "no coupon offer #999" in not_ours
    assert "admins" in member
    assert held == [1, 1, 0]  # in member order (user id), as far as the stock went


async def test_a_coupon_grant_to_an_audience_speaks_chinese_in_a_chinese_group(bot: Harness):
    from campaigns.coupons import CouponKind, Template
    from campaigns.services.coupons import create_offer

    await bot.say(OWNER, "/set language zh")
    await members_who_started(bot, BOB)
    await bot.say(OWNER, f"/tag {BOB} tea")
    await bot.say(OWNER, "/audience save tea tag=tea")
    offer = await create_offer(
        bot.app.bot_data.deps.uow(), chat_id=GROUP, name="满199减30",
        template=Template(CouponKind.FIXED, value=3000), stock=None, per_member=1, at=MONDAY,
    )  # fmt: skip

    [granted] = await bot.say(OWNER, f"/coupon grant {offer.id} @tea")
    [again] = await bot.say(OWNER, f"/coupon grant {offer.id} @tea")

    assert "🎁 <code>tea</code> 中的 1 位成员获得了优惠券：满199减30。" in granted
    assert "1 位已经领过" in again


async def test_a_broadcast_to_a_saved_audience_reaches_who_it_selects_when_sent(bot: Harness):
    from tests.handlers.conftest import tap

    await members_who_started(bot, ALICE, BOB, CAROL)
    await bot.say(OWNER, f"/tag {BOB} vip")
    await bot.say(OWNER, "/audience save vips tag=vip")
    await bot.say(OWNER, "/broadcast @vips\nFor our VIPs")
    go = bot.world.sent(GROUP)[-1].params["reply_markup"]["inline_keyboard"][0][0]
    await bot.say(OWNER, f"/tag {ALICE} vip")  # after the preview, before sending

    await tap(bot, GROUP, OWNER, go["callback_data"])
    await bot.drain()

    assert go["text"] == "📣 Send to 1"
    got = {uid: bot.world.delivered(uid).count("For our VIPs") for uid in (ALICE, BOB, CAROL)}
    assert got == {ALICE: 1, BOB: 1, CAROL: 0}


async def test_the_default_tiers_follow_the_groups_language_and_saved_rules_keep_working(
    bot: Harness,
):
    await members_who_started(bot, ALICE, BOB)

    [ladder] = await bot.say(OWNER, "/tier ladder")
    [saved] = await bot.say(OWNER, "/audience save plain tier<Premium")
    await bot.say(OWNER, "/set language zh")
    [ladder_zh] = await bot.say(OWNER, "/tier ladder")
    [shown] = await bot.say(OWNER, "/audience show plain")

    assert "1. <b>Regular</b>" in ladder and "2. <b>Premium</b>" in ladder
    assert "普通" not in ladder
    assert "✅ Saved." in saved and "2 members who started me match" in saved
    assert "1. <b>普通</b>" in ladder_zh and "2. <b>高级</b>" in ladder_zh
    assert "2 位" in shown, shown


async def test_a_stage_rule_selects_members_by_their_activity_now_not_the_last_refresh(
    bot: Harness,
):
    """No refresh has run (none does in these tests, and a new bot waits two minutes for its
    first): the stage is read from when each member last spoke, at the moment of asking."""
    await members_who_started(bot, ALICE, BOB, CAROL)  # two weeks ago: silent by now
    await bot.say(ALICE, "back again", at=NOW)
    await bot.flush()

    [quiet] = await bot.say(OWNER, "/audience save quiet stage=silent", at=NOW)
    [active] = await bot.say(OWNER, "/audience save here stage=active", at=NOW)
    await bot.say(OWNER, "/broadcast @quiet\nWe miss you", at=NOW)
    question = bot.world.sent(GROUP)[-1].text

    assert "2 members who started me match" in quiet and "Alice" not in quiet
    assert "1 member who started me matches" in active and "<b>Alice Liu</b>" in active
    assert "to 2 members who started me" in question


@pytest.mark.parametrize(
    ("language", "hint"),
    [
        ("en", "for at least, write <code>points&gt;=100</code>"),
        ("zh", "请写 <code>points&gt;=100</code>"),
    ],
)
async def test_an_exact_points_rule_on_a_broadcast_is_refused_with_what_to_write(
    bot: Harness, language: str, hint: str
):
    await bot.say(OWNER, f"/set language {language}")

    [refused] = await bot.say(OWNER, "/broadcast points=100\nHello")

    assert hint in refused
