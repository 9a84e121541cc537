"""/broadcast: preview, confirm, then one message kept current with the progress."""

from __future__ import annotations

import contextlib

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TelegramError

from campaigns.access import ButtonKind
from campaigns.audience import Audience, split_broadcast
from campaigns.broadcast_variants import parse_report, read_variants
from campaigns.content import PostContent
from campaigns.experiments import LABELS
from campaigns.outbox import BroadcastStatus
from campaigns.ports.broadcasts import BroadcastRecord
from campaigns.services.broadcasts import (
    Control,
    Progress,
    Target,
    broadcast_report,
    draft,
    press,
)
from handlers.broadcast_texts import BroadcastTexts
from handlers.calendar import Asking, body_of, preview
from handlers.calendar_texts import CalendarTexts
from handlers.callbacks import BroadcastButton, BroadcastVerb, callback_button, tapped
from handlers.deps import Deps
from handlers.reports import figures_privately
from handlers.use_case import Call, use_case

REPORT = {"report", "报告"}
CONTROLS = {  # the preview's ✖ and the progress message's ✖ both cancel
    BroadcastVerb.SEND: Control.SEND,
    BroadcastVerb.DISCARD: Control.CANCEL,
    BroadcastVerb.CANCEL: Control.CANCEL,
    BroadcastVerb.PAUSE: Control.PAUSE,
    BroadcastVerb.RESUME: Control.RESUME,
}


@use_case(BroadcastTexts, admin=True)
async def broadcast_command(call: Call[BroadcastTexts]) -> None:
    """`/broadcast [rules] [holdout=10] [text]` (the post below the command, or replied to;
    `---` lines split variants): a preview. `/broadcast report <id>`: its A/B test."""
    t, message = call.t, call.update.effective_message
    if call.args[:1] and call.args[0].casefold() in REPORT:
        await report(call)
        return
    body = body_of(message) if message is not None else None
    if body is None and not call.args:
        await call.reply(t.broadcast_usage())
        return
    audience, holdout, words = split_broadcast(call.args, has_body=body is not None)
    if body is None and not words:
        await call.reply(t.broadcast_no_text())
        return
    await _draft_and_preview(call, audience, holdout, read_variants(*(body or (words, None))))


async def _draft_and_preview(
    call: Call[BroadcastTexts], audience: Audience, holdout: int, variants: list[PostContent]
) -> None:
    """The draft (one variant, or an A/B test), then each variant as members will see it."""
    t = call.t
    record, count, held = await draft(
        call.deps.uow(), chat_id=call.group_id, target=Target.MEMBERS, content=variants[0],
        audience=audience, created_by=call.user_id, now=call.at, update=call.key,
        variants=variants if len(variants) > 1 else (), holdout=holdout,
    )  # fmt: skip
    labelled = [(t.variant_label(a), v) for a, v in zip(LABELS, variants, strict=False)]
    await preview(
        call, variants[0], t.broadcast_draft(record, count),
        draft_markup(record, count - held, t, held=held),
        variants=labelled if len(variants) > 1 else (),
    )  # fmt: skip


async def report(call: Call[BroadcastTexts]) -> None:
    """`/broadcast report <id>`: each arm's numbers and each variant against its control, or
    a plain broadcast's delivery."""
    r = await broadcast_report(
        call.deps.uow(), chat_id=call.group_id, broadcast_id=parse_report(call.args),
        now=call.at,
    )  # fmt: skip
    await figures_privately(
        call, call.t.progress(r) if isinstance(r, Progress) else call.t.report(r)
    )


def draft_markup(b: BroadcastRecord, count: int, t: CalendarTexts, *, held: int = 0) -> Asking:
    """📣 send to `count` members (`held` more held out), ✖ discard: asked about this
    broadcast only."""
    send = callback_button(t.send_button(count, held), BroadcastButton(BroadcastVerb.SEND, b.id))
    discard = callback_button(t.cancel_button(), BroadcastButton(BroadcastVerb.DISCARD, b.id))
    return Asking(InlineKeyboardMarkup([[send, discard]]), ButtonKind.BROADCAST, b.id)


def progress_markup(b: BroadcastRecord, t: CalendarTexts) -> InlineKeyboardMarkup | None:
    if b.status == BroadcastStatus.SENDING:
        toggle = callback_button(t.pause_button(), BroadcastButton(BroadcastVerb.PAUSE, b.id))
    elif b.status == BroadcastStatus.PAUSED:
        toggle = callback_button(t.resume_button(), BroadcastButton(BroadcastVerb.RESUME, b.id))
    else:
        return None
    cancel = callback_button(t.cancel_button(), BroadcastButton(BroadcastVerb.CANCEL, b.id))
    return InlineKeyboardMarkup([[toggle, cancel]])


@use_case(BroadcastTexts)
async def on_broadcast_button(call: Call[BroadcastTexts]) -> None:
    """📣 send, ✖ cancel, ⏸ pause, ▶️ resume: only the group's admins, on its own message."""
    button, d = tapped(call.update, BroadcastButton), call.deps
    if button is None or call.user_id is None:
        return
    p = await press(
        d.uow, d.gate(call.context.bot), broadcast_id=button.broadcast_id,
        action=CONTROLS[button.verb], tap=call.tap, user_id=call.user_id, now=call.at,
    )  # fmt: skip
    await call.alert()
    if p.broadcast.progress is None:  # ✖ on the preview: the draft is gone, and says so
        await call.edit(call.t.broadcast_discarded(p.broadcast.id))
        return
    await call.speak_for(p.group_id)  # the progress message speaks the group's language
    if p.broadcast.progress is not None:
        d.shown.pop(p.broadcast.progress, None)  # the state changed: show it now
    await show_progress(call.context.bot, d, p, call.t)
    if p.broadcast.status == BroadcastStatus.SENDING and d.outbox is not None:
        d.outbox.kick()


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
