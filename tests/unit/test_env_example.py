"""`.env.example` is what operators copy: it must start the bot as it is."""

from pathlib import Path

from bot.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_the_example_env_file_is_valid_and_documents_every_setting():
    settings = Settings(_env_file=EXAMPLE)  # type: ignore[call-arg]
    text = EXAMPLE.read_text(encoding="utf-8")

    assert settings.http_port is None and settings.telegram_bot_token is None
    missing = [name.upper() for name in Settings.model_fields if f"{name.upper()}=" not in text]
    assert missing == []
