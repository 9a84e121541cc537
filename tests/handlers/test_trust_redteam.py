"""Found by trying to break the trust model (each failed before its fix): odd ids, a member who
left, redelivered posts, a claim racing an ended offer, payout offers as rewards, dead buttons,
forged admin taps answered in the tapper's language, taps without a message, odd payloads."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from sqlalchemy import select

from campaigns.coupons import CouponKind, Template
from campaigns.groupbuys import Deal
from campaigns.services.coupons import create_offer
from campaigns.services.groupbuys import create_deal
from handlers.callbacks import ClaimButton, ScheduleButton, ScheduleVerb
from storage.engine import create_engine
from storage.models import CouponRow
from tests.handlers.conftest import ALICE, CAROL, GROUP, MONDAY, OWNER, Harness, tap
from tests.handlers.test_trust import deal_in, offer_in

STRANGER = 62


async def coupons_of(database_url: str, user: int) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(CouponRow.id).where(CouponRow.user_id == user))
            return len(rows.all())
    finally:
        await engine.dispose()


def crashes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        repr(r.exc_info[1])[:160]
        for r in caplog.records
        if r.name == "growthbot.errors" and r.exc_info
    ]


# 1. `²` passes str.isdigit() but int() refuses it; 20 digits pass isdigit() but overflow BIGINT.
@pytest.mark.parametrize(
    "command",
    [
        "/coupon post ²",
        "/coupon end 99999999999999999999",
        "/coupon post 99999999999999999999",
        "/groupbuy post ²",
        "/groupbuy post 99999999999999999999",
        "/post pause ²",
        "/post delete 99999999999999999999",
        "/sequence delete ²",
        "/sequence delete 99999999999999999999",
        "/invite revoke ²",
        "/invite revoke 99999999999999999999",
        "/referral report ²",
    ],
)
async def test_odd_numeric_arguments_get_a_reply_not_a_traceback(
    bot: Harness, command: str, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.ERROR, logger="growthbot.errors")
    said = await bot.say(OWNER, command)
    assert crashes(caplog) == [] and said


# 2. The gate remembers a "member" answer for 60 s and a seen leave does not clear it.
async def test_a_member_whose_leave_the_bot_saw_cannot_claim(bot: Harness, database_url: str):
    a, b = await offer_in(bot, name="A"), await offer_in(bot, name="B")
    await bot.say(OWNER, f"/coupon post {a}")
    await bot.say(OWNER, f"/coupon post {b}")
    first = await tap(bot, GROUP, CAROL, ClaimButton(a))  # Telegram is asked: a member
    await bot.send(bot.world.member_update(GROUP, CAROL, "left"))  # the bot sees her leave
    await bot.flush()
    after = await tap(bot, GROUP, CAROL, ClaimButton(b))

    assert "Claimed" in first
    assert "Claimed" not in after and await coupons_of(database_url, CAROL) == 1


# 3. /coupon post and /groupbuy post do not claim their update: a redelivery posts twice.
@pytest.mark.parametrize("kind", ["coupon", "groupbuy"])
async def test_a_redelivered_post_command_posts_once(bot: Harness, kind: str):
    object_id = await offer_in(bot) if kind == "coupon" else (await deal_in(bot))[0]
    update = bot.world.message(GROUP, OWNER, f"/{kind} post {object_id}")
    await bot.send(update)
    await bot.send(update)  # Telegram redelivers the same update_id
    prefix = "cpn:" if kind == "coupon" else "gb:s:"
    posts = [c for c in bot.world.sent(GROUP) if prefix in str(c.params.get("reply_markup"))]
    assert len(posts) == 1


# 4. claim() reads `active` early; take_stock/issue do not re-check it, so a claim that
#    overlaps /coupon end issues a coupon after the admin was told "no more claims".
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite: one writer
async def test_no_coupon_is_issued_after_coupon_end_replied(
    bot: Harness, database_url: str, monkeypatch: pytest.MonkeyPatch
):
    import campaigns.services.coupons as service

    offer = await offer_in(bot)
    await bot.say(OWNER, f"/coupon post {offer}")
    checked, ended = service.require_member, []

    async def end_meanwhile(uow, gate, chat, user_id):  # type: ignore[no-untyped-def]
        await checked(uow, gate, chat, user_id)
        ended.extend(await bot.say(OWNER, f"/coupon end {offer}"))  # commits before the claim

    monkeypatch.setattr(service, "require_member", end_meanwhile)
    claimed = await tap(bot, GROUP, ALICE, ClaimButton(offer))

    assert "has ended" in ended[0]
    assert "Claimed" not in claimed and await coupons_of(database_url, ALICE) == 0


# 5. _milestone_coupon skips the purpose check that claims, posts and referral rewards make.
async def test_a_streak_milestone_cannot_pay_out_a_group_buy_offer(bot: Harness, database_url: str):
    _, payout = await deal_in(bot)
    await bot.say(OWNER, f"/set milestone_coupons 2:{payout}")
    await bot.say(ALICE, "/checkin", at=MONDAY)
    await bot.say(ALICE, "/checkin", at=MONDAY + dt.timedelta(days=1))
    assert await coupons_of(database_url, ALICE) == 0


# 6. "A post's coupon N / groupbuy N button must name the group's own *live* offer or deal":
#    an ended deal and an offer past its valid_until are accepted (and re-sent daily).
async def test_buttons_for_an_ended_deal_or_an_expired_offer_are_refused(bot: Harness):
    now, deps = bot.clock.now(), bot.app.bot_data.deps
    deal = await create_deal(
        deps.uow(), chat_id=GROUP, deal=Deal("Tea", 3000, 1990, 3, 60, now - dt.timedelta(days=1)),
        description=None, at=now - dt.timedelta(days=2),
    )  # fmt: skip
    offer = await create_offer(
        deps.uow(), chat_id=GROUP, name="old", stock=None, per_member=1,
        at=now - dt.timedelta(days=3),
        template=Template(CouponKind.FIXED, value=500, valid_until=now - dt.timedelta(days=1)),
    )  # fmt: skip
    schedule = "/schedule daily 09:00\nhi\nbutton: "
    dead_deal = await bot.say(OWNER, f"{schedule}Join | groupbuy {deal.id}", at=now)
    dead_offer = await bot.say(OWNER, f"{schedule}Get | coupon {offer.id}", at=now)
    assert not any("Schedule it?" in s for s in dead_deal + dead_offer)


# 8. An admin button forged by a stranger in his own private chat: answered in the group's
#    language, and the answer differs for an existing post (an existence oracle).
async def test_a_forged_admin_tap_is_answered_in_the_tappers_language(bot: Harness):
    await bot.say(OWNER, "/set language zh")
    await bot.say(OWNER, "/schedule daily 09:00\nhi")
    bot.world.add_user(STRANGER, "Stan", language_code="en")
    bot.world.start_private(STRANGER)
    real = await tap(bot, STRANGER, STRANGER, ScheduleButton(ScheduleVerb.SAVE, 1), fresh=True)
    none = await tap(bot, STRANGER, STRANGER, ScheduleButton(ScheduleVerb.SAVE, 777), fresh=True)
    assert real.isascii(), real
    assert real == none


# 9. A tap on an inline-mode message (no `message`): bc:* returns before answering, and
#    ref:* answers blank then replies to no message: the client just spins / sees nothing.
@pytest.mark.parametrize("data", ["bc:go:1", "ref:invite:1"])
async def test_a_tap_without_a_message_gets_a_refusal(bot: Harness, data: str):
    before = len(bot.world.calls)
    await bot.send(
        {
            "update_id": 990001,
            "callback_query": {
                "id": "77", "from": bot.world.users[ALICE], "chat_instance": "x",
                "inline_message_id": "AAAA", "data": data,
            },
        }
    )  # fmt: skip
    answers = [c for c in bot.world.calls[before:] if c.method == "answerCallbackQuery"]
    assert answers and answers[0].params.get("text")


# 10. A NUL in a typed /start payload reaches PostgreSQL (team_by_token) and raises.
async def test_a_start_payload_with_a_nul_gets_a_reply(
    bot: Harness, database_url: str, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.ERROR, logger="growthbot.errors")
    bot.world.start_private(ALICE)
    said = await bot.send(bot.world.message(ALICE, ALICE, "/start team_\x00abc"))
    assert crashes(caplog) == [] and said


# 7. A 19-digit id passes split_buttons (len < 20) but not Button (lt 2**63): pydantic's English.
async def test_a_huge_button_id_is_refused_in_the_groups_language(bot: Harness):
    await bot.say(OWNER, "/set language zh")
    huge = "/schedule daily 09:00\nhi\nbutton: x | coupon 9999999999999999999"
    [said] = await bot.say(OWNER, huge)
    prose = re.sub(r"<code>.*?</code>|/\w+", "", said)  # commands and examples stay as typed
    assert "<code>button:" in said and not re.search(r"[A-Za-z]{5,}", prose), said
