"""Configuration from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from campaigns.settings import LANGUAGES, ChatSettings, known_timezone


class Settings(BaseSettings):
    """Every setting is listed, with a comment, in .env.example."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    telegram_bot_token: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite+aiosqlite:///./growthbot.db"
    default_timezone: str = "UTC"
    default_language: str = "en"
    bot_owner_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    # A fifth of a second: each write is then a short statement for the database (60 rows at
    # 300 messages a second, not 300). A long one, on a machine the database shares, had the
    # database's process take the bot's CPU for 4-5 ms while the bot waited to read its answer
    # (bench/bench_updates.py --why: "waiting for a cpu"). A busy group fills a batch sooner.
    activity_flush_seconds: float = Field(default=0.2, gt=0, le=60)
    activity_batch_size: int = Field(default=250, ge=1, le=10_000)
    stop_within_seconds: float = Field(default=30.0, ge=1, le=600)
    referral_sweep_seconds: float = Field(default=300, ge=5, le=86_400)
    http_host: str = "127.0.0.1"
    http_port: int | None = Field(default=None, ge=1, le=65_535)
    orders_webhook_secret: str | None = None
    # A scheduled run found late (the bot was down) is sent if at most this late, else skipped.
    post_grace_minutes: float = Field(default=10, ge=0, le=1440)
    # Outbox messages per second overall; Telegram allows about 30 (a little is left for replies).
    outbox_rate: float = Field(default=29, gt=0, le=30)
    outbox_tick_seconds: float = Field(default=1.0, gt=0, le=60)
    # How often the journeys (win-back, birthday, …) look for members whose step is due.
    journey_tick_seconds: float = Field(default=300, ge=1, le=86_400)
    # Webhook mode (`growthbot run --webhook URL`): Telegram sends this token with every update.
    telegram_webhook_secret: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,256}$")
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    # Inbox workers: chats one process works on at once; how long a claimed chat stays with a
    # worker that stopped answering before another takes it over.
    worker_chats: int = Field(default=16, ge=1, le=512)
    inbox_lease_seconds: float = Field(default=30, ge=1, le=600)
    # The process holding this lease runs the scheduled jobs and sends the outbox; another
    # takes over this long after it died.
    leader_lease_seconds: float = Field(default=15, ge=1, le=300)
    # The operator dashboard (a Telegram Mini App) served on HTTP_PORT under /dashboard/:
    # its public HTTPS address (None: no dashboard), the Mini App's short name from
    # @BotFather's /newapp (group links are t.me/<bot>/<short name>?startapp=…; without it
    # they open the bot's main Mini App), the key its cookies and links are signed with
    # (default: derived from the bot token), how old Telegram's initData may be, and the
    # session cookie's Secure flag and SameSite (`none` for Telegram Web's iframe).
    dashboard_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+/dashboard/$")
    dashboard_short_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{3,30}$")
    dashboard_secret: str | None = Field(default=None, min_length=16)
    dashboard_init_data_max_age: int = Field(default=3600, ge=60, le=86_400)
    dashboard_cookie_secure: bool = True
    dashboard_cookie_samesite: Literal["lax", "strict", "none"] = "lax"

    @field_validator("bot_owner_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        if not known_timezone(value):
            raise ValueError(f"unknown IANA timezone {value!r}, e.g. Asia/Shanghai")
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value.upper()

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db")
        return value

    @property
    def chat_defaults(self) -> ChatSettings:
        """Settings a newly registered group starts with."""
        return ChatSettings(timezone=self.default_timezone, language=self.default_language)


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it in one line."""


def describe(error: ValidationError) -> str:
    """One line naming each bad setting as the operator writes it in .env."""
    parts = []
    for item in error.errors():
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{str(item['loc'][0]).upper()}: {message}" if item["loc"] else message)
    return "invalid setting " + "; ".join(parts)


@cache
def get_settings() -> Settings:
    """Settings, read once per process."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(describe(error)) from None
