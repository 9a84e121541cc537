"""/schedule, /posts, /post and /sequence: the content calendar in chat."""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Sequence

from pydantic import ValidationError
from telegram import (
    Bot,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
    User,
)
from telegram.error import Forbidden, TelegramError

from campaigns.access import AccessDenied, ButtonKind, Denied, ForeignButton, parse_id
from campaigns.content import PostContent, split_buttons
from campaigns.errors import UnknownChat
from campaigns.ports.calendar import PostRecord
from campaigns.schedule import ScheduleError, parse_when
from campaigns.services.access import authorize_admin, checked_tap, remember_buttons
from campaigns.services.calendar import (
    MAX_DAY,
    PostAction,
    PostRefused,
    add_post,
    add_step,
    change_post,
    confirm_post,
    delete_step,
    group_posts,
    group_steps,
    post_group,
)
from campaigns.services.outbox import NAME_TAG
from handlers.admin import admin_group
from handlers.calendar_texts import CalendarTexts, calendar_texts_for
from handlers.callbacks import ScheduleButton, ScheduleVerb, callback_button, tapped
from handlers.deps import Deps, deps
from handlers.extract import Context, reply, sent_at, tap_of
from handlers.notify import send_private
from handlers.outbox import send_content
from handlers.use_case import use_case

log = logging.getLogger(__name__)
OPTIONS = {"pin": "pin", "置顶": "pin", "silent": "silent", "静音": "silent",
           "replace": "replace", "替换": "replace"}  # fmt: skip
RUNS_SHOWN = 3


def html_of(text: str | None, entities: dict[MessageEntity, str]) -> str:
    """A message's text as Telegram HTML, attribute values escaped too.

    PTB's `text_html` puts a text link's URL into `href="…"` as it is, so a shop link with
    `?a=1&b=2` (any UTM link) becomes HTML that Telegram, and our own check, refuse."""
    safe = {}
    for entity, part in entities.items():
        data = entity.to_dict()
        for key in ("url", "language"):
            if isinstance(data.get(key), str):
                data[key] = html.escape(data[key], quote=True)
        safe[MessageEntity.de_json(data, None)] = part
    return Message._parse_html(text, safe, urled=False) or ""  # PTB 22 renderer, safe entities


def body_of(message: Message) -> tuple[str, str | None] | None:
    """The post's HTML and photo: the lines after the command, else the replied-to message."""
    _, _, rest = html_of(message.text, message.parse_entities()).partition("\n")
    if rest.strip():
        return rest.strip(), None
    source = message.reply_to_message
    if source is None:
        return None
    if source.photo:
        caption = html_of(source.caption, source.parse_caption_entities())
        return caption.strip(), source.photo[-1].file_id
    if source.text:
        return html_of(source.text, source.parse_entities()).strip(), None
    return None


def content_of(
    body: tuple[str, str | None], options: frozenset[str] | set[str] = frozenset()
) -> PostContent:
    """Raises ValidationError with the reason Telegram would give."""
    text, buttons = split_buttons(body[0])
    return PostContent(
        text=text,
        photo=body[1],
        buttons=buttons,
        pin="pin" in options,
        silent="silent" in options,
        replace_previous="replace" in options,
    )


def reason_of(error: ValidationError) -> str:
    first = error.errors()[0]
    return str(first["msg"]).removeprefix("Value error, ")


def as_seen_by(content: PostContent, user: User | None) -> PostContent:
    """The preview shows {name} as the member will see it: here, the admin's own name."""
    if NAME_TAG not in content.text or user is None:
        return content
    name = html.escape(user.full_name, quote=False)
    return content.model_copy(update={"text": content.text.replace(NAME_TAG, name)})


async def preview(
    update: Update,
    context: Context,
    content: PostContent,
    question: str,
    markup: InlineKeyboardMarkup,
    asks_about: tuple[ButtonKind, int],
) -> bool:
    """Show the post exactly as members will see it, privately to the admin when they have
    started the bot, otherwise in the group; then ask. False if Telegram refused the post.

    The question's buttons are honoured on the question message only (`asks_about` names
    the object they act on)."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    assert chat is not None
    targets = [chat.id]
    if user is not None and (message is None or message.sender_chat is None):
        targets.insert(0, user.id)
    t = await calendar_texts_for(update, context)
    for target in targets:
        try:
            await context.bot.send_message(target, t.preview_note(private=target > 0))
        except Forbidden:
            continue
        except TelegramError as error:
            log.warning("preview in %s not sent: %s", target, error)
            return False
        try:
            await send_content(context.bot, target, as_seen_by(content, user))
        except TelegramError as error:
            await context.bot.send_message(target, t.content_refused(str(error)))
            return False
        asked = await context.bot.send_message(target, question, reply_markup=markup)
        kind, object_id = asks_about
        await remember_buttons(
            deps(context).uow(),
            kind=kind,
            object_id=object_id,
            chat_id=target,
            message_id=asked.message_id,
            at=sent_at(update),
        )
        return True
    return False


def _split_options(tokens: list[str]) -> tuple[list[str], set[str]]:
    options: set[str] = set()
    while tokens and tokens[-1].lower() in OPTIONS:
        options.add(OPTIONS[tokens.pop().lower()])
    return tokens, options


@use_case
async def schedule_command(update: Update, context: Context) -> None:
    """`/schedule <when> [pin] [silent] [replace]` + text, or as a reply: a draft, previewed."""
    t = await calendar_texts_for(update, context)
    chat, message = await admin_group(update, context, t), update.effective_message
    if chat is None or message is None:
        return
    first = (message.text or "").split("\n", 1)[0].split()[1:]
    if not first:
        await reply(update, t.schedule_usage())
        return
    tokens, options = _split_options(first)
    at, d = sent_at(update), deps(context)
    try:
        when = parse_when(" ".join(tokens), (await d.settings_of(chat.id)).timezone, at)
    except ScheduleError as error:
        await reply(update, t.when_refused(error))
        return
    body = body_of(message)
    if body is None:
        await reply(update, t.no_text())
        return
    try:
        content = content_of(body, options)
    except ValidationError as error:
        await reply(update, t.content_refused(reason_of(error)))
        return
    user = update.effective_user
    try:
        post = await add_post(
            d.uow(),
            chat_id=chat.id,
            content=content,
            when=when,
            at=at,
            created_by=user.id if user else None,
            draft=True,
            update=(context.bot.id, update.update_id),
        )
    except ScheduleError as error:
        await reply(update, t.when_refused(error))
        return
    except ForeignButton as error:
        await reply(update, t.foreign_button(error))
        return
    markup = InlineKeyboardMarkup(
        [
            [
                callback_button(t.save_button(), ScheduleButton(ScheduleVerb.SAVE, post.id)),
                callback_button(t.cancel_button(), ScheduleButton(ScheduleVerb.DISCARD, post.id)),
            ]
        ]
    )
    runs = post.when.upcoming(at, RUNS_SHOWN)
    await preview(
        update, context, content, t.draft(post, runs), markup, (ButtonKind.SCHEDULE, post.id)
    )


async def on_schedule_button(update: Update, context: Context) -> None:
    """✅ makes the draft active; ✖ deletes it. Only the group's admins may tap."""
    query, user = update.callback_query, update.effective_user
    button = tapped(update, ScheduleButton)
    if query is None or user is None or button is None:
        return
    post_id = button.post_id
    # The tap's time (a callback's message carries the time the question was sent).
    # Answered in the reader's language: the group's in the group, the tapper's in private.
    d, at, t = deps(context), dt.datetime.now(dt.UTC), await calendar_texts_for(update, context)
    try:
        await checked_tap(d.uow(), kind=ButtonKind.SCHEDULE, object_id=post_id, tap=tap_of(update))
    except AccessDenied as denied:  # nothing is said about the post
        await query.answer(t.access_denied(denied), True)
        return
    owner = await post_group(d.uow(), post_id=post_id)
    try:
        if owner is None:
            raise AccessDenied(Denied.NOT_ADMIN)
        await authorize_admin(d.gate(context.bot), group_id=owner, user_id=user.id)
    except AccessDenied as denied:
        await query.answer(t.access_denied(denied), show_alert=True)
        return
    try:
        if button.verb is ScheduleVerb.SAVE:
            post = await confirm_post(d.uow(), chat_id=owner, post_id=post_id, at=at)
            text = t.scheduled(post)
        else:
            await change_post(
                d.uow(), chat_id=owner, post_id=post_id, action=PostAction.DELETE, at=at
            )
            text = t.draft_cancelled(post_id)
    except PostRefused as refused:
        await query.answer(t.post_refused(refused)[:200], show_alert=True)
        return
    except ScheduleError as error:
        await query.answer(t.when_refused(error)[:200], show_alert=True)
        return
    except ForeignButton as error:
        await query.answer(t.foreign_button(error)[:200], show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(text)


async def report_skipped(
    bot: Bot, d: Deps, skipped: Sequence[tuple[PostRecord, dt.datetime]]
) -> None:
    """Tell the admin who scheduled a post (else the bot's owners) that a run was skipped."""
    for post, at in skipped:
        t = CalendarTexts((await d.settings_of(post.chat_id)).language)
        admins = {post.created_by} if post.created_by is not None else set(d.owner_ids)
        for admin in admins:
            await send_private(bot, d, admin, t.skipped_notice(post, at))


async def posts_command(update: Update, context: Context) -> None:
    t = await calendar_texts_for(update, context)
    if chat := await admin_group(update, context, t):
        await reply(update, t.posts(await group_posts(deps(context).uow(), chat_id=chat.id)))


async def post_command(update: Update, context: Context) -> None:
    """`/post pause|resume|delete <id>`."""
    t = await calendar_texts_for(update, context)
    chat = await admin_group(update, context, t)
    if chat is None:
        return
    args = context.args or []
    actions = {a.value: a for a in PostAction}
    post_id = parse_id(args[1]) if len(args) == 2 else None
    if post_id is None or args[0].lower() not in actions:
        await reply(update, t.post_usage())
        return
    try:
        post = await change_post(
            deps(context).uow(),
            chat_id=chat.id,
            post_id=post_id,
            action=actions[args[0].lower()],
            at=sent_at(update),
        )
    except PostRefused as refused:
        await reply(update, t.post_refused(refused))
        return
    await reply(update, t.post_changed(post))


@use_case
async def sequence_command(update: Update, context: Context) -> None:
    """`/sequence`, `/sequence add <day> [group]` + text or reply, `/sequence delete <id>`."""
    t = await calendar_texts_for(update, context)
    chat, message = await admin_group(update, context, t), update.effective_message
    if chat is None or message is None:
        return
    d = deps(context)
    args = (message.text or "").split("\n", 1)[0].split()[1:]
    if not args:
        await reply(update, t.steps(await group_steps(d.uow(), chat_id=chat.id)))
        return
    verb = args[0].lower()
    step_id = parse_id(args[1]) if verb == "delete" and len(args) == 2 else None
    if step_id is not None:
        try:
            await delete_step(d.uow(), chat_id=chat.id, step_id=step_id)
        except PostRefused:
            await reply(update, t.step_unknown(step_id))
            return
        await reply(update, t.step_deleted(step_id))
        return
    where = [a.lower() for a in args[2:]]
    day = args[1] if len(args) >= 2 else ""
    if verb != "add" or not (day.isascii() and day.isdigit()) or where not in ([], ["group"]):
        await reply(update, t.sequence_usage())
        return
    body = body_of(message)
    if body is None:
        await reply(update, t.step_no_text(int(args[1]), bool(where)))
        return
    try:
        step = await add_step(
            d.uow(),
            chat_id=chat.id,
            day=int(args[1]),
            content=content_of(body),
            private=not where,
            at=sent_at(update),
            update=(context.bot.id, update.update_id),
        )
    except ValidationError as error:
        await reply(update, t.content_refused(reason_of(error)))
        return
    except ForeignButton as error:
        await reply(update, t.foreign_button(error))
        return
    except ValueError:  # the day is past MAX_DAY
        await reply(update, t.step_day_refused(args[1], MAX_DAY))
        return
    except UnknownChat:
        await reply(update, t.sequence_usage())
        return
    await reply(update, t.step_added(step))
