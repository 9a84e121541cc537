"""The ways into the dashboard that `/dashboard` hands out (handlers see them through the
DashboardLinks Protocol): the Mini App's URL, a group's t.me link, a desktop sign-in link."""

from __future__ import annotations

from urllib.parse import urlencode

from bot.dashboard.auth import LOGIN_MAX_AGE, DashboardAuth


class Links:
    """Links on DASHBOARD_URL, for the bot @`username` and Mini App `short_name`."""

    def __init__(
        self, auth: DashboardAuth, *, url: str, username: str, short_name: str | None
    ) -> None:
        self.auth, self.url, self.username, self.short_name = auth, url, username, short_name

    def app_url(self) -> str:
        """What the private chat's web_app button opens (Telegram adds initData to it)."""
        return self.url

    def group_link(self, chat_id: int) -> str:
        """t.me/<bot>/<app>?startapp=<signed group token>: opens the Mini App on that group
        (web_app buttons are refused in groups). Without a short name, the bot's main Mini
        App (set with @BotFather) opens instead."""
        app = f"/{self.short_name}" if self.short_name else ""
        return f"https://t.me/{self.username}{app}?startapp={self.auth.group_token(chat_id)}"

    def login_link(self, user_id: int, language: str, name: str) -> tuple[str, int]:
        token = self.auth.login_token(user_id, language, name)
        return f"{self.url}login?{urlencode({'t': token})}", LOGIN_MAX_AGE // 60
