"""/me and /top."""

from __future__ import annotations

from campaigns.errors import UnknownChat
from campaigns.referral import PERIODS
from campaigns.services.profile import BOARDS, leaderboard, my_profile
from campaigns.services.referral_reports import invite_board
from handlers.profile_texts import ProfileTexts
from handlers.use_case import Call, use_case


@use_case(ProfileTexts, group=True)
async def me_command(call: Call[ProfileTexts]) -> None:
    """The caller's points, streak, best streak, check-ins and rank in this group."""
    assert call.user_id is not None and call.person is not None
    await call.deps.buffer.flush()  # the message count shown must include recent chatter
    try:
        profile = await my_profile(
            call.deps.uow(), bot_id=call.key[0], update_id=call.key[1],
            chat_id=call.group_id, user_id=call.user_id, at=call.at,
        )  # fmt: skip
    except UnknownChat:
        profile = None
    await call.reply(call.t.profile(call.person.display_name, profile))


@use_case(ProfileTexts, group=True)
async def top_command(call: Call[ProfileTexts]) -> None:
    """Leaderboard by points (default), `/top streak`, or `/top invites [week|month|all]`,
    with the caller's own place."""
    assert call.user_id is not None
    words = call.words
    by = words[0].lower() if words else "points"
    period = words[1].lower() if by == "invites" and len(words) > 1 else "all"
    if (by not in BOARDS and by != "invites") or period not in PERIODS:
        await call.reply(call.t.top_usage())
        return
    if by == "invites":
        await _invite_top(call, period)
        return
    board = await leaderboard(
        call.deps.uow(), bot_id=call.key[0], update_id=call.key[1], chat_id=call.group_id,
        user_id=call.user_id, by=by, at=call.at,
    )  # fmt: skip
    await call.reply(call.t.leaderboard(board))


async def _invite_top(call: Call[ProfileTexts], period: str) -> None:
    """`/top invites [week|month|all]`: confirmed invites in the period."""
    assert call.user_id is not None
    board = await invite_board(
        call.deps.uow(), bot_id=call.key[0], update_id=call.key[1], chat_id=call.group_id,
        user_id=call.user_id, period=period, at=call.at,
    )  # fmt: skip
    await call.reply(call.t.invite_board(board))
