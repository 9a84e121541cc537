"""`/healthz`, `/readyz` and `/metrics` on the bot's HTTP app.

- `/healthz`: the process answers (200). A supervisor restarts a process that stops answering.
- `/readyz`: every readiness check passes (200), else 503 with a JSON reason. The bot's own
  checks are "the database answers SELECT 1" and "post_init finished (and no stop began)";
  other parts of the process add theirs (`Readiness.add`).
- `/metrics`: the application's registry in the Prometheus text format (or OpenMetrics when
  the scraper asks for it).

None of them is meant for the public internet: the app listens on HTTP_HOST (127.0.0.1 by
default) and a reverse proxy forwards only the webhook paths (README, Deployment).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.metrics import Metrics

# A check passes by returning None and fails by returning a reason or raising.
Check = Callable[[], Awaitable[str | None]]
CHECK_TIMEOUT = 2.0  # a database that does not answer within this is not ready


class Readiness:
    """Named async checks run on each /readyz, all at once, each under a timeout."""

    def __init__(self, timeout: float = CHECK_TIMEOUT) -> None:
        self.timeout = timeout
        self.checks: list[tuple[str, Check]] = []

    def add(self, name: str, check: Check) -> None:
        self.checks.append((name, check))

    async def _run(self, check: Check) -> str | None:
        try:
            return await asyncio.wait_for(check(), self.timeout)
        except TimeoutError:
            return f"no answer within {self.timeout:g} s"
        except Exception as error:
            return f"{type(error).__name__}: {error}"[:300]

    async def failures(self) -> dict[str, str]:
        """Each failing check's name and reason; empty when ready."""
        results = await asyncio.gather(*(self._run(check) for _, check in self.checks))
        return {name: r for (name, _), r in zip(self.checks, results, strict=True) if r is not None}


class Started:
    """The check "post_init finished and the bot is not stopping": its state is starting,
    running, stopping (post_stop began) or stopped (the database is closed)."""

    def __init__(self) -> None:
        self.state = "starting"

    async def __call__(self) -> str | None:
        return None if self.state == "running" else self.state


def health_routes(metrics: Metrics, readiness: Readiness) -> list[BaseRoute]:
    """The routes every bot process serves when HTTP_PORT is set."""

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> JSONResponse:
        failed = await readiness.failures()
        if failed:
            reason = "; ".join(f"{name}: {why}" for name, why in failed.items())
            return JSONResponse(
                {"ready": False, "reason": reason, "failed": failed}, status_code=503
            )
        return JSONResponse({"ready": True})

    async def metrics_page(request: Request) -> Response:
        page, content_type = await metrics.exposition(request.headers.get("accept", ""))
        return Response(page, headers={"Content-Type": content_type})

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
    ]
