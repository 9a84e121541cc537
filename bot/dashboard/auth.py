"""Who is using the dashboard: Telegram's signed initData, one-time login links, and the
signed session cookie that follows either.

- initData (what Telegram hands a Mini App) is checked with init-data-py: HMAC-SHA256 with
  the key derived from "WebAppData" and the bot token, and refused when its auth_date is
  older than DASHBOARD_INIT_DATA_MAX_AGE (an hour). No crypto of our own for it.
- A desktop browser signs in with `/dashboard login`: a link signed with itsdangerous,
  valid for LOGIN_MAX_AGE seconds and once (its nonce is spent in the database on first
  use: bot/dashboard/sessions.py). An initData is used once too (its signature is spent).
- Either gives a session cookie: signed (itsdangerous), HttpOnly, SameSite, Secure unless
  turned off for a plain-HTTP test; it says who the person is, their CSRF token and the
  secret of their session's row, which signing out ends. Which groups they may see is
  asked of the bot's admin check on every request.
- A group's link (`startapp=`) carries a signed group token so a Mini App opened from a
  group knows which group to show; it grants nothing by itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import init_data_py
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.exc import SignatureExpired

LOGIN_MAX_AGE = 300  # seconds a /dashboard login link stays usable
SESSION_MAX_AGE = 12 * 3600  # seconds a session lasts without a new sign-in
GROUP_TOKEN = re.compile(r"g(n?)(\d{1,19})_([A-Za-z0-9_-]{22})")


@dataclass(frozen=True)
class Identity:
    """A signed-in person: their Telegram id, the language of the pages, and the CSRF
    token every form and write request must carry."""

    user_id: int
    language: str
    csrf: str
    name: str = ""
    session: str = ""  # the secret of the session's row (bot/dashboard/sessions.py)


class NotSignedIn(Exception):
    """initData, a login link or a cookie that does not hold: forged, stale or spent."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def page_language(code: str | None, default: str) -> str:
    """Telegram's language_code (zh-hans, en-US …) as one of the pages' languages."""
    code = (code or "").lower()
    if code.startswith("zh"):
        return "zh"
    if code.startswith("en"):
        return "en"
    return default


def _clocked(now: Callable[[], dt.datetime]) -> type[TimestampSigner]:
    """itsdangerous' signer on the bot's clock (a test's clock moves only when told)."""

    class ClockedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(now().timestamp())

    return ClockedSigner


class DashboardAuth:
    """Checks initData, mints and redeems login links, signs and reads session cookies."""

    def __init__(
        self,
        *,
        bot_token: str,
        secret: str,
        now: Callable[[], dt.datetime],
        default_language: str = "en",
        init_data_max_age: float = 3600,
    ) -> None:
        self._token, self._now = bot_token, now
        self.default_language, self.init_data_max_age = default_language, init_data_max_age
        self._key = hashlib.sha256(b"growthbot-dashboard\0" + secret.encode()).digest()
        signer = _clocked(now)
        self._sessions = URLSafeTimedSerializer(self._key, salt="session", signer=signer)
        self._logins = URLSafeTimedSerializer(self._key, salt="login", signer=signer)

    def check_init_data(self, raw: str) -> tuple[Identity, int | None, str]:
        """The person Telegram vouches for, the group its start parameter names (if a valid
        group token) and the initData's signature (to spend it once); NotSignedIn for a
        forged, altered, stale or userless initData."""
        try:
            data = init_data_py.validate_by_hash(
                raw, self._token, expires_in=self.init_data_max_age, now=self._now()
            )
        except init_data_py.errors.ExpiredError:
            raise NotSignedIn("stale") from None
        except init_data_py.errors.InvalidInitDataError:
            raise NotSignedIn("forged") from None
        except (ValueError, TypeError, RecursionError):  # parsed before its signature is
            raise NotSignedIn("forged") from None  # checked: a hostile shape is forged too
        if data.user is None:
            raise NotSignedIn("no user")
        if data.auth_date > self._now().timestamp() + 60:  # from the future: a forged clock
            raise NotSignedIn("stale")
        user = data.user
        language = page_language(user.language_code, self.default_language)
        name = " ".join(p for p in (user.first_name, user.last_name) if p)
        group = self.group_of(data.start_param) if data.start_param else None
        who = Identity(user.id, language, secrets.token_urlsafe(24), name)
        return who, group, data.hash

    def group_token(self, chat_id: int) -> str:
        """`g<id>_<mac>` (`gn…` for a negative id): only letters, digits, `_` and `-`, as
        Telegram's startapp parameter allows, at most 64 characters."""
        body = f"g{'n' if chat_id < 0 else ''}{abs(chat_id)}"
        return f"{body}_{self._mac(body)}"

    def group_of(self, token: str) -> int | None:
        """The group a token names, or None for anything not minted here."""
        found = GROUP_TOKEN.fullmatch(token)
        if found is None:
            return None
        body = token[: token.index("_")]  # the id has no `_`; the mac may
        if not hmac.compare_digest(self._mac(body), token[len(body) + 1 :]):
            return None
        value = int(found.group(2))
        return -value if found.group(1) else value

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, b"group:" + body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")

    def login_token(self, user_id: int, language: str, name: str = "") -> str:
        """A one-time sign-in for a desktop browser, valid for LOGIN_MAX_AGE seconds."""
        payload = {"u": user_id, "l": language, "n": name, "x": secrets.token_urlsafe(12)}
        return str(self._logins.dumps(payload))

    def redeem_login(self, token: str) -> tuple[Identity, str]:
        """The person a login link was made for and its nonce (the caller spends it: once);
        NotSignedIn if it was altered or is older than LOGIN_MAX_AGE."""
        payload = self._load(self._logins, token, LOGIN_MAX_AGE)
        nonce = str(payload.get("x", ""))
        if not nonce:
            raise NotSignedIn("forged")
        who = Identity(
            int(payload["u"]), str(payload["l"]), secrets.token_urlsafe(24), str(payload["n"])
        )
        return who, nonce

    def session_cookie(self, who: Identity) -> str:
        payload = {
            "u": who.user_id, "l": who.language, "c": who.csrf, "n": who.name, "s": who.session
        }  # fmt: skip
        return str(self._sessions.dumps(payload))

    def session_of(self, cookie: str | None) -> Identity | None:
        """The person a session cookie names, or None (none, altered or expired)."""
        if not cookie:
            return None
        try:
            payload = self._load(self._sessions, cookie, SESSION_MAX_AGE)
            return Identity(
                int(payload["u"]), str(payload["l"]), str(payload["c"]), str(payload["n"]),
                str(payload.get("s", "")),
            )  # fmt: skip
        except (NotSignedIn, KeyError, TypeError, ValueError):
            return None

    @staticmethod
    def _load(serializer: URLSafeTimedSerializer, token: str, max_age: int) -> dict[str, Any]:
        try:
            payload = serializer.loads(token, max_age=max_age)
        except SignatureExpired:
            raise NotSignedIn("stale") from None
        except BadSignature:
            raise NotSignedIn("forged") from None
        if not isinstance(payload, dict):
            raise NotSignedIn("forged")
        return payload


def csrf_ok(who: Identity, given: str | None) -> bool:
    """The write carries the session's own CSRF token (a form field or a header)."""
    return bool(given) and hmac.compare_digest(who.csrf.encode(), (given or "").encode())
