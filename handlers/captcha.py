"""The join captcha in the group: newcomers restricted and listed on one prompt message (edited
as more join within its minute, within the group's reply budget), their taps, and the sweep
that expires unanswered ones. A prompt is deleted once none of its captchas is pending.

The use cases (campaigns/services/captcha.py) decide; this module only restricts through the
Moderator, renders, and tells admins about a right Telegram said the bot lacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
from collections.abc import Sequence

from telegram import Bot, Chat, ChatJoinRequest, ChatMemberUpdated, InlineKeyboardMarkup
from telegram.error import TelegramError

from campaigns.ports.captcha import CaptchaRecord
from campaigns.services.captcha import (
    Decision,
    NotYourCaptcha,
    Prompt,
    answer_captcha,
    expire_captchas,
    groups_to_prompt,
    place_prompt,
    place_question,
    prompt_for,
    request_check,
    restrict_newcomers,
)
from campaigns.services.members import Presence
from campaigns.services.raids import (
    Switched,
    approve_held,
    calm_down,
    raid_status,
    still_held,
    switch,
)
from campaigns.settings import language_for
from handlers.callbacks import CaptchaButton, callback_button, tapped
from handlers.captcha_texts import CaptchaTexts
from handlers.deps import Deps
from handlers.extract import replied_to
from handlers.moderation import reply_target, tell_missing_rights
from handlers.moderator import TelegramModerator
from handlers.notify import send_notices, tell_admins
from handlers.use_case import Call, use_case

log = logging.getLogger(__name__)
PROMPT_FRESH = dt.timedelta(minutes=1)  # newcomers join the same prompt for this long


async def after_presence(bot: Bot, d: Deps, chat: Chat, result: Presence) -> None:
    """After joins and leaves: raid mode told (once); newcomers whose join opened a captcha
    or a raid's hold restricted, then shown on the group's prompt (a held member is not: an
    admin decides); those who left taken off the prompts that listed them."""
    if result.raid is not None:
        await announce_raid(bot, d, result.raid)
    if result.captchas:
        missing = await restrict_newcomers(
            d.uow(), TelegramModerator(bot), list(result.captchas), bot_id=bot.id, at=d.clock()
        )
        await tell_missing_rights(bot, d, chat.id, chat.title, [m.right for m in missing])
        await show_prompt(bot, d, chat.id)
    shown = {(c.prompt_chat_id, c.prompt_message_id) for c in result.closed}
    for prompt_chat, message_id in shown:
        if prompt_chat is not None and message_id is not None:
            await show_prompt(bot, d, prompt_chat, message_id)


async def unmuted_by_admin(bot: Bot, d: Deps, change: ChatMemberUpdated) -> None:
    """An admin lifted a newcomer's restriction through Telegram: their captcha or hold
    passes, so no sweep removes them later (only admins can lift one; the bot's own lifts
    are its own decisions already)."""
    old, new = change.old_chat_member.status, change.new_chat_member.status
    if old != "restricted" or new != "member" or change.from_user.id == bot.id:
        return
    await approve_held(
        d.uow(), None, chat_id=change.chat.id, admin_id=change.from_user.id,
        user_ids=[change.new_chat_member.user.id], at=d.clock(),
    )  # fmt: skip


def fresh_prompt(d: Deps, chat_id: int) -> int | None:
    """The group's prompt that newcomers still join (sent within the last minute)."""
    hit = d.prompts.get(chat_id)
    return hit[0] if hit is not None and d.clock() - hit[1] < PROMPT_FRESH else None


async def show_prompt(bot: Bot, d: Deps, chat_id: int, message_id: int | None = None) -> None:
    """Show the prompt as it is now: `message_id` (after a tap or an expiry), else the group's
    fresh prompt or a new one. Through the group's budget: the newest state of each wins."""
    target = message_id if message_id is not None else fresh_prompt(d, chat_id)
    render = functools.partial(_render, bot, d, chat_id, target)
    await d.cards.put(chat_id, ("captcha", chat_id, target), render)


def _markup(prompt: Prompt, t: CaptchaTexts) -> InlineKeyboardMarkup:
    rows = [
        [callback_button(t.option(n, text), CaptchaButton(line.captcha.id, i))
         for i, text in enumerate(line.captcha.options)]
        for n, line in enumerate(prompt.lines, 1)
    ]  # fmt: skip
    return InlineKeyboardMarkup(rows)


async def _render(bot: Bot, d: Deps, chat_id: int, message_id: int | None) -> None:
    """One render per group at a time: two would both place the same newcomers."""
    async with d.prompt_locks.setdefault(chat_id, asyncio.Lock()):
        await _render_now(bot, d, chat_id, message_id)


async def _render_now(bot: Bot, d: Deps, chat_id: int, message_id: int | None) -> None:
    now, fresh = d.clock(), fresh_prompt(d, chat_id)
    message_id = message_id if message_id is not None else fresh
    take_new = message_id is None or message_id == fresh
    prompt = await prompt_for(d.uow(), chat_id, message_id=message_id, take_new=take_new, now=now)
    if prompt is None:
        return
    if not prompt.lines:
        if message_id is not None:
            d.shown.pop((chat_id, message_id), None)
            with contextlib.suppress(TelegramError):
                await bot.delete_message(chat_id, message_id)
            if fresh == message_id:
                d.prompts.pop(chat_id, None)
        return
    t = CaptchaTexts(prompt.language)
    try:
        if message_id is None:
            sent = await bot.send_message(
                chat_id, t.prompt(prompt), reply_markup=_markup(prompt, t)
            )
            message_id = sent.message_id
            d.prompts[chat_id] = (message_id, d.clock())  # when it went out
        elif d.shown.get((chat_id, message_id)) != (text := t.prompt(prompt)):
            await bot.edit_message_text(text, chat_id, message_id, reply_markup=_markup(prompt, t))
    except TelegramError as error:
        # Not shown: nobody new is placed on it, so no newcomer's minutes start unseen.
        log.info("captcha prompt in %s not shown: %s", chat_id, error)
        return
    d.shown[(chat_id, message_id)] = t.prompt(prompt)  # an unchanged prompt is not edited
    await place_prompt(d.uow(), prompt, message_id, d.clock())


async def settle(bot: Bot, d: Deps, decisions: Sequence[Decision]) -> None:
    """After captchas were decided: inviters told, admins told of a missing right, and each
    prompt shown without the decided newcomers (deleted once none is left)."""
    prompts: dict[tuple[int, int], None] = {}
    for decision in decisions:
        await send_notices(bot, d, decision.notices)
        rights = [m.right for m in decision.missing]
        await tell_missing_rights(bot, d, decision.chat_id, decision.title, rights)
        captcha = decision.captcha
        if captcha.via_request:
            await _request_decided(bot, d, decision)
        elif captcha.prompt_chat_id is not None and captcha.prompt_message_id is not None:
            prompts[(captcha.prompt_chat_id, captcha.prompt_message_id)] = None
    for chat_id, message_id in prompts:  # each prompt once, however many were decided
        await show_prompt(bot, d, chat_id, message_id)


@use_case(CaptchaTexts)
async def on_captcha_tap(call: Call[CaptchaTexts]) -> None:
    """An option under a prompt: honoured on the prompt the bot sent for it, from the newcomer
    it is for; anyone else is told so in their own language and nothing changes."""
    button, user = tapped(call.update, CaptchaButton), call.user
    if button is None or user is None:
        return
    d, bot = call.deps, call.context.bot
    t = CaptchaTexts(language_for(user.language_code, call.t.language))
    try:
        decision = await answer_captcha(
            d.uow(), TelegramModerator(bot), bot_id=bot.id, update_id=call.update.update_id,
            captcha_id=button.captcha_id, option=button.option, tapper=user.id, at=d.clock(),
            tap=call.tap,
        )  # fmt: skip
    except NotYourCaptcha:
        await call.alert(t.not_yours())
        return
    await _answered(call, t, decision)


async def _answered(call: Call[CaptchaTexts], t: CaptchaTexts, decision: Decision | None) -> None:
    """Tell the tapper how their answer went, then settle the prompt it was on (a join
    request's private question is edited to say it instead)."""
    d = call.deps
    if decision is None:
        await call.alert(t.decided())
        return
    if decision.captcha.via_request:
        await call.alert()
    else:
        minutes = (await d.settings_of(decision.chat_id)).moderation.captcha_ban_minutes
        await call.alert(t.answered(decision.status, minutes, refused=bool(decision.missing)))
    await settle(call.context.bot, d, [decision])


async def _request_decided(bot: Bot, d: Deps, decision: Decision) -> None:
    """A join request's question decided: its private message says how, in the requester's
    language (the request was approved or declined by the use case)."""
    captcha = decision.captcha
    if captcha.prompt_chat_id is None or captcha.prompt_message_id is None:
        return  # a raid's hold: no question was sent
    t = CaptchaTexts(language_for(decision.member_language, d.defaults.language))
    said = t.request_outcome(decision.title, decision.status, refused=bool(decision.missing))
    with contextlib.suppress(TelegramError):
        await bot.edit_message_text(said, captcha.prompt_chat_id, captcha.prompt_message_id)


async def check_request(bot: Bot, d: Deps, request: ChatJoinRequest) -> bool:
    """A join request screened by the bot: False when there is nothing to check (raid mode
    off and no captcha). Else held for the admins during a raid, or asked privately."""
    user = request.from_user
    check = await request_check(
        d.uow(), chat_id=request.chat.id, user_id=user.id, at=request.date.astimezone(dt.UTC)
    )
    if check is None:
        return False
    t = CaptchaTexts(language_for(user.language_code, d.defaults.language))
    markup = None if check.held else _question_markup(check.captcha)
    text = t.request_held(check) if check.held else t.request_question(check)
    try:
        sent = await bot.send_message(request.user_chat_id, text, reply_markup=markup)
    except TelegramError as error:  # unanswered, it is declined when its minutes run out
        log.info("join request question to %s not sent: %s", user.id, error)
        return True
    await place_question(d.uow(), check, request.user_chat_id, sent.message_id)  # edited later
    return True


def _question_markup(captcha: CaptchaRecord) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[callback_button(o, CaptchaButton(captcha.id, i)) for i, o in enumerate(captcha.options)]]
    )


async def sweep_captchas(bot: Bot, d: Deps) -> None:
    """The job: captchas shown more than their minutes ago expire (their newcomers removed
    for the ban minutes), and newcomers a full prompt left out get the next one (they wait,
    restricted, and their minutes start only when it shows them)."""
    now = d.clock()
    decisions = await expire_captchas(d.uow(), TelegramModerator(bot), bot_id=bot.id, now=now)
    await settle(bot, d, decisions)
    for ended in await calm_down(d.uow(), bot_id=bot.id, now=now):
        await announce_raid(bot, d, ended)
    for chat_id in await groups_to_prompt(d.uow(), now):
        if fresh_prompt(d, chat_id) is None:
            await show_prompt(bot, d, chat_id)


async def announce_raid(bot: Bot, d: Deps, switched: Switched) -> None:
    """Raid mode switched by a burst or the calm time: the admins told privately, the group
    once through its budget (a notice still queued is replaced by a newer one)."""
    await _tell_admins(bot, d, switched)
    text = CaptchaTexts(switched.language).raid_group_notice(switched.on)

    async def notice() -> None:
        with contextlib.suppress(TelegramError):
            await bot.send_message(switched.chat_id, text)

    await d.cards.put(switched.chat_id, ("raid", switched.chat_id), notice)


@use_case(CaptchaTexts, admin=True)
async def raid_command(call: Call[CaptchaTexts]) -> None:
    """`/raid status|on|off|approve` (admins): see, switch, or let held members in."""
    verb = call.words[0].lower() if call.words else ""
    if verb in {"on", "off"}:
        await _switch(call, verb == "on")
    elif verb == "approve":
        await _approve(call)
    elif verb == "status" and len(call.words) == 1:
        status = await raid_status(call.deps.uow(), call.group_id)
        if status is not None:
            await call.reply(call.t.raid_status(status))
    else:
        await call.reply(call.t.raid_usage())


async def _switch(call: Call[CaptchaTexts], on: bool) -> None:
    """`/raid on|off`: the admins told privately, the group by this reply (or, sent
    privately through /manage, by its notice)."""
    d, bot, admin = call.deps, call.context.bot, call.user_id or 0
    switched = await switch(d.uow(), chat_id=call.group_id, on=on, admin_id=admin, at=call.at)
    if switched is None:
        await call.reply(call.t.raid_already(on))
        return
    await call.reply(call.t.raid_switched(switched))
    if call.update.effective_chat is not None and call.update.effective_chat.id != call.group_id:
        await announce_raid(bot, d, switched)
    else:
        await _tell_admins(bot, d, switched)


async def _tell_admins(bot: Bot, d: Deps, switched: Switched) -> None:
    """Privately, each admin in their own language: why raid mode switched, what to do."""
    await tell_admins(
        bot, d, switched.chat_id, lambda language: CaptchaTexts(language).raid_admin(switched)
    )


def approve_targets(call: Call[CaptchaTexts]) -> tuple[bool, list[int] | None]:
    """Whom `/raid approve` names: user ids, `all` (None), or by reply the people a join's
    service message added (not its sender, who may be the one who added them) or the member
    replied to; (False, None) when it names nobody."""
    rest = [w.lower() for w in call.words[1:]]
    if rest == ["all"]:
        return True, None
    if rest:  # ASCII digits only: "²" is a digit to Python but no id
        ok = all(w.isascii() and w.isdigit() and len(w) <= 15 for w in rest)
        return (True, [int(w) for w in rest]) if ok else (False, None)
    message = call.update.effective_message
    replied = replied_to(message)
    added = [u.id for u in replied.new_chat_members if not u.is_bot] if replied else []
    target = reply_target(call)
    ids = added or ([target.user_id] if target is not None else [])
    return bool(ids), ids or None


async def _approve(call: Call[CaptchaTexts]) -> None:
    """`/raid approve` in reply to a held member's join or message, with user ids, or `all`:
    each let in says so, and so does each Telegram refused."""
    named, ids = approve_targets(call)
    if not named:
        await call.reply(call.t.raid_usage())
        return
    d, bot = call.deps, call.context.bot
    decisions = await approve_held(
        d.uow(), TelegramModerator(bot), chat_id=call.group_id, admin_id=call.user_id or 0,
        user_ids=ids, at=call.at,
    )  # fmt: skip
    left = await still_held(d.uow(), call.group_id) if ids is None else 0
    refused = sum(bool(x.missing) for x in decisions)
    await call.reply(
        call.t.approved(len(decisions) - refused, refused, left, named=ids is not None)
    )
    await settle(bot, d, decisions)
