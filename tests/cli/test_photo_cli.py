"""`--photo` takes a JPEG, PNG or WebP by what its bytes are, not by its name."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.cli.conftest import CLI_GROUP, Cli

ENDS = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
DEAL = ["groupbuy", "create", "--chat", str(CLI_GROUP), "--title", "Milk tea for three",
        "--price", "30", "--group-price", "19.9", "--team-minutes", "60", "--ends-at", ENDS,
        "--size", "3", "--json"]  # fmt: skip
POST = ["posts", "create", "--chat", str(CLI_GROUP), "--cron", "daily 09:00",
        "--text", "<b>New menu</b>", "--json"]  # fmt: skip
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(32)


@pytest.mark.parametrize("command", [DEAL, POST], ids=["groupbuy", "posts"])
def test_a_text_file_named_like_a_photo_is_refused_and_nothing_is_stored(
    cli: Cli, command: list[str]
):
    (cli.folder / "menu.jpg").write_text("not an image\n")  # 13 bytes
    (cli.folder / "menu.png").write_bytes(PNG)

    refused = cli(*command, "--photo", "menu.jpg")
    made = cli(*command, "--photo", "menu.png")

    assert refused.code == 2
    assert "--photo: menu.jpg is not a JPEG, PNG or WebP image" in refused.err
    assert made.code == 0, made.err
    assert json.loads(made.out)["id"] == 1  # the refused one was never stored


def test_a_webp_photo_is_taken(cli: Cli):
    (cli.folder / "tea.webp").write_bytes(WEBP)

    made = cli(*DEAL, "--photo", "tea.webp")

    assert made.code == 0, made.err
    assert json.loads(made.out)["photo"] == "tea.webp"
