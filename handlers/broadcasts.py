"""/broadcast: preview, confirm, then one message kept current with the progress."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time

from pydantic import ValidationError
from telegram import Bot, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from campaigns.access import AccessDenied, ButtonKind, ForeignButton
from campaigns.audience import AudienceError, is_rule, parse_audience
from campaigns.outbox import BroadcastStatus
from campaigns.ports.broadcasts import BroadcastRecord
from campaigns.services.access import authorize_admin, checked_tap
from campaigns.services.broadcasts import (
    BroadcastRefused,
    Control,
    Progress,
    Target,
    control,
    draft,
    finish,
    progress,
    remember_progress,
    shown,
    start,
)
from handlers.admin import admin_group
from handlers.calendar import body_of, content_of, preview, reason_of
from handlers.calendar_texts import CalendarTexts, calendar_texts_for
from handlers.callbacks import BroadcastButton, BroadcastVerb, callback_button, tapped
from handlers.deps import Deps, deps
from handlers.extract import Context, reply, sent_at, tap_of
from handlers.use_case import use_case

log = logging.getLogger(__name__)
CONTROLS = {  # the preview's ✖ and the progress message's ✖ both cancel
    BroadcastVerb.DISCARD: Control.CANCEL,
    BroadcastVerb.CANCEL: Control.CANCEL,
    BroadcastVerb.PAUSE: Control.PAUSE,
    BroadcastVerb.RESUME: Control.RESUME,
}
PROGRESS_EVERY = 3.0  # seconds between edits of one progress message


@use_case
async def broadcast_command(update: Update, context: Context) -> None:
    """`/broadcast [rules]` + text (or as a reply): a draft and its preview."""
    t = await calendar_texts_for(update, context)
    chat, message = await admin_group(update, context, t), update.effective_message
    if chat is None or message is None:
        return
    tokens = (message.text or "").split("\n", 1)[0].split()[1:]
    body = body_of(message)
    if body is None and not tokens:
        await reply(update, t.broadcast_usage())
        return
    rules = [x for x in tokens if is_rule(x) or x.lower() == "all"]
    words = tokens[len(rules) :] if tokens[: len(rules)] == rules else None
    if words is None or (words and body is not None):
        unknown = next((x for x in tokens if not is_rule(x)), tokens[0])
        await reply(update, t.audience_refused(unknown))
        return
    if body is None:  # `/broadcast Hello all` on one line
        if not words:
            await reply(update, t.no_text())
            return
        body = (" ".join(words), None)
    try:
        audience = parse_audience(" ".join(rules))
        content = content_of(body)
    except AudienceError as error:
        await reply(update, t.audience_refused(error.token))
        return
    except ValidationError as error:
        await reply(update, t.content_refused(reason_of(error)))
        return
    user, d = update.effective_user, deps(context)
    try:
        record, count = await draft(
            d.uow(),
            chat_id=chat.id,
            target=Target.MEMBERS,
            content=content,
            audience=audience,
            created_by=user.id if user else None,
            now=sent_at(update),
            update=(context.bot.id, update.update_id),
        )
    except BroadcastRefused as refused:
        await reply(update, t.broadcast_refused(refused.reason))
        return
    except ForeignButton as error:
        await reply(update, t.foreign_button(error))
        return
    markup = InlineKeyboardMarkup(
        [
            [
                callback_button(
                    t.send_button(count), BroadcastButton(BroadcastVerb.SEND, record.id)
                ),
                callback_button(
                    t.cancel_button(), BroadcastButton(BroadcastVerb.DISCARD, record.id)
                ),
            ]
        ]
    )
    await preview(
        update,
        context,
        content,
        t.broadcast_draft(record, count),
        markup,
        (ButtonKind.BROADCAST, record.id),
    )


def progress_markup(b: BroadcastRecord, t: CalendarTexts) -> InlineKeyboardMarkup | None:
    if b.status == BroadcastStatus.SENDING:
        toggle = callback_button(t.pause_button(), BroadcastButton(BroadcastVerb.PAUSE, b.id))
    elif b.status == BroadcastStatus.PAUSED:
        toggle = callback_button(t.resume_button(), BroadcastButton(BroadcastVerb.RESUME, b.id))
    else:
        return None
    cancel = callback_button(t.cancel_button(), BroadcastButton(BroadcastVerb.CANCEL, b.id))
    return InlineKeyboardMarkup([[toggle, cancel]])


async def on_broadcast_button(update: Update, context: Context) -> None:
    """📣 send, ✖ cancel, ⏸ pause, ▶️ resume: only the group's admins."""
    query, user = update.callback_query, update.effective_user
    button = tapped(update, BroadcastButton)
    if query is None or user is None or button is None:
        return
    bid = button.broadcast_id
    d, now, tap = deps(context), dt.datetime.now(dt.UTC), tap_of(update)
    try:
        await checked_tap(d.uow(), kind=ButtonKind.BROADCAST, object_id=bid, tap=tap)
    except AccessDenied as denied:  # in the tapper's own words: nothing about the broadcast
        await query.answer((await calendar_texts_for(update, context)).access_denied(denied), True)
        return
    try:
        current = await progress(d.uow(), broadcast_id=bid, now=now)
    except BroadcastRefused as refused:
        t = CalendarTexts(d.defaults.language)
        await query.answer(t.broadcast_refused(refused.reason), show_alert=True)
        return
    group = current.group_id
    t = CalendarTexts((await d.settings_of(group)).language if group else d.defaults.language)
    try:
        await authorize_admin(d.gate(context.bot), group_id=group, user_id=user.id)
    except AccessDenied as denied:
        await query.answer(t.access_denied(denied), show_alert=True)
        return
    try:
        if button.verb is BroadcastVerb.SEND:
            record = await start(d.uow(), broadcast_id=bid, now=now)
            await remember_progress(
                d.uow(), broadcast_id=bid, chat_id=tap.chat_id, message_id=tap.message_id
            )
        else:
            record = await control(d.uow(), broadcast_id=bid, action=CONTROLS[button.verb], now=now)
    except BroadcastRefused as refused:
        await query.answer(t.broadcast_refused(refused.reason), show_alert=True)
        return
    await query.answer()
    if current.broadcast.progress is not None:
        d.shown.pop(current.broadcast.progress, None)  # the state changed: show it now
    await show_progress(context.bot, d, await progress(d.uow(), broadcast_id=bid, now=now), t)
    if record.status == BroadcastStatus.SENDING:
        sender = context.application.bot_data.get("outbox")
        if sender is not None:
            sender.kick()


async def show_progress(bot: Bot, d: Deps, p: Progress, t: CalendarTexts) -> None:
    """Edit the progress message if its text changed (at most every few seconds)."""
    b = p.broadcast
    if b.progress is None:
        return
    text = t.progress(p)
    if d.shown.get(b.progress) == text:
        return
    chat_id, message_id = b.progress
    with contextlib.suppress(TelegramError):
        await bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_id, reply_markup=progress_markup(b, t)
        )
        d.shown[b.progress] = text


async def refresh_progress(bot: Bot, d: Deps, last: dict[int, float]) -> None:
    """Called on every tick: finished broadcasts get their report, running ones an update."""
    now = dt.datetime.now(dt.UTC)
    done = await finish(d.uow, now=now)
    for bid in [*done, *await shown(d.uow())]:
        if bid not in done and time.monotonic() - last.get(bid, 0.0) < PROGRESS_EVERY:
            continue
        last[bid] = time.monotonic()
        p = await progress(d.uow(), broadcast_id=bid, now=now)
        group = p.group_id
        language = (await d.settings_of(group)).language if group else d.defaults.language
        await show_progress(bot, d, p, CalendarTexts(language))
        if bid in done:
            last.pop(bid, None)
            log.info("broadcast %s done: %d sent, %d failed", bid, p.sent, p.failed)
