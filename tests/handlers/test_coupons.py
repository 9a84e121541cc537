"""Coupons through the real handlers: posting, claiming, redeeming, listing."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from campaigns.coupons import CouponKind, Template, new_code
from campaigns.services.coupons import create_offer, due_reminders
from handlers.callbacks import ClaimButton, ManageButton, build
from handlers.coupon_texts import CouponTexts
from handlers.notify import send_coupon_reminders
from tests.handlers.conftest import (
    ADMIN,
    ALICE,
    BOB,
    GROUP,
    MONDAY,
    OWNER,
    Harness,
    say_many,
    tap,
)

MANJIAN = Template(CouponKind.FIXED, value=3000, min_spend=19900, valid_days=7)


async def offer(bot: Harness, *, stock: int | None = None, template: Template = MANJIAN) -> int:
    created = await create_offer(
        bot.app.bot_data.deps.uow(),
        chat_id=GROUP,
        name="满199减30",
        template=template,
        stock=stock,
        per_member=1,
        at=MONDAY,
    )
    return created.id


async def my_coupons_of(bot: Harness, user: int) -> list:
    from campaigns.services.coupons import my_coupons

    mine = await my_coupons(bot.app.bot_data.deps.uow(), user_id=user, default_timezone="UTC")
    return [m.coupon for m in mine]


async def claim_on_post(bot: Harness, user: int, offer_id: int) -> str:
    """A member taps 🎟 on the offer's post (posted by the owner first if it was not yet)."""
    if bot.world.button_message(GROUP, build(ClaimButton(offer_id))) is None:
        await bot.say(OWNER, f"/coupon post {offer_id}")
    return await tap(bot, GROUP, user, ClaimButton(offer_id))


async def test_admins_post_an_offer_and_members_claim_it_once(bot: Harness):
    offer_id = await offer(bot)

    [refused] = await bot.say(ALICE, f"/coupon post {offer_id}")
    [post] = await bot.say(OWNER, f"/coupon post {offer_id}")
    first = await claim_on_post(bot, ALICE, offer_id)
    second = await claim_on_post(bot, ALICE, offer_id)

    markup = bot.world.sent(GROUP)[-1].params["reply_markup"]
    assert "only group admins" in refused
    assert "满199减30" in post and "¥30.00 off on orders from ¥199.00" in post
    assert markup["inline_keyboard"][0][0]["callback_data"] == f"cpn:{offer_id}"
    assert re.search(r"Your code: [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}", first)
    assert "already have" in second


async def test_a_sold_out_offer_says_so(bot: Harness):
    offer_id = await offer(bot, stock=1)

    await claim_on_post(bot, ALICE, offer_id)
    late = await claim_on_post(bot, BOB, offer_id)

    assert "sold out" in late


async def test_redeem_applies_the_discount_once_and_explains_refusals(bot: Harness):
    offer_id = await offer(bot)
    code = re.search(
        r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}", await claim_on_post(bot, ALICE, offer_id)
    )
    assert code
    later = MONDAY + dt.timedelta(hours=2)
    typo = code.group(0)[:-1] + ("0" if code.group(0)[-1] != "0" else "1")

    [member] = await bot.say(BOB, f"/redeem {code.group(0)} 250", at=later)
    [usage] = await bot.say(ADMIN, "/redeem 250", at=later)
    [wrong] = await bot.say(ADMIN, f"/redeem {typo} 250", at=later)
    [low] = await bot.say(ADMIN, f"/redeem {code.group(0)} 198.99", at=later)
    [done] = await bot.say(ADMIN, f"/redeem {code.group(0).lower()} 250", at=later)
    [again] = await bot.say(ADMIN, f"/redeem {code.group(0)} 250", at=later)

    assert "only group admins" in member
    assert "Usage" in usage
    assert "typo" in wrong
    assert "minimum spend of ¥199.00" in low
    assert "discount ¥30.00" in done and "to pay <b>¥220.00</b>" in done
    assert "already been used" in again


async def test_redeem_refuses_zero_huge_and_foreign_amounts_and_keeps_the_coupon(bot: Harness):
    offer_id = await offer(bot)
    code = re.search(
        r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}", await claim_on_post(bot, ALICE, offer_id)
    )
    assert code
    later = MONDAY + dt.timedelta(hours=2)

    [zero] = await bot.say(ADMIN, f"/redeem {code.group(0)} 0", at=later)
    [huge] = await bot.say(ADMIN, f"/redeem {code.group(0)} 1e999999999", at=later)
    [dollars] = await bot.say(ADMIN, f"/redeem {code.group(0)} $250", at=later)
    [done] = await bot.say(ADMIN, f"/redeem {code.group(0)} ¥250", at=later)

    assert "nothing to pay" in zero
    assert "Usage" in huge
    assert "in CNY; the order is in another currency" in dollars
    assert "discount ¥30.00" in done


async def test_mycoupons_lists_a_members_coupons_privately(bot: Harness):
    offer_id = await offer(bot)
    await claim_on_post(bot, ALICE, offer_id)
    bot.world.start_private(ALICE)

    [in_group] = await bot.say(ALICE, "/mycoupons")
    [private] = await bot.send(bot.world.message(ALICE, ALICE, "/mycoupons", at=MONDAY))
    [expired] = await bot.send(
        bot.world.message(ALICE, ALICE, "/mycoupons", at=MONDAY + dt.timedelta(days=30))
    )

    assert "private chat" in in_group
    assert "🟢 active" in private and "满199减30" in private
    assert "(Asia/Shanghai)" in private  # whose clock the end is on
    assert "⚪ expired" in expired


async def test_chinese_groups_get_chinese_coupon_texts(bot: Harness):
    await bot.say(OWNER, "/set language zh")
    offer_id = await offer(bot, template=Template(CouponKind.PERCENT, value=1000, cap=5000))

    [post] = await bot.say(OWNER, f"/coupon post {offer_id}")
    claimed = await claim_on_post(bot, BOB, offer_id)

    assert "无门槛，9折（最多减 ¥50.00）" in post
    assert "领取成功" in claimed


@pytest.mark.parametrize(
    ("off", "zh", "en"),
    [(1500, "85折", "15% off"), (1250, "87.5折", "12.5% off"), (9500, "0.5折", "95% off")],
)
def test_a_percent_coupon_reads_as_zhe_in_chinese(off: int, zh: str, en: str):
    terms = Template(CouponKind.PERCENT, value=off)

    assert CouponTexts("zh").terms(terms) == f"无门槛，{zh}"
    assert CouponTexts("en").terms(terms) == f"{en}, no minimum spend"


async def test_admins_grant_a_coupon_to_the_member_they_reply_to(bot: Harness):
    offer_id = await offer(bot)
    bot.world.start_private(ALICE)
    said = bot.world.message(GROUP, ALICE, "I'd love a coupon", at=MONDAY)["message"]

    [refused] = await bot.send(
        bot.world.message(GROUP, BOB, f"/coupon grant {offer_id}", reply_to_message=said)
    )
    [usage] = await bot.say(OWNER, f"/coupon grant {offer_id}")
    replies = await bot.send(
        bot.world.message(GROUP, OWNER, f"/coupon grant {offer_id}", reply_to_message=said)
    )
    [again] = await bot.send(
        bot.world.message(GROUP, OWNER, f"/coupon grant {offer_id}", reply_to_message=said)
    )

    assert "only group admins" in refused
    assert "reply to a member" in usage
    assert any("Alice Liu</b> received a coupon" in r for r in replies)
    [private] = [c.text for c in bot.world.sent(ALICE)]
    assert "You received a coupon" in private and re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}", private)
    # It is Alice who has it, not the admin (the old answer said "You already have").
    assert "<b>Alice Liu</b> already has this coupon" in again


async def test_a_referral_tier_can_grant_a_coupon(bot: Harness):
    offer_id = await offer(bot, template=Template(CouponKind.FIXED, value=500))
    bot.world.add_user(31, "Fay", language_code="en")
    for key, value in (("hold", "0"), ("activity", "off"), ("tiers", f"1:10:coupon{offer_id}")):
        await bot.say(OWNER, f"/referral set {key} {value}")
    [card] = await bot.say(ALICE, "/invite")
    url = re.search(r"https://t\.me/\+\S+", card)
    assert url

    await bot.send(bot.world.join_via_link(GROUP, 31, url.group(0), at=MONDAY))
    [program] = await bot.say(ALICE, "/referral")
    bot.world.start_private(ALICE)
    [mine] = await bot.send(bot.world.message(ALICE, ALICE, "/mycoupons", at=MONDAY))

    assert "10 points and a coupon" in program
    assert "🟢 active" in mine and "满199减30" in mine


async def test_members_who_started_the_bot_are_reminded_once_a_day_before_expiry(bot: Harness):
    offer_id = await offer(bot)
    bot.world.start_private(ALICE)
    await bot.send(bot.world.message(ALICE, ALICE, "/start"))
    await claim_on_post(bot, ALICE, offer_id)
    await claim_on_post(bot, BOB, offer_id)  # Bob never started the bot: no reminder
    deps = bot.app.bot_data.deps
    now = bot.clock.now()

    early = await due_reminders(deps.uow(), now=now + dt.timedelta(days=5))
    due = await due_reminders(deps.uow(), now=now + dt.timedelta(days=6, hours=1))
    again = await due_reminders(deps.uow(), now=now + dt.timedelta(days=6, hours=2))
    await send_coupon_reminders(bot.app.bot, deps, due)

    assert (len(early), len(due), len(again)) == (0, 1, 0)
    assert "expires at" in bot.world.sent(ALICE)[-1].text


async def test_an_offer_for_new_members_refuses_older_ones(bot: Harness):
    created = await create_offer(
        bot.app.bot_data.deps.uow(),
        chat_id=GROUP,
        name="新人券",
        template=Template(CouponKind.FIXED, value=500),
        stock=None,
        per_member=1,
        at=MONDAY,
        audience_joined_days=7,
    )
    now = bot.clock.now()
    await bot.send(bot.world.member_update(GROUP, ALICE, "member", at=now - dt.timedelta(days=2)))
    await bot.send(bot.world.member_update(GROUP, BOB, "member", at=now - dt.timedelta(days=30)))

    [post] = await bot.say(OWNER, f"/coupon post {created.id}")
    fresh = await claim_on_post(bot, ALICE, created.id)
    old = await claim_on_post(bot, BOB, created.id)
    stranger = await claim_on_post(bot, ADMIN, created.id)

    assert "joined in the last 7 days" in post
    assert "Claimed" in fresh
    assert "new members only" in old and "new members only" in stranger


async def test_a_streak_milestone_can_grant_a_coupon(bot: Harness):
    offer_id = await offer(bot, template=Template(CouponKind.FIXED, value=500))
    [bad] = await bot.say(OWNER, "/set milestone_coupons 2:x")
    [ok] = await bot.say(OWNER, f"/set milestone_coupons 2:{offer_id}")

    [day1] = await bot.say(ALICE, "/checkin", at=MONDAY)
    [day2] = await bot.say(ALICE, "/checkin", at=MONDAY + dt.timedelta(days=1))
    bot.world.start_private(ALICE)
    [mine] = await bot.send(bot.world.message(ALICE, ALICE, "/mycoupons", at=MONDAY))

    assert "Cannot set" in bad and "/set milestone_coupons 7:12" in bad
    assert f"2:{offer_id}" in ok
    assert "Streak reward" not in day1
    assert "Streak reward: the coupon “满199减30”" in day2
    assert "🟢 active" in mine


async def test_admins_list_offers_and_get_plain_answers_about_ids_and_limits(bot: Harness):
    offer_id = await offer(bot, stock=1)
    said = bot.world.message(GROUP, ALICE, "me please", at=MONDAY)["message"]

    [missing] = await bot.say(OWNER, "/coupon post 999")
    [odd] = await bot.say(OWNER, "/coupon post ²")
    claimed = await claim_on_post(bot, ALICE, offer_id)
    post = bot.world.button_message(GROUP, build(ClaimButton(offer_id)))
    [twice] = await bot.send(
        bot.world.message(GROUP, OWNER, f"/coupon grant {offer_id}", reply_to_message=said)
    )
    listing, _in_group = await bot.say(OWNER, "/coupon list")

    assert "There is no coupon offer #999 in this group" in missing
    assert "Usage" in odd
    assert "Your code" in claimed
    assert post is not None and "reply_markup" not in post  # the last one took the button off
    assert "<b>Alice Liu</b> already has this coupon" in twice
    assert f"#{offer_id} 满199减30 · 😢 sold out · claimed 1/1 · redeemed 0" in listing


async def test_an_expired_offer_is_not_posted_with_a_claim_button(bot: Harness):
    ends = MONDAY + dt.timedelta(minutes=30)
    template = Template(CouponKind.FIXED, value=500, valid_until=ends)
    offer_id = await offer(bot, template=template)  # made at MONDAY, when it was still live

    [refused] = await bot.say(OWNER, f"/coupon post {offer_id}", at=ends + dt.timedelta(hours=1))

    assert "This offer has ended." in refused
    assert bot.world.button_message(GROUP, build(ClaimButton(offer_id))) is None


async def test_mycoupons_tells_expiry_in_the_coupons_group_time(bot: Harness):
    from zoneinfo import ZoneInfo

    await bot.say(OWNER, "/set timezone America/New_York")  # the bot's default: Asia/Shanghai
    offer_id = await offer(bot)
    await claim_on_post(bot, ALICE, offer_id)
    bot.world.start_private(ALICE)

    [mine] = await bot.send(bot.world.message(ALICE, ALICE, "/mycoupons"))

    [coupon] = await my_coupons_of(bot, ALICE)
    local = coupon.expires_at.astimezone(ZoneInfo("America/New_York"))
    assert local.strftime("%H:%M") in mine


async def test_coupon_commands_in_a_group_the_bot_never_registered_name_the_offer(bot: Harness):
    unknown = -1001500000009
    bot.world.add_group(unknown, "Unregistered Club", owner=OWNER)

    [post] = await bot.say(OWNER, "/coupon post 5", chat=unknown)
    [end] = await bot.say(OWNER, "/coupon end 5", chat=unknown)
    [listing] = await bot.say(OWNER, "/coupon list", chat=unknown)
    [redeem] = await bot.say(OWNER, f"/redeem {new_code()} 199", chat=unknown)
    said = bot.world.message(unknown, ALICE, "me please", at=MONDAY)["message"]
    [grant] = await bot.send(
        bot.world.message(unknown, OWNER, "/coupon grant 5", reply_to_message=said)
    )

    no_offer = "There is no coupon offer #5 in this group. /coupon list shows its offers."
    assert post == end == grant == no_offer
    assert listing == redeem == "This group has no activity yet. Send /checkin to start!"


async def test_an_admin_may_type_the_order_amount_on_the_line_below_the_code(bot: Harness):
    offer_id = await offer(bot)
    code = re.search(
        r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}", await claim_on_post(bot, ALICE, offer_id)
    )
    assert code

    [done] = await bot.say(
        ADMIN, f"/redeem {code.group(0)}\n250", at=MONDAY + dt.timedelta(hours=2)
    )

    assert "discount ¥30.00" in done


async def test_grant_is_explained_in_private_and_refused_without_a_member_to_give_to(
    bot: Harness,
):
    offer_id = await offer(bot)
    bot.world.start_private(OWNER)
    await bot.say(OWNER, "/manage", chat=OWNER)
    await tap(bot, OWNER, OWNER, ManageButton(GROUP))
    bot_said = bot.world.message(GROUP, OWNER, "hello", at=MONDAY)["message"]
    bot_said["from"] = bot.world.bot

    [private] = await bot.say(OWNER, f"/coupon grant {offer_id}", chat=OWNER)
    [to_a_bot] = await bot.send(
        bot.world.message(GROUP, OWNER, f"/coupon grant {offer_id}", reply_to_message=bot_said)
    )
    [ended] = await bot.say(OWNER, f"/coupon end {offer_id}")
    said = bot.world.message(GROUP, ALICE, "me please", at=MONDAY)["message"]
    [late] = await bot.send(
        bot.world.message(GROUP, OWNER, f"/coupon grant {offer_id}", reply_to_message=said)
    )
    [missing] = await bot.send(
        bot.world.message(GROUP, OWNER, "/coupon grant 999", reply_to_message=said)
    )

    assert "Grant in the group" in private
    assert "reply to a member" in to_a_bot
    assert "has ended" in ended
    assert late == "This offer has ended."
    assert "There is no coupon offer #999 in this group" in missing


async def _stored_as_made_before_the_bounds(bot: Harness, template: Template) -> int:
    """An offer stored with dates `check_validity` now refuses (an older command line let
    `--valid-days 99999999` and `--valid-until 9999-12-31…` through)."""
    from campaigns.services.chats import require_chat

    async with bot.app.bot_data.deps.uow() as uow:
        chat = await require_chat(uow, GROUP)
        offer_id = await uow.coupons.add_template(
            chat.pk, name="坏日期", template=template, stock=None, per_member=1, at=bot.clock.now()
        )
        await uow.commit()
    return offer_id


async def test_a_claim_tap_on_an_offer_stored_valid_for_99999999_days_is_answered(bot: Harness):
    from sqlalchemy import update

    from storage.models import CouponTemplateRow

    offer_id = await offer(bot)
    await bot.say(OWNER, f"/coupon post {offer_id}")
    async with bot.app.bot_data.deps.uow() as uow:  # what an older `--valid-days` stored
        await uow.session.execute(
            update(CouponTemplateRow)
            .where(CouponTemplateRow.id == offer_id)
            .values(valid_days=99999999)
        )
        await uow.commit()

    answer = await tap(bot, GROUP, ALICE, build(ClaimButton(offer_id)))

    assert "ended" in answer
    assert await my_coupons_of(bot, ALICE) == []


async def test_coupon_post_of_an_offer_stored_until_year_9999_answers_instead_of_crashing(
    bot: Harness,
):
    forever = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    offer_id = await _stored_as_made_before_the_bounds(
        bot, Template(CouponKind.FIXED, value=1000, valid_until=forever)
    )

    replies = await bot.say(OWNER, f"/coupon post {offer_id}", at=bot.clock.now())

    assert len(replies) == 1 and "ended" in replies[0]
    assert bot.world.button_message(GROUP, build(ClaimButton(offer_id))) is None


async def test_coupon_list_of_100_offers_fits_one_message_newest_first(bot: Harness):
    await say_many(bot, ADMIN, 100, "/coupon new 周末券{i} stock=500\n满100减10")

    listed = await bot.say(ADMIN, "/coupon list", at=bot.clock.now())

    assert bot.world.problems() == []
    # The admin never started the bot: the private try is refused (403), so the list
    # comes in the group, as one message.
    assert listed[0] == listed[1] and "周末券99 " in listed[0]
    assert [c.status for c in bot.world.calls if c.method == "sendMessage"][-2:] == [403, 200]
    assert re.search(r"… and \d+ more$", listed[0])
