"""/schedule, /posts, /post and /sequence: the content calendar in chat."""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, Message, MessageEntity, User
from telegram.error import Forbidden, RetryAfter, TelegramError

from campaigns.access import ButtonKind, parse_id
from campaigns.content import PostContent, addressed, read_post
from campaigns.errors import UnknownChat
from campaigns.ports.calendar import PostRecord
from campaigns.schedule import parse_when
from campaigns.services.access import remember_buttons
from campaigns.services.calendar import (
    PostAction,
    PostRefused,
    StepDayRefused,
    add_post,
    add_step,
    change_post,
    decide_draft,
    delete_step,
    group_posts,
    group_steps,
)
from handlers.calendar_texts import CalendarTexts
from handlers.callbacks import ScheduleButton, ScheduleVerb, callback_button, tapped
from handlers.deps import Deps
from handlers.extract import replied_to
from handlers.notify import send_private
from handlers.posting import send_content
from handlers.use_case import Call, use_case

log = logging.getLogger(__name__)
OPTIONS = {"pin": "pin", "置顶": "pin", "silent": "silent", "静音": "silent",
           "replace": "replace", "替换": "replace"}  # fmt: skip
RUNS_SHOWN = 3
T = TypeVar("T", bound=CalendarTexts)


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
    source = replied_to(message)
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
    """Raises ContentRefused with the reason Telegram would give, as a code."""
    return read_post(
        body[0],
        body[1],
        pin="pin" in options,
        silent="silent" in options,
        replace_previous="replace" in options,
    )


def as_seen_by(content: PostContent, user: User | None) -> PostContent:
    """The preview shows {name} as the member will see it: here, the admin's own name."""
    return content if user is None else addressed(content, user.full_name)


@dataclass(frozen=True)
class Asking:
    """The question under a preview: its buttons, and the object they act on (honoured on
    the question message only)."""

    markup: InlineKeyboardMarkup
    kind: ButtonKind
    object_id: int


async def preview(
    call: Call[T],
    content: PostContent,
    question: str,
    ask: Asking,
    *,
    variants: Sequence[tuple[str, PostContent]] = (),
) -> bool:
    """Show the post exactly as members will see it (each of `variants` under its label,
    instead, for an A/B test), privately to the admin when they have started the bot,
    otherwise in the group; then ask. False if Telegram refused the post."""
    user, message = call.update.effective_user, call.update.effective_message
    targets = [call.group_id]
    if user is not None and (message is None or message.sender_chat is None):
        targets.insert(0, user.id)
    shown = list(variants) or [("", content)]
    for target in targets:
        done = await _preview_in(call, target, shown, question, ask)
        if done is not None:
            return done
    return False


async def _preview_in(
    call: Call[T],
    target: int,
    shown: list[tuple[str, PostContent]],
    question: str,
    ask: Asking,
) -> bool | None:
    """The preview in one chat: None if the bot may not write there (try the next)."""
    bot, t = call.context.bot, call.t
    try:
        await bot.send_message(target, t.preview_note(private=target > 0))
    except Forbidden:
        return None
    except TelegramError as error:
        log.warning("preview in %s not sent: %s", target, error)
        return False
    try:
        for label, content in shown:
            if label:
                await bot.send_message(target, label)
            await send_content(bot, target, as_seen_by(content, call.update.effective_user))
    except RetryAfter:
        raise  # Telegram is busy (the rate limiter waited as long as it could), not refusing
    except TelegramError as error:
        log.info("preview in %s refused: %s", target, error)
        await bot.send_message(target, t.preview_refused())
        return False
    asked = await bot.send_message(target, question, reply_markup=ask.markup)
    await remember_buttons(
        call.deps.uow(), kind=ask.kind, object_id=ask.object_id, chat_id=target,
        message_id=asked.message_id, at=call.at,
    )  # fmt: skip
    return True


def _split_options(tokens: list[str]) -> tuple[list[str], set[str]]:
    options: set[str] = set()
    while tokens and tokens[-1].lower() in OPTIONS:
        options.add(OPTIONS[tokens.pop().lower()])
    return tokens, options


@use_case(CalendarTexts, admin=True)
async def schedule_command(call: Call[CalendarTexts]) -> None:
    """`/schedule <when> [pin] [silent] [replace]` + text, or as a reply: a draft, previewed."""
    t, message, d = call.t, call.update.effective_message, call.deps
    if not call.args or message is None:
        await call.reply(t.schedule_usage())
        return
    tokens, options = _split_options(call.args)
    when = parse_when(" ".join(tokens), (await d.settings_of(call.group_id)).timezone, call.at)
    if (body := body_of(message)) is None:
        await call.reply(t.no_text())
        return
    content = content_of(body, options)
    post = await add_post(
        d.uow(), chat_id=call.group_id, content=content, when=when, at=call.at,
        created_by=call.user_id, draft=True, update=call.key,
    )  # fmt: skip
    question = t.draft(post, post.when.upcoming(call.at, RUNS_SHOWN))
    await preview(call, content, question, draft_markup(post, t))


def draft_markup(post: PostRecord, t: CalendarTexts) -> Asking:
    save = callback_button(t.save_button(), ScheduleButton(ScheduleVerb.SAVE, post.id))
    discard = callback_button(t.cancel_button(), ScheduleButton(ScheduleVerb.DISCARD, post.id))
    return Asking(InlineKeyboardMarkup([[save, discard]]), ButtonKind.SCHEDULE, post.id)


@use_case(CalendarTexts)
async def on_schedule_button(call: Call[CalendarTexts]) -> None:
    """✅ makes the draft active; ✖ deletes it. Only the group's admins may tap.

    Answered in the reader's language: the group's in the group, the tapper's in private."""
    button, d = tapped(call.update, ScheduleButton), call.deps
    if button is None or call.user_id is None:
        return
    post = await decide_draft(
        d.uow, d.gate(call.context.bot), post_id=button.post_id,
        save=button.verb is ScheduleVerb.SAVE, tap=call.tap, user_id=call.user_id, at=call.at,
    )  # fmt: skip
    await call.alert()
    text = call.t.scheduled(post) if post else call.t.draft_cancelled(button.post_id)
    await call.edit(text)


async def report_skipped(
    bot: Bot, d: Deps, skipped: Sequence[tuple[PostRecord, dt.datetime]]
) -> None:
    """Tell the admin who scheduled a post (else the bot's owners) that a run was skipped."""
    for post, at in skipped:
        t = CalendarTexts((await d.settings_of(post.chat_id)).language)
        admins = {post.created_by} if post.created_by is not None else set(d.owner_ids)
        for admin in admins:
            await send_private(bot, d, admin, t.skipped_notice(post, at))


@use_case(CalendarTexts, admin=True)
async def posts_command(call: Call[CalendarTexts]) -> None:
    await call.reply(call.t.posts(await group_posts(call.deps.uow(), chat_id=call.group_id)))


@use_case(CalendarTexts, admin=True)
async def post_command(call: Call[CalendarTexts]) -> None:
    """`/post pause|resume|delete <id>`."""
    args, actions = call.words, {a.value: a for a in PostAction}
    post_id = parse_id(args[1]) if len(args) == 2 else None
    if post_id is None or args[0].lower() not in actions:
        await call.reply(call.t.post_usage())
        return
    post = await change_post(
        call.deps.uow(), chat_id=call.group_id, post_id=post_id,
        action=actions[args[0].lower()], at=call.at,
    )  # fmt: skip
    await call.reply(call.t.post_changed(post))


@use_case(CalendarTexts, admin=True)
async def sequence_command(call: Call[CalendarTexts]) -> None:
    """`/sequence`, `/sequence add <day> [group]` + text or reply, `/sequence delete <id>`."""
    t, args, uow = call.t, call.args, call.deps.uow
    verb = args[0].lower() if args else ""
    step_id = parse_id(args[1]) if verb == "delete" and len(args) == 2 else None
    if not args:
        await call.reply(t.steps(await group_steps(uow(), chat_id=call.group_id)))
    elif step_id is not None:
        await _delete_step(call, step_id)
    elif (
        verb != "add"
        or len(args) < 2
        or not (args[1].isascii() and args[1].isdigit())
        or [a.lower() for a in args[2:]] not in ([], ["group"])
    ):
        await call.reply(t.sequence_usage())
    else:
        await _add_step(call, args[1], private=len(args) == 2)


async def _delete_step(call: Call[CalendarTexts], step_id: int) -> None:
    try:
        await delete_step(call.deps.uow(), chat_id=call.group_id, step_id=step_id)
    except PostRefused:
        await call.reply(call.t.step_unknown(step_id))
        return
    await call.reply(call.t.step_deleted(step_id))


async def _add_step(call: Call[CalendarTexts], typed: str, private: bool) -> None:
    message, day = call.update.effective_message, int(typed)
    if message is None or (body := body_of(message)) is None:
        await call.reply(call.t.step_no_text(day, not private))
        return
    content = content_of(body)
    try:
        step = await add_step(
            call.deps.uow(), chat_id=call.group_id, day=day, content=content,
            private=private, at=call.at, update=call.key,
        )  # fmt: skip
    except UnknownChat:
        await call.reply(call.t.sequence_usage())
        return
    except StepDayRefused as error:
        await call.reply(call.t.step_day_refused(typed, error.most))
        return
    await call.reply(call.t.step_added(step))
