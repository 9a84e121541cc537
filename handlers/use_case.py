"""`@use_case`: the ceremony every callback shared, said once.

A callback is written as `async def cb(call: Call[SomeTexts]) -> None` and only parses, calls
one use case and renders. The decorator does the rest:

- picks the reply language once (the group's in a group, the reader's own in private) and
  hands the callback texts in that language (`call.t`);
- for member commands that need a group (`group=True`), refuses elsewhere (`call.chat`);
- for admin commands (`@use_case(Texts, admin=True)`), resolves the group acted on: the group
  the command was sent in, or in private the group picked with /manage, and checks the
  sender is its admin (`call.chat`);
- a redelivered update (DuplicateUpdate) does nothing: its first delivery already answered;
- a domain error the texts can render (an unknown group, a refused tap, a foreign button, a
  feature's refusal) becomes the reply: an alert for a button tap, else a message. Anything
  the texts do not know is re-raised to the error handler, never swallowed.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from telegram import Chat, Update, User

from campaigns.access import AccessDenied, Denied, Tap
from campaigns.content import cut_units, visible_length
from campaigns.errors import DuplicateUpdate
from campaigns.members import Person
from campaigns.services.chats import managed_group
from handlers.deps import Context, Deps, Handled, deps
from handlers.extract import is_group, person, reader_language, sent_at, tap_of

ALERT_LIMIT = 200  # Telegram's limit for a callback answer
TAG = re.compile(r"<[^>]*>")

Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]


def fit_alert(text: str, limit: int = ALERT_LIMIT) -> str:
    """`text` cut to Telegram's alert limit, which counts UTF-16 code units (an emoji outside
    the BMP is two): cut by Python characters, 64 × 🎁 was refused."""
    if visible_length(text, None) <= limit:
        return text
    return cut_units(text, limit - 1) + "…"


class Texts(Protocol):
    """What the decorator needs of a texts class: built from a language, renders refusals."""

    language: str

    def refusal(self, error: Exception) -> str | None: ...


TX = TypeVar("TX", bound=Texts)


@dataclass
class Call(Generic[TX]):
    """One update being handled: what a callback reads, and its ways to answer."""

    update: Update
    context: Context
    t: TX
    texts: Callable[[str], TX]
    chat: Chat | None = None  # admin commands: the group acted on
    _now: dt.datetime | None = field(default=None, repr=False)

    @property
    def deps(self) -> Deps:
        return deps(self.context)

    @property
    def user(self) -> User | None:
        return self.update.effective_user

    @property
    def user_id(self) -> int | None:
        user = self.update.effective_user
        return user.id if user is not None else None

    @property
    def person(self) -> Person | None:
        user = self.update.effective_user
        return person(user) if user is not None else None

    @property
    def group_id(self) -> int:
        """The group acted on (admin commands) or the chat the update came from."""
        chat = self.chat or self.update.effective_chat
        assert chat is not None
        return chat.id

    @property
    def at(self) -> dt.datetime:
        """When the update was sent (a tap: now, by the app's clock), fixed for the whole call."""
        if self._now is None:
            self._now = sent_at(self.update, self.deps.clock)
        return self._now

    @property
    def key(self) -> tuple[int, int]:
        """The update's identity, so a redelivery is recognised (DuplicateUpdate)."""
        return (self.context.bot.id, self.update.update_id)

    @property
    def args(self) -> list[str]:
        """The words after the command on its first line (for commands whose later lines are
        a post's body: /schedule, /broadcast, /sequence)."""
        message = self.update.effective_message
        return (message.text or "").split("\n", 1)[0].split()[1:] if message else []

    @property
    def words(self) -> list[str]:
        """Every word after the command, on any line (a value may go on the next line)."""
        return list(self.context.args or [])

    @property
    def tap(self) -> Tap:
        return tap_of(self.update)

    async def reply(self, text: str, **kwargs: Any) -> None:
        """Answer in the chat the update came from, quoting the message."""
        message = self.update.effective_message
        if message is not None:
            await message.reply_text(text, **kwargs)

    async def alert(self, text: str = "") -> None:
        """Answer a button tap: an alert with `text`, or silently when empty. An alert is
        plain text: the HTML the texts speak is taken out (tags dropped, entities read)."""
        query = self.update.callback_query
        if query is not None and text:
            plain = html.unescape(TAG.sub("", text))
            await query.answer(fit_alert(plain), show_alert=True)
        elif query is not None:
            await query.answer()

    async def edit(self, text: str) -> None:
        """Replace the text (and buttons) of the message a button was tapped on."""
        query = self.update.callback_query
        if query is not None:
            await query.edit_message_text(text)

    async def answer(self, text: str) -> None:
        """An alert for a tap, else a reply."""
        if self.update.callback_query is not None:
            await self.alert(text)
        else:
            await self.reply(text)

    async def speak_for(self, group_id: int | None) -> None:
        """From here on, answer in the language of the group a tapped object belongs to."""
        d = self.deps
        language = (await d.settings_of(group_id)).language if group_id else d.defaults.language
        self.t = self.texts(language)


async def is_admin(update: Update, context: Context) -> bool:
    """Owners, the group's admins, and an anonymous admin (sender_chat is the group itself)."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or user is None:
        return False
    d = deps(context)
    if user.id in d.owner_ids:
        return True
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    return user.id in await d.admins.admin_ids(context.bot, chat.id)


async def admin_group(update: Update, context: Context) -> Chat:
    """The group an admin command acts on: the group it was sent in, or in a private chat the
    group the admin picked with /manage (still checked: they must be its admin now).
    Raises NoLongerAdmin or AccessDenied."""
    chat, user = update.effective_chat, update.effective_user
    if chat is not None and chat.type == Chat.PRIVATE and user is not None:
        d = deps(context)
        record = await managed_group(d.uow(), gate=d.gate(context.bot), user_id=user.id)
        if record is None:
            raise AccessDenied(Denied.PICK_A_GROUP)
        return Chat(id=record.chat_id, type=Chat.SUPERGROUP, title=record.title)
    if not is_group(chat) or chat is None:
        raise AccessDenied(Denied.GROUP_ONLY)
    if not await is_admin(update, context):
        raise AccessDenied(Denied.ADMIN_COMMAND)
    return chat


def in_group(update: Update) -> Chat:
    """The group a member command was sent in; elsewhere it is refused (GROUP_ONLY)."""
    chat = update.effective_chat
    if not is_group(chat) or chat is None or update.effective_user is None:
        raise AccessDenied(Denied.GROUP_ONLY)
    return chat


def use_case(
    texts: Callable[[str], TX], *, admin: bool = False, group: bool = False
) -> Callable[[Callable[[Call[TX]], Coroutine[Any, Any, None]]], Callback]:
    """Turn `async def cb(call)` into a PTB callback with the shared handling above."""

    def decorate(callback: Callable[[Call[TX]], Coroutine[Any, Any, None]]) -> Callback:
        @functools.wraps(callback)
        async def wrapped(update: Update, context: Context) -> None:
            call = Call(update, context, texts(await reader_language(update, context)), texts)
            try:
                if admin:
                    call.chat = await admin_group(update, context)
                elif group:
                    call.chat = in_group(update)
                await callback(call)
            except DuplicateUpdate:
                call.deps.outcomes.mark(Handled.DUPLICATE)
            except Exception as error:
                text = call.t.refusal(error)
                if text is None:
                    raise
                call.deps.outcomes.mark(Handled.REFUSED)
                await call.answer(text)

        return wrapped

    return decorate
