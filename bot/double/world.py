"""The simulated Telegram: chats, members, an update queue, and the Bot API methods the bot uses."""

from __future__ import annotations

import datetime as dt
import html
import itertools
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.double.spec import ApiSpec, Problem
from bot.double.webhook import DeliveryLog, WebhookDelivery

JSON = dict[str, Any]
BOT_ID = 5_000_000_001
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# What Telegram marks as a bot_command: a slash, Latin letters, digits or _ (up to 32), and
# maybe @a_bot ("/ hi" or "/签到" is plain text).
BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?")
BAD_WEBHOOK = "Bad Request: bad webhook: "
SENDING = {
    "sendMessage",
    "sendPhoto",
    "sendPoll",
    "sendMediaGroup",
    "copyMessage",
    "forwardMessage",
}
POLL_OPTIONS = range(1, 13)  # sendPoll's "1-12 answer options"
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
             "a", "code", "pre", "tg-emoji", "blockquote"}  # fmt: skip
ALBUM = (2, 10)  # items in a sendMediaGroup
ALBUM_ALONE = {"document", "audio"}  # album kinds that cannot mix with others
# Edits count against a chat's limit (a group's 20 a minute), not against the 30 a second.
EDITING = {"editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia"}
# Telegram's refusals when the bot lacks a right, and its until_date bounds (seconds ahead).
NO_RESTRICT_RIGHTS = "Bad Request: not enough rights to restrict/unrestrict chat member"
NO_JOIN_REQUEST_RIGHTS = "Bad Request: CHAT_ADMIN_REQUIRED"
UNTIL_MIN, UNTIL_MAX = 30, 366 * 24 * 3600
OWN_DELETE_WINDOW = 48 * 3600  # a bot deletes its own messages within 48 hours
ANONYMOUS_ADMIN: JSON = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


class ApiError(Exception):
    """What Telegram answers with ok=false."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        out: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            out["parameters"] = {"retry_after": self.retry_after}
        return out


@dataclass
class ApiCall:
    """One request the bot made, decoded, with any spec problems found in it."""

    method: str
    params: JSON
    problems: list[Problem]
    at: float = field(default_factory=time.monotonic)  # on the world's monotonic clock
    status: int = 0  # the HTTP status the double answered with

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))


class FakeTelegram:
    """In-memory Telegram for one bot. Thread-safe: the HTTP server and tests share it."""

    def __init__(
        self,
        *,
        spec: ApiSpec | None = None,
        bot_username: str = "growth_demo_bot",
        strict: bool = True,
        flood_limits: bool = False,
        clock: Callable[[], dt.datetime] | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.spec = spec or ApiSpec.load()
        # Dates on updates and sent messages: the tests' clock, so they agree with the bot's.
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.strict = strict
        # Telegram's limits, enforced when asked: 30 messages in any second overall, one a
        # second per private chat, 20 a minute per group (edits count in their chat); beyond
        # them a 429 with retry_after.
        self.flood_limits = flood_limits
        # The time the limits are measured on: the tests' virtual clock, or the real one.
        self.monotonic = monotonic or time.monotonic
        self.refused_429 = 0
        self._sent_at: deque[float] = deque()
        self._chat_sent_at: dict[int, deque[float]] = {}
        self.bot: JSON = {
            "id": BOT_ID, "is_bot": True, "first_name": "Growth Bot", "username": bot_username,
            "can_join_groups": True, "can_read_all_group_messages": True,
            "supports_inline_queries": False,
        }  # fmt: skip
        self.calls: list[ApiCall] = []
        self.chats: dict[int, JSON] = {}
        self.users: dict[int, JSON] = {}
        self.statuses: dict[tuple[int, int], str] = {}
        self.updates: list[JSON] = []
        self.allowed_updates: list[str] | None = None
        self.commands: dict[str, list[JSON]] = {}
        self.failures: list[tuple[str, ApiError]] = []
        # Requests the network loses before they reach Telegram (the in-process transport
        # raises these httpx errors for the next calls of the method): cut_off_next.
        self.cut_off: list[tuple[str, type[Exception]]] = []
        self._passing: dict[int, int] = {}  # id of a failure -> calls of it to let through first
        self.files: dict[str, str] = {}  # photos uploaded, by the file_id Telegram gave
        self.links: dict[str, JSON] = {}  # invite links by URL, with their chat
        self.join_requests: dict[tuple[int, int], str] = {}  # (chat, user) -> "approved" ...
        self.messages: dict[tuple[int, int], JSON] = {}  # what the bot sent, as it is now
        # What members sent (deletable by an admin bot), and every message deleted, in order.
        self.posted: dict[tuple[int, int], JSON] = {}
        self.deleted: list[tuple[int, int]] = []
        # Restricted members: their permissions, until_date (0: forever) and is_member;
        # banned ones: until_date (0: forever).
        self.restrictions: dict[tuple[int, int], JSON] = {}
        self.bans: dict[tuple[int, int], int] = {}
        self.polls: dict[str, JSON] = {}  # the bot's polls by id (the dict in their message)
        self._votes: dict[tuple[str, int], list[int]] = {}  # (poll, voter) -> options chosen
        self._poll_ids = itertools.count(6_000_000_001)
        # An admin's rights that differ from the defaults, e.g. {"can_invite_users": False}.
        self.rights: dict[tuple[int, int], JSON] = {}
        # The newest message that ever showed a button: a second, quick tap comes from it
        # even after an edit took the button away.
        self._shown: dict[tuple[int, str], int] = {}
        self._link_ids = itertools.count(1)
        self._update_ids = itertools.count(100_000)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._lock = threading.Condition()
        # Webhook mode (setWebhook): updates are POSTed to the bot instead of waiting for
        # getUpdates; `reverse_proxy` is where the webhook's HTTPS URL is served from.
        self.webhook: WebhookDelivery | None = None
        self.reverse_proxy: str | None = None
        self.webhook_log = DeliveryLog()  # what every webhook delivered, and the answers

    def _stamp(self, at: dt.datetime | None) -> int:
        return int((at or self.clock()).timestamp())

    # ---- the world ---------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        is_bot: bool = False,
    ) -> JSON:
        """Create a Telegram account."""
        user: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        self.users[user_id] = user
        return user

    def add_group(
        self, chat_id: int, title: str, *, type: str = "supergroup", owner: int | None = None
    ) -> JSON:
        """Create a group; `owner` becomes its creator."""
        chat: JSON = {"id": chat_id, "type": type, "title": title}
        self.chats[chat_id] = chat
        if owner is not None:
            self.statuses[(chat_id, owner)] = "creator"
        return chat

    def set_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Change membership silently (no update is produced)."""
        self.statuses[(chat_id, user_id)] = status

    def set_rights(self, chat_id: int, user_id: int, **rights: bool) -> None:
        """An admin's rights that differ from the defaults (`can_delete_messages=False`):
        how a test makes the bot lack a right."""
        self.rights.setdefault((chat_id, user_id), {}).update(rights)

    def fail_next(
        self,
        method: str,
        code: int,
        description: str,
        retry_after: int | None = None,
        *,
        after: int = 0,
    ) -> None:
        """Make the next call of `method` fail the way Telegram would (or the one after
        `after` more calls of it succeeded: the third message of a preview)."""
        error = ApiError(code, description, retry_after)
        self.failures.append((method.lower(), error))
        if after:
            self._passing[id(error)] = after

    def cut_off_next(self, method: str, failure: type[Exception], times: int = 1) -> None:
        """The next `times` calls of `method` never reach Telegram: the in-process transport
        raises `failure` (httpx.ConnectError, ConnectTimeout …) instead of answering."""
        self.cut_off += [(method.lower(), failure)] * times

    def cut_off_now(self, method: str) -> type[Exception] | None:
        """The failure the next call of `method` meets on its way, if one was set (taken)."""
        for i, (lost, failure) in enumerate(self.cut_off):
            if lost == method.lower():
                del self.cut_off[i]
                return failure
        return None

    # ---- updates -----------------------------------------------------------------------------

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _update(self, kind: str, payload: JSON, *, queue: bool) -> JSON:
        update = {"update_id": next(self._update_ids), kind: payload}
        if queue:
            self.push(update)
        return update

    def push(self, update: JSON) -> None:
        """Queue an update for getUpdates, or for the webhook when one is set (a redelivery is
        pushing the same dict again)."""
        with self._lock:
            if self.webhook is not None:
                if self._allowed(update):
                    self.webhook.add(update)
                return
            self.updates.append(update)
            self._lock.notify_all()

    def _allowed(self, update: JSON) -> bool:
        return not self.allowed_updates or any(k in update for k in self.allowed_updates)

    def close(self) -> None:
        """Stop webhook deliveries (their threads); what was undelivered stays queued."""
        with self._lock:
            delivery, self.webhook = self.webhook, None
        if delivery is not None:
            rest = delivery.stop()
            with self._lock:
                self.updates[:0] = rest

    def message(
        self,
        chat_id: int,
        user_id: int,
        text: str | None = None,
        *,
        at: dt.datetime | None = None,
        queue: bool = False,
        **extra: Any,
    ) -> JSON:
        """A member's message; commands get their bot_command entity as Telegram adds it."""
        msg: JSON = {
            "message_id": self._next_message_id(chat_id),
            "date": self._stamp(at),
            "chat": self.chats[chat_id],
            "from": self.users[user_id],
        }
        if text is not None:
            msg["text"] = text
            command = BOT_COMMAND.match(text)
            if command is not None:
                length = len(command[0].encode("utf-16-le")) // 2
                msg["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        msg.update(extra)
        self.posted[(chat_id, msg["message_id"])] = msg
        return self._update("message", msg, queue=queue)

    def edited(self, original: JSON, text: str, *, queue: bool = False) -> JSON:
        """An edit of an earlier message update."""
        msg = dict(original["message"], text=text, edit_date=original["message"]["date"] + 60)
        return self._update("edited_message", msg, queue=queue)

    def anonymous_admin_message(
        self, chat_id: int, text: str, *, at: dt.datetime | None = None, queue: bool = False
    ) -> JSON:
        """A message an anonymous admin sends: from GroupAnonymousBot, sender_chat the group."""
        self.users.setdefault(ANONYMOUS_ADMIN["id"], ANONYMOUS_ADMIN)
        return self.message(
            chat_id,
            ANONYMOUS_ADMIN["id"],
            text,
            at=at,
            queue=queue,
            sender_chat=self.chats[chat_id],
        )

    def _status(self, chat_id: int, user_id: int) -> str:
        """The member's status now: a restriction or ban whose until_date has passed is
        over (Telegram lifts it by itself)."""
        key = (chat_id, user_id)
        status = self.statuses.get(key, "left")
        now = self._stamp(None)
        if status == "restricted":
            until = int(self.restrictions.get(key, {}).get("until_date", 0))
            if until and until <= now:
                member = self.restrictions.pop(key, {}).get("is_member", True)
                status = self.statuses[key] = "member" if member else "left"
        elif status == "kicked":
            until = self.bans.get(key, 0)
            if until and until <= now:
                self.bans.pop(key, None)
                status = self.statuses[key] = "left"
        return status

    def _member(self, chat_id: int, user_id: int, status: str) -> JSON:
        user = self.bot if user_id == BOT_ID else self.users[user_id]
        member: JSON = {"status": status, "user": user}
        if status == "administrator":
            member.update(
                can_be_edited=False, is_anonymous=False, can_manage_chat=True,
                can_delete_messages=True, can_manage_video_chats=True, can_restrict_members=True,
                can_promote_members=False, can_change_info=True, can_invite_users=True,
                can_post_stories=False, can_edit_stories=False, can_delete_stories=False,
                can_pin_messages=True,
            )  # fmt: skip
            member.update(self.rights.get((chat_id, user_id), {}))
        elif status == "creator":
            member.update(is_anonymous=False)
        elif status == "kicked":
            member.update(until_date=self.bans.get((chat_id, user_id), 0))
        elif status == "restricted":
            restriction = self.restrictions.get((chat_id, user_id), {})
            member.update(is_member=bool(restriction.get("is_member", True)))
            member.update({name: False for name in self._permission_names()})
            member.update(restriction.get("permissions", {}))
            member.update(until_date=int(restriction.get("until_date", 0)))
        return member

    def _permission_names(self) -> list[str]:
        """ChatPermissions' fields, as the spec has them."""
        return [str(f["name"]) for f in self.spec.types["ChatPermissions"]["fields"]]

    def member_update(
        self,
        chat_id: int,
        user_id: int,
        new_status: str,
        *,
        actor: int | None = None,
        at: dt.datetime | None = None,
        invite_link: JSON | None = None,
        queue: bool = False,
    ) -> JSON:
        """chat_member (or my_chat_member for the bot itself) with old and new state."""
        old_status = self.statuses.get((chat_id, user_id), "left")
        self.statuses[(chat_id, user_id)] = new_status
        actor_user = (
            self.users[actor] if actor else (self.bot if user_id == BOT_ID else self.users[user_id])
        )
        payload: JSON = {
            "chat": self.chats[chat_id],
            "from": actor_user,
            "date": self._stamp(at),
            "old_chat_member": self._member(chat_id, user_id, old_status),
            "new_chat_member": self._member(chat_id, user_id, new_status),
        }
        if invite_link is not None:
            payload["invite_link"] = invite_link
        kind = "my_chat_member" if user_id == BOT_ID else "chat_member"
        return self._update(kind, payload, queue=queue)

    def add_bot(
        self,
        chat_id: int,
        *,
        by: int,
        admin: bool = True,
        at: dt.datetime | None = None,
        queue: bool = False,
    ) -> JSON:
        """The bot is added to the group (as admin, so it receives chat_member updates)."""
        return self.member_update(
            chat_id, BOT_ID, "administrator" if admin else "member", actor=by, at=at, queue=queue
        )

    def join_message(
        self,
        chat_id: int,
        user_ids: list[int],
        *,
        at: dt.datetime | None = None,
        queue: bool = False,
    ) -> JSON:
        """The new_chat_members service message."""
        first = user_ids[0]
        for uid in user_ids:
            self.statuses[(chat_id, uid)] = "member"
        return self.message(
            chat_id,
            first,
            None,
            at=at,
            queue=queue,
            new_chat_members=[self.users[u] for u in user_ids],
        )

    def leave_message(
        self, chat_id: int, user_id: int, *, at: dt.datetime | None = None, queue: bool = False
    ) -> JSON:
        """The left_chat_member service message."""
        self.statuses[(chat_id, user_id)] = "left"
        return self.message(
            chat_id, user_id, None, at=at, queue=queue, left_chat_member=self.users[user_id]
        )

    def admin_link(self, chat_id: int, by: int, *, name: str | None = None) -> JSON:
        """A link an admin made in the Telegram app (as the bot sees it: truncated)."""
        link: JSON = {
            "invite_link": f"https://t.me/+Adm{next(self._link_ids):04d}...",
            "creator": self.users[by],
            "creates_join_request": False,
            "is_primary": False,
            "is_revoked": False,
        }
        if name:
            link["name"] = name
        return link

    def link_for_update(self, url: str) -> JSON:
        """How a link the bot created appears inside a chat_member or join request update."""
        stored = dict(self.links[url])
        stored.pop("chat_id", None)
        stored.pop("uses", None)
        return stored

    def join_via_link(
        self,
        chat_id: int,
        user_id: int,
        url: str,
        *,
        at: dt.datetime | None = None,
        queue: bool = False,
    ) -> JSON:
        """A user joins through an invite link; Telegram counts the use."""
        link = self.links.get(url)
        if link is not None:
            link["uses"] = link.get("uses", 0) + 1
        payload = self.link_for_update(url) if link is not None else {"invite_link": url}
        return self.member_update(
            chat_id, user_id, "member", at=at, invite_link=payload, queue=queue
        )

    def join_request(
        self,
        chat_id: int,
        user_id: int,
        url: str | None,
        *,
        at: dt.datetime | None = None,
        queue: bool = False,
    ) -> JSON:
        """A chat_join_request through a link that asks for approval."""
        payload: JSON = {
            "chat": self.chats[chat_id],
            "from": self.users[user_id],
            "user_chat_id": user_id,
            "date": self._stamp(at),
        }
        if url is not None:
            payload["invite_link"] = self.link_for_update(url)
        self.join_requests[(chat_id, user_id)] = "pending"
        return self._update("chat_join_request", payload, queue=queue)

    def button_message(self, chat_id: int, data: str) -> JSON | None:
        """The newest message the bot sent in `chat_id` that shows (or showed) a button
        with `data`."""
        message_id = self._shown.get((chat_id, data))
        return self.messages.get((chat_id, message_id)) if message_id is not None else None

    def _keep(self, chat_id: int, message: JSON) -> None:
        self.messages[(chat_id, message["message_id"])] = message
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        for row in rows:
            for button in row:
                if "callback_data" in button:
                    self._shown[(chat_id, button["callback_data"])] = message["message_id"]

    def callback(
        self,
        chat_id: int,
        user_id: int,
        data: str,
        *,
        queue: bool = False,
        message_id: int | None = None,
        fresh: bool = False,
    ) -> JSON:
        """A tap on an inline button in `chat_id`: on the bot's newest message that shows
        that button, on `message_id`, or (`fresh`) on a message the bot never recorded;
        any client can send any data from any message."""
        message = self.messages.get((chat_id, message_id)) if message_id else None
        if message is None and message_id is None and not fresh:
            message = self.button_message(chat_id, data)
        if message is None:
            message = {
                "message_id": message_id or self._next_message_id(chat_id),
                "date": self._stamp(None),
                "chat": self._chat(chat_id),
                "from": self.bot,
                "text": "…",
            }
        payload = {
            "id": str(next(self._update_ids)),
            "from": self.users[user_id],
            "chat_instance": str(chat_id),
            "message": message,
            "data": data,
        }
        return self._update("callback_query", payload, queue=queue)

    def poll_answer(
        self, poll_id: str, user_id: int, option_ids: list[int], *, queue: bool = False
    ) -> JSON:
        """A vote in the bot's non-anonymous poll (empty `option_ids`: the vote taken back),
        as Telegram reports it to the bot; the poll's counts change as members see them. A
        forwarded poll is the same poll: anyone who sees it may vote, member or not."""
        poll = self.polls[poll_id]
        if poll["is_closed"]:
            raise ValueError("a stopped poll takes no votes: Telegram sends no poll_answer")
        if any(not 0 <= i < len(poll["options"]) for i in option_ids):
            raise ValueError(f"poll {poll_id} has no option among {option_ids}")
        for i in self._votes.pop((poll_id, user_id), []):
            poll["options"][i]["voter_count"] -= 1
        if option_ids:
            self._votes[(poll_id, user_id)] = list(option_ids)
            for i in option_ids:
                poll["options"][i]["voter_count"] += 1
        poll["total_voter_count"] = len({u for p, u in self._votes if p == poll_id})
        payload: JSON = {
            "poll_id": poll_id,
            "user": self.users[user_id],
            "option_ids": list(option_ids),
            "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in option_ids],
        }
        return self._update("poll_answer", payload, queue=queue)

    def poll(self, chat_id: int) -> JSON | None:
        """The newest poll the bot sent in `chat_id`, as members see it now."""
        found = [m for (chat, _), m in sorted(self.messages.items()) if chat == chat_id]
        return next((m["poll"] for m in reversed(found) if "poll" in m), None)

    # ---- the API -----------------------------------------------------------------------------

    def decode(self, method: str, form: dict[str, str]) -> JSON:
        """Form fields as PTB sends them: strings raw, everything else JSON-encoded."""
        name = self.spec.method_name(method)
        fields = {f["name"]: f for f in self.spec.methods[name].get("fields", [])} if name else {}
        params: JSON = {}
        for key, raw in form.items():
            types = fields.get(key, {}).get("types", [])
            if types == ["String"]:
                params[key] = raw
                continue
            try:
                params[key] = json.loads(raw)
            except ValueError:
                params[key] = raw
        return params

    def call(self, method: str, params: JSON) -> tuple[int, JSON]:
        """Handle one request; returns the HTTP status and Telegram's JSON body."""
        problems = self.spec.validate(method, params)
        name = self.spec.method_name(method) or method
        call = ApiCall(name, params, problems, at=self.monotonic())
        with self._lock:
            self.calls.append(call)
        call.status, body = self._answer(name, params, problems)
        return call.status, body

    def _answer(self, name: str, params: JSON, problems: list[Problem]) -> tuple[int, JSON]:
        if problems and self.strict:
            if problems[0].message == "unknown method":
                return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": f"Bad Request: {problems[0]}",
            }
        for i, (failing, error) in enumerate(self.failures):
            if failing == name.lower() and self._passing.get(id(error), 0) > 0:
                self._passing[id(error)] -= 1
                break
            if failing == name.lower():
                del self.failures[i]
                return error.code, error.body()
        if self.flood_limits and (name in SENDING or name in EDITING):
            media = params.get("media") if name == "sendMediaGroup" else None
            count = len(media) if isinstance(media, list) and media else 1
            with self._lock:
                flood = self._flood(params.get("chat_id"), edit=name in EDITING, count=count)
            if flood is not None:
                return flood.code, flood.body()
        handler = getattr(self, f"api_{name}", None)
        if handler is None:
            return 200, {"ok": True, "result": True}
        try:
            return 200, {"ok": True, "result": handler(params)}
        except ApiError as error:
            return error.code, error.body()

    def _flood(self, chat: Any, *, edit: bool = False, count: int = 1) -> ApiError | None:
        """A 429 when the request's `count` messages (an album's items) would pass a limit;
        else they are counted."""
        now = self.monotonic()
        while self._sent_at and self._sent_at[0] <= now - 1:
            self._sent_at.popleft()
        if len(self._sent_at) + count > 30 and not edit:
            self.refused_429 += 1
            return ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        try:
            chat_id = int(chat)
        except (TypeError, ValueError):
            return None
        window, most = (60.0, 20) if chat_id < 0 else (1.0, 1)
        times = self._chat_sent_at.setdefault(chat_id, deque())
        while times and times[0] <= now - window:
            times.popleft()
        # A group's minute counts every item of an album; a private chat's second is about
        # bursts, and one album is one burst.
        over = len(times) + (count if chat_id < 0 else 1) - most
        if over > 0:  # the oldest `over` must leave the window first
            self.refused_429 += 1
            wait = max(1, math.ceil(times[min(over, len(times)) - 1] + window - now))
            return ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        times.extend([now] * count)
        if not edit:
            self._sent_at.extend([now] * count)
        return None

    def wait_updates(self, offset: int | None, timeout: float) -> None:
        """Long polling: block until an update at or past `offset` exists, or the timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.webhook is None and not any(
                u["update_id"] >= (offset or 0) for u in self.updates
            ):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._lock.wait(remaining)

    def api_getMe(self, params: JSON) -> JSON:
        return self.bot

    def api_getUpdates(self, params: JSON) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"])
        with self._lock:
            if offset is not None:
                # Telegram forgets updates below the offset: that is the confirmation.
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            batch = self.updates[: int(params.get("limit", 100))]
        if self.allowed_updates:
            batch = [u for u in batch if any(k in u for k in self.allowed_updates)]
        return batch

    def api_setWebhook(self, params: JSON) -> bool:
        """Telegram's rules: an HTTPS URL on port 443, 80, 88 or 8443; an empty URL removes
        the webhook. Updates waiting for getUpdates move to the webhook (unless dropped)."""
        url = str(params.get("url", ""))
        if not url:
            return self.api_deleteWebhook(params)
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise ApiError(400, f"{BAD_WEBHOOK}An HTTPS URL must be provided for webhook")
        try:
            port = parts.port
        except ValueError:
            port = -1
        if port not in (None, 443, 80, 88, 8443):
            raise ApiError(
                400, f"{BAD_WEBHOOK}Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        connections = int(params.get("max_connections", 40))
        if not 1 <= connections <= 100:
            raise ApiError(400, f"{BAD_WEBHOOK}max_connections must be between 1 and 100")
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"])
        self.close()
        delivery = WebhookDelivery(
            url,
            secret=None if secret is None else str(secret),
            max_connections=connections,
            reverse_proxy=self.reverse_proxy,
            log=self.webhook_log,
        )
        with self._lock:
            waiting = [] if params.get("drop_pending_updates") else self.updates
            self.updates, self.webhook = [], delivery
        for update in waiting:
            if self._allowed(update):
                delivery.add(update)
        return True

    def api_deleteWebhook(self, params: JSON) -> bool:
        self.close()
        if params.get("drop_pending_updates"):
            with self._lock:
                self.updates = []
        return True

    def api_getWebhookInfo(self, params: JSON) -> JSON:
        hook = self.webhook
        if hook is None:
            with self._lock:
                waiting = len(self.updates)
            return {"url": "", "has_custom_certificate": False, "pending_update_count": waiting}
        info: JSON = {
            "url": hook.url,
            "has_custom_certificate": False,
            "pending_update_count": hook.pending,
            "max_connections": hook.max_connections,
        }
        if self.allowed_updates:
            info["allowed_updates"] = self.allowed_updates
        if hook.last_error is not None:
            info["last_error_date"], info["last_error_message"] = hook.last_error
        return info

    def _chat(self, chat_id: Any) -> JSON:
        try:
            cid = int(chat_id)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if cid in self.chats:
            return self.chats[cid]
        if cid in self.users:
            user = self.users[cid]
            return {"id": cid, "type": "private", "first_name": user["first_name"]}
        raise ApiError(400, "Bad Request: chat not found")

    def _may_message(self, user_id: int) -> bool:
        """Users who started the bot, and (for a while) those who asked to join a group."""
        if self.statuses.get((user_id, user_id)) == "started":
            return True
        return any(uid == user_id for _, uid in self.join_requests)

    @staticmethod
    def _text_fits(params: JSON) -> None:
        """Telegram trims a text before it counts it: one of only spaces is refused as empty
        (the spec's 1-4096 characters, checked for every request, would let it pass)."""
        text = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            text = html.unescape(re.sub(r"<[^>]*>", "", text))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")

    @staticmethod
    def _html_parses(text: str) -> None:
        """Telegram's HTML parse mode refuses a `<` that opens no tag it knows, and a tag
        left open or closed out of order (as "A < B" or "Peach & <b>" sent as HTML)."""
        opened: list[str] = []
        for match in re.finditer(r"<(/?)([^<>\s/]*)[^<>]*(>?)", text):
            closing, name, end = match.group(1), match.group(2).lower(), match.group(3)
            at = len(text[: match.start()].encode())
            if not end:
                raise ApiError(400, "Bad Request: can't parse entities: Can't find end of the "
                                    f"tag starting at byte offset {at}")  # fmt: skip
            if name not in HTML_TAGS:
                raise ApiError(400, "Bad Request: can't parse entities: Unsupported start tag "
                                    f'"{name}" at byte offset {at}')  # fmt: skip
            if not closing:
                opened.append(name)
            elif not opened or opened.pop() != name:
                raise ApiError(400, "Bad Request: can't parse entities: Unmatched end tag at "
                                    f'byte offset {at}, expected "</{name}>"')  # fmt: skip
        if opened:
            raise ApiError(400, "Bad Request: can't parse entities: Can't find end tag "
                                f'corresponding to start tag "{opened[-1]}"')  # fmt: skip

    def api_sendMessage(self, params: JSON) -> JSON:
        chat = self._chat(params["chat_id"])
        self._text_fits(params)
        if chat["type"] == "private" and not self._may_message(chat["id"]):
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        message: JSON = {
            "message_id": self._next_message_id(chat["id"]),
            "date": self._stamp(None),
            "chat": chat,
            "from": self.bot,
            "text": params["text"],
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self._keep(chat["id"], message)
        return message

    def api_sendPhoto(self, params: JSON) -> JSON:
        chat = self._chat(params["chat_id"])
        if chat["type"] == "private" and not self._may_message(chat["id"]):
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        photo = str(params["photo"])
        if photo.startswith("<upload"):
            file_id = f"AgAC{next(self._link_ids):08d}"
            self.files[file_id] = photo
        elif photo not in self.files:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        else:
            file_id = photo
        message: JSON = {
            "message_id": self._next_message_id(chat["id"]),
            "date": self._stamp(None),
            "chat": chat,
            "from": self.bot,
            "photo": [
                {"file_id": f"{file_id}s", "file_unique_id": f"{file_id}u1", "width": 90,
                 "height": 90},
                {"file_id": file_id, "file_unique_id": f"{file_id}u", "width": 1280,
                 "height": 1280},
            ],
        }  # fmt: skip
        for key in ("caption", "reply_markup"):
            if key in params:
                message[key] = params[key]
        self._keep(chat["id"], message)
        return message

    def api_sendPoll(self, params: JSON) -> JSON:
        """A native poll: Telegram's own checks beyond the spec's lengths (the number of
        options, options that repeat); answers come as poll_answer when it is not anonymous."""
        chat = self._chat(params["chat_id"])
        if chat["type"] == "private" and not self._may_message(chat["id"]):
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        options = [o["text"] if isinstance(o, dict) else str(o) for o in params["options"]]
        for option in params["options"]:
            if isinstance(option, dict) and option.get("text_parse_mode") == "HTML":
                self._html_parses(str(option["text"]))
        if len(options) not in POLL_OPTIONS:
            raise ApiError(400, "Bad Request: POLL_ANSWERS_INVALID")
        if len({o.strip() for o in options}) != len(options):
            raise ApiError(400, "Bad Request: POLL_OPTION_DUPLICATE")
        if not str(params["question"]).strip():
            raise ApiError(400, "Bad Request: poll question must be non-empty")
        poll: JSON = {
            "id": str(next(self._poll_ids)),
            "question": params["question"],
            "options": [
                {"persistent_id": str(i), "text": text, "voter_count": 0}
                for i, text in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": bool(params.get("is_anonymous", True)),
            "type": params.get("type", "regular"),
            "allows_multiple_answers": bool(params.get("allows_multiple_answers", False)),
            "allows_revoting": bool(params.get("allows_revoting", True)),
            "members_only": False,
        }
        self.polls[poll["id"]] = poll
        message: JSON = {
            "message_id": self._next_message_id(chat["id"]),
            "date": self._stamp(None),
            "chat": chat,
            "from": self.bot,
            "poll": poll,
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self._keep(chat["id"], message)
        return message

    def api_stopPoll(self, params: JSON) -> JSON:
        chat = self._chat(params["chat_id"])
        stored = self.messages.get((chat["id"], int(params["message_id"])))
        if stored is None or "poll" not in stored:
            raise ApiError(400, "Bad Request: message with poll to stop not found")
        if stored["poll"]["is_closed"]:
            raise ApiError(400, "Bad Request: poll has already been closed")
        stored["poll"]["is_closed"] = True
        return dict(stored["poll"])

    def api_sendMediaGroup(self, params: JSON) -> list[JSON]:
        """An album: 2-10 items, photos and videos mixed or documents or audio alone, each
        a file uploaded in the request (attach://part) or one Telegram already has; one
        message per item, sharing a media_group_id."""
        chat = self._chat(params["chat_id"])
        if chat["type"] == "private" and not self._may_message(chat["id"]):
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        media = params.get("media")
        if not isinstance(media, list) or not ALBUM[0] <= len(media) <= ALBUM[1]:
            raise ApiError(400, "Bad Request: wrong number of media specified")
        kinds = {str(item.get("type")) for item in media if isinstance(item, dict)}
        if len(kinds) > 1 and kinds & ALBUM_ALONE:
            raise ApiError(400, "Bad Request: MEDIA_GROUP_INVALID")
        group_id = f"{next(self._link_ids):012d}"
        sent = []
        for item in media:
            file_id = self._file(str(item.get("media", "")), params)
            message: JSON = {
                "message_id": self._next_message_id(chat["id"]),
                "date": self._stamp(None),
                "chat": chat,
                "from": self.bot,
                "media_group_id": group_id,
                "photo": [{"file_id": file_id, "file_unique_id": f"{file_id}u", "width": 1280,
                           "height": 1280}],
            }  # fmt: skip
            if "caption" in item:
                message["caption"] = item["caption"]
            self._keep(chat["id"], message)
            sent.append(message)
        return sent

    def _file(self, ref: str, params: JSON) -> str:
        """The file_id of a file uploaded in this request (attach://part) or sent before."""
        if ref.startswith("attach://"):
            part = params.get(ref.removeprefix("attach://"))
            if not str(part).startswith("<upload"):
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            file_id = f"AgAC{next(self._link_ids):08d}"
            self.files[file_id] = str(part)
            return file_id
        if ref not in self.files:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return ref

    def _edited(self, chat_id: int, params: JSON, **fields: Any) -> None:
        """An edit replaces the text and the buttons (none given: the buttons are gone)."""
        stored = self.messages.get((chat_id, int(params["message_id"])))
        if stored is not None:
            stored.update(fields)
            stored.pop("reply_markup", None)
            if "reply_markup" in params:
                stored["reply_markup"] = params["reply_markup"]
            self._keep(chat_id, stored)

    def api_editMessageCaption(self, params: JSON) -> JSON:
        chat = self._chat(params["chat_id"])
        self._edited(chat["id"], params, caption=params.get("caption", ""))
        message: JSON = {
            "message_id": int(params["message_id"]),
            "date": self._stamp(None),
            "chat": chat,
            "from": self.bot,
            "caption": params.get("caption", ""),
            "edit_date": self._stamp(None),
        }
        return message

    def api_editMessageReplyMarkup(self, params: JSON) -> JSON:
        chat = self._chat(params["chat_id"])
        stored = self.messages.get((chat["id"], int(params["message_id"])))
        if stored is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        self._edited(chat["id"], params)
        return stored

    def api_editMessageText(self, params: JSON) -> JSON:
        chat = self._chat(params["chat_id"])
        self._text_fits(params)
        self._edited(chat["id"], params, text=params["text"])
        return {
            "message_id": int(params["message_id"]),
            "date": self._stamp(None),
            "chat": chat,
            "from": self.bot,
            "text": params["text"],
            "edit_date": self._stamp(None),
        }

    def api_setMyCommands(self, params: JSON) -> bool:
        scope = params.get("scope", {"type": "default"})["type"]
        self.commands[f"{scope}:{params.get('language_code', '')}"] = params["commands"]
        return True

    def _can_invite(self, chat_id: int) -> None:
        if self.statuses.get((chat_id, BOT_ID)) != "administrator":
            raise ApiError(400, "Bad Request: not enough rights to manage chat invite links")

    def api_createChatInviteLink(self, params: JSON) -> JSON:
        chat = self._chat(params["chat_id"])
        self._can_invite(chat["id"])
        if params.get("creates_join_request") and params.get("member_limit"):
            raise ApiError(400, "Bad Request: member_limit can't be specified with join requests")
        link: JSON = {
            "invite_link": f"https://t.me/+Bot{next(self._link_ids):06d}x{chat['id'] % 1000:03d}",
            "creator": self.bot,
            "creates_join_request": bool(params.get("creates_join_request", False)),
            "is_primary": False,
            "is_revoked": False,
        }
        for key in ("name", "expire_date", "member_limit"):
            if key in params:
                link[key] = params[key]
        self.links[link["invite_link"]] = dict(link, chat_id=chat["id"])
        return link

    def api_revokeChatInviteLink(self, params: JSON) -> JSON:
        chat = self._chat(params["chat_id"])
        self._can_invite(chat["id"])
        stored = self.links.get(params["invite_link"])
        if stored is None or stored["chat_id"] != chat["id"]:
            raise ApiError(400, "Bad Request: INVITE_HASH_EXPIRED")
        stored["is_revoked"] = True
        return self.link_for_update(params["invite_link"])

    def api_editChatInviteLink(self, params: JSON) -> JSON:
        chat = self._chat(params["chat_id"])
        self._can_invite(chat["id"])
        stored = self.links.get(params["invite_link"])
        if stored is None or stored["chat_id"] != chat["id"]:
            raise ApiError(400, "Bad Request: INVITE_HASH_EXPIRED")
        if stored["is_revoked"]:
            raise ApiError(400, "Bad Request: INVITE_HASH_EXPIRED")
        for key in ("name", "expire_date", "member_limit", "creates_join_request"):
            if key in params:
                stored[key] = params[key]
        return self.link_for_update(params["invite_link"])

    def api_approveChatJoinRequest(self, params: JSON) -> bool:
        chat = self._chat(params["chat_id"])
        self._needs_right(chat["id"], "can_invite_users", NO_JOIN_REQUEST_RIGHTS)
        key = (chat["id"], int(params["user_id"]))
        if self.join_requests.get(key) != "pending":
            raise ApiError(400, "Bad Request: HIDE_REQUESTER_MISSING")
        self.join_requests[key] = "approved"
        return True

    def api_declineChatJoinRequest(self, params: JSON) -> bool:
        chat = self._chat(params["chat_id"])
        self._needs_right(chat["id"], "can_invite_users", NO_JOIN_REQUEST_RIGHTS)
        key = (chat["id"], int(params["user_id"]))
        if self.join_requests.get(key) != "pending":
            raise ApiError(400, "Bad Request: HIDE_REQUESTER_MISSING")
        self.join_requests[key] = "declined"
        return True

    # ---- moderation: Telegram's rules for who may delete, restrict and ban whom -------------

    def bot_has(self, chat_id: int, right: str) -> bool:
        """Whether the bot holds an administrator right in the chat (the creator holds all)."""
        status = self.statuses.get((chat_id, BOT_ID))
        if status == "creator":
            return True
        if status != "administrator":
            return False
        return bool(self._member(chat_id, BOT_ID, status).get(right, False))

    def _needs_right(self, chat_id: int, right: str, refusal: str) -> None:
        if not self.bot_has(chat_id, right):
            raise ApiError(400, refusal)

    def _target(self, chat_id: int, user_id: int) -> str:
        """The status of the member a restriction or ban is aimed at: never an admin (400),
        never the creator (400)."""
        if user_id not in self.users and user_id != BOT_ID:
            raise ApiError(400, "Bad Request: PARTICIPANT_ID_INVALID")
        status = self._status(chat_id, user_id)
        if status == "creator":
            raise ApiError(400, "Bad Request: can't remove chat owner")
        if status == "administrator":
            raise ApiError(400, "Bad Request: user is an administrator of the chat")
        return status

    def _until(self, params: JSON) -> int:
        """Telegram's until_date: less than 30 seconds or more than 366 days from now (or
        none) is forever, stored as 0."""
        until = int(params.get("until_date") or 0)
        ahead = until - self._stamp(None)
        return until if UNTIL_MIN <= ahead <= UNTIL_MAX else 0

    def api_restrictChatMember(self, params: JSON) -> bool:
        """Supergroups only; the bot needs can_restrict_members. Every permission True lifts
        the restriction; an omitted permission is False."""
        chat = self._chat(params["chat_id"])
        if chat["type"] != "supergroup":
            raise ApiError(400, "Bad Request: method is available only for supergroups")
        self._needs_right(chat["id"], "can_restrict_members", NO_RESTRICT_RIGHTS)
        uid = int(params["user_id"])
        status = self._target(chat["id"], uid)
        key = (chat["id"], uid)
        given = params.get("permissions") or {}
        permissions = {name: bool(given.get(name, False)) for name in self._permission_names()}
        was_member = status == "member" or (
            status == "restricted" and self.restrictions.get(key, {}).get("is_member", True)
        )
        if all(permissions.values()):
            self.restrictions.pop(key, None)
            if status == "restricted":
                self.statuses[key] = "member" if was_member else "left"
            return True
        if status == "kicked":
            self.bans.pop(key, None)
        self.restrictions[key] = {
            "permissions": permissions,
            "until_date": self._until(params),
            "is_member": was_member,
        }
        self.statuses[key] = "restricted"
        return True

    def api_banChatMember(self, params: JSON) -> bool:
        """The member is out and cannot come back until unbanned (or until_date)."""
        chat = self._chat(params["chat_id"])
        if chat["type"] == "private":
            raise ApiError(
                400, "Bad Request: method is available for supergroup and channel chats only"
            )
        self._needs_right(chat["id"], "can_restrict_members", NO_RESTRICT_RIGHTS)
        uid = int(params["user_id"])
        self._target(chat["id"], uid)
        key = (chat["id"], uid)
        self.restrictions.pop(key, None)
        self.statuses[key] = "kicked"
        self.bans[key] = self._until(params)
        return True

    def api_unbanChatMember(self, params: JSON) -> bool:
        """A banned member may join again; without only_if_banned a present member is
        removed from the chat (Telegram's documented default)."""
        chat = self._chat(params["chat_id"])
        self._needs_right(chat["id"], "can_restrict_members", NO_RESTRICT_RIGHTS)
        uid = int(params["user_id"])
        key = (chat["id"], uid)
        status = self._status(chat["id"], uid)
        if status != "kicked" and params.get("only_if_banned"):
            return True  # nothing to do, whoever it is
        status = self._target(chat["id"], uid)
        if status == "kicked":
            self.bans.pop(key, None)
            self.statuses[key] = "left"
        elif not params.get("only_if_banned") and status in {"member", "restricted"}:
            self.restrictions.pop(key, None)
            self.statuses[key] = "left"
        return True

    def _deletable(self, chat: JSON, message_id: int) -> None:
        """A message the world knows, not deleted yet: the bot's own within 48 hours, any
        member's when the bot is an admin allowed to delete messages."""
        key = (chat["id"], message_id)
        own, theirs = self.messages.get(key), self.posted.get(key)
        if own is None and theirs is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        if chat["type"] == "private":
            return
        if self.bot_has(chat["id"], "can_delete_messages"):
            return
        if own is not None and self._stamp(None) - int(own["date"]) < OWN_DELETE_WINDOW:
            return
        raise ApiError(400, "Bad Request: message can't be deleted")

    def _delete(self, chat_id: int, message_id: int) -> None:
        self.messages.pop((chat_id, message_id), None)
        self.posted.pop((chat_id, message_id), None)
        self.deleted.append((chat_id, message_id))

    def api_deleteMessage(self, params: JSON) -> bool:
        chat = self._chat(params["chat_id"])
        message_id = int(params["message_id"])
        self._deletable(chat, message_id)
        self._delete(chat["id"], message_id)
        return True

    def api_deleteMessages(self, params: JSON) -> bool:
        """1-100 messages; those not found are skipped, one that may not be deleted refuses
        the whole call."""
        chat = self._chat(params["chat_id"])
        ids = [int(i) for i in params["message_ids"]]
        if not 1 <= len(ids) <= 100:
            raise ApiError(400, "Bad Request: too many messages to delete")
        found = []
        for message_id in ids:
            try:
                self._deletable(chat, message_id)
            except ApiError as error:
                if "not found" in error.description:
                    continue
                raise
            found.append(message_id)
        for message_id in found:
            self._delete(chat["id"], message_id)
        return True

    def is_deleted(self, chat_id: int, message_id: int) -> bool:
        """Whether the bot deleted this message."""
        return (chat_id, message_id) in self.deleted

    def api_getChatAdministrators(self, params: JSON) -> list[JSON]:
        chat = self._chat(params["chat_id"])
        return [
            self._member(chat["id"], uid, status)
            for (cid, uid), status in sorted(self.statuses.items())
            if cid == chat["id"] and status in {"creator", "administrator"}
        ]

    def api_getChatMember(self, params: JSON) -> JSON:
        chat = self._chat(params["chat_id"])
        uid = int(params["user_id"])
        return self._member(chat["id"], uid, self._status(chat["id"], uid))

    # ---- reading what the bot did -----------------------------------------------------------

    def sent(self, chat_id: int | None = None) -> list[ApiCall]:
        """Messages the bot sent (to one chat, if given)."""
        return [
            c
            for c in self.calls
            if c.method == "sendMessage"
            and (chat_id is None or int(c.params["chat_id"]) == chat_id)
        ]

    def delivered(self, chat_id: int) -> list[str]:
        """Texts (and captions; an album's, each) that reached `chat_id`: accepted sends."""
        out: list[str] = []
        for c in self.calls:
            if c.method in SENDING and c.status == 200 and int(c.params["chat_id"]) == chat_id:
                if c.method == "sendMediaGroup":
                    out += [str(item.get("caption", "")) for item in c.params["media"]]
                else:
                    out.append(str(c.params.get("text", c.params.get("caption", ""))))
        return out

    def albums(self, chat_id: int) -> list[list[tuple[str, int]]]:
        """The albums that reached `chat_id`: each item's caption and its upload's size."""
        found = []
        for c in self.calls:
            if (
                c.method == "sendMediaGroup"
                and c.status == 200
                and (int(c.params["chat_id"]) == chat_id)
            ):
                items = []
                for item in c.params["media"]:
                    part = str(c.params.get(str(item["media"]).removeprefix("attach://"), ""))
                    size = re.search(r", (\d+) bytes>$", part)
                    items.append((str(item.get("caption", "")), int(size[1]) if size else 0))
                found.append(items)
        return found

    def shown(self, chat_id: int) -> list[str]:
        """Every message in the chat as members read it now (edits applied), oldest first:
        what a rush's coalesced answers finally say, whether sent or edited into place."""
        return [
            str(message.get("text", message.get("caption", "")))
            for (chat, _id), message in sorted(list(self.messages.items()))
            if chat == chat_id
        ]

    def problems(self) -> list[Problem]:
        """Every spec violation in every request so far."""
        return [p for c in self.calls for p in c.problems]

    def start_private(self, user_id: int) -> None:
        """The user has opened a private chat with the bot, so it may message them."""
        user = self.users[user_id]
        self.chats[user_id] = {"id": user_id, "type": "private", "first_name": user["first_name"]}
        self.statuses[(user_id, user_id)] = "started"
