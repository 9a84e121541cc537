"""Reading the database of a bot process under test, from the test's own thread."""

from __future__ import annotations

import asyncio
from typing import Any


def read(url: str, statement: Any, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """The rows of one statement, on an engine of its own (the processes under test hold
    theirs): polled checks read state this way instead of starting a CLI process each time."""
    from storage.engine import create_engine

    async def run() -> list[tuple[Any, ...]]:
        engine = create_engine(url, read_only=True)
        try:
            async with engine.connect() as conn:
                return [tuple(row) for row in await conn.execute(statement, params or {})]
        finally:
            await engine.dispose()

    return asyncio.run(run())
