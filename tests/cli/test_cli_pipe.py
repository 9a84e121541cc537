"""`growthbot … | head`: the reader going away is not a database failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from storage.migrate import upgrade
from tests.cli.conftest import CLI_GROUP, register_group


def test_output_into_a_closed_pipe_ends_quietly_not_as_a_database_failure(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    upgrade(url)
    register_group(url)
    read, write = os.pipe()
    os.close(read)  # as `head` does once it has its lines
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env |= {"TELEGRAM_BOT_TOKEN": "123:CLI", "DATABASE_URL": url}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "export", "members", "--chat", str(CLI_GROUP),
             "--format", "json"],
            stdout=write, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path, timeout=60,
        )  # fmt: skip
    finally:
        os.close(write)
    assert done.stderr == ""  # once: "cannot use database …: connection failed (Broken pipe)"
    assert done.returncode == 1
