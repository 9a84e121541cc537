"""The bot's Prometheus metrics: one object per application, in a registry it owns.

Every metric the bot exposes is defined here, so every part that counts (the application's
update loop and error path, the outbox sender, reply retries) shares one set of names:

- growthbot_updates_total{type, outcome}: each update, when the handler chain returns;
  outcome is ok, duplicate, refused, telegram_error or error (handlers.deps.Handled).
- growthbot_handler_seconds{type}: histogram of the time an update spent in the chain.
- growthbot_errors_total{where}: unexpected exceptions (bugs); where is handler, job,
  outbox or other.
- growthbot_telegram_retry_after_total{source}: each 429 received, counted once where its
  RetryAfter is caught: the error path (handler, job), the outbox, reply retries (reply).
- growthbot_outbox_messages_total{outcome}: each outbox send attempt; outcome is sent,
  retry, blocked, failed or uncertain.
- growthbot_outbox_depth: outbox rows due and not yet sent, read at scrape time.
- growthbot_inbox_depth: webhook updates stored and not yet processed, read at scrape time;
  absent while no inbox exists (`Metrics.inbox_depth` is None).

Send rate is `rate(growthbot_outbox_messages_total{outcome="sent"}[1m])`.

A registry per application (not prometheus_client's global one) lets tests read the values
of the application they built, and two applications in one process never share counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import ClassVar

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from handlers.deps import Handled

log = logging.getLogger(__name__)

Depth = Callable[[], Awaitable[int]]  # a count read from the database when Prometheus scrapes
SAMPLE_TIMEOUT = 2.0  # seconds a depth query may take before the scrape goes on without it
# Handler latency: a chatter update takes about a millisecond, a check-in tens of them.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The counters the bot updates as it works, plus depths sampled when scraped."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter(
            "growthbot_updates",
            "Updates processed, by Telegram update type and outcome "
            "(ok, duplicate, refused, telegram_error, error).",
            ["type", "outcome"],
            registry=r,
        )
        self.handler_seconds = Histogram(
            "growthbot_handler_seconds",
            "Seconds an update spent in the handler chain (Application.process_update).",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "growthbot_errors",
            "Unexpected exceptions (bugs), by where they were caught: handler, job, outbox.",
            ["where"],
            registry=r,
        )
        self.retry_after = Counter(
            "growthbot_telegram_retry_after",
            "429 Too Many Requests received from Telegram, by where the RetryAfter was caught.",
            ["source"],
            registry=r,
        )
        self.outbox_messages = Counter(
            "growthbot_outbox_messages",
            "Outbox send attempts by outcome: sent, retry, blocked, failed, uncertain.",
            ["outcome"],
            registry=r,
        )
        # Filled in by the composition root: None leaves the gauge out of the scrape.
        self.outbox_depth: Depth | None = None
        self.inbox_depth: Depth | None = None
        self._depths = _Depths(self)
        r.register(self._depths)
        self._handled: dict[tuple[str, Handled], tuple[Counter, Histogram]] = {}

    def handled(self, kind: str, outcome: Handled, seconds: float) -> None:
        """One update went through the handler chain (on the hot path: label children cached)."""
        pair = self._handled.get((kind, outcome))
        if pair is None:
            pair = self._handled[(kind, outcome)] = (
                self.updates.labels(kind, outcome.value),
                self.handler_seconds.labels(kind),
            )
        pair[0].inc()
        pair[1].observe(seconds)

    async def sample(self) -> None:
        """Read the depths now, each within SAMPLE_TIMEOUT; one that fails is left out."""
        await self._depths.sample()

    async def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The page and its content type, in the format the scraper's Accept header asks for
        (Prometheus text by default, OpenMetrics on request), with the depths read just now."""
        await self.sample()
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type

    def value(self, name: str, **labels: str) -> float:
        """A sample's current value, 0 if it was never counted (for tests and the demo)."""
        return self.registry.get_sample_value(name, labels) or 0.0


class _Depths(Collector):
    """Gauges that are a database count, not a running tally: read at scrape time, so
    every process reports the same truth and nothing drifts between restarts."""

    HELP: ClassVar[dict[str, str]] = {
        "growthbot_outbox_depth": "Outbox rows due and not yet sent (paused broadcasts excluded).",
        "growthbot_inbox_depth": "Webhook updates stored and not yet processed.",
    }

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.values: dict[str, float] = {}

    def sources(self) -> dict[str, Depth | None]:
        return {
            "growthbot_outbox_depth": self.metrics.outbox_depth,
            "growthbot_inbox_depth": self.metrics.inbox_depth,
        }

    async def sample(self) -> None:
        values: dict[str, float] = {}
        for name, source in self.sources().items():
            if source is None:
                continue
            try:
                values[name] = float(await asyncio.wait_for(source(), SAMPLE_TIMEOUT))
            except Exception as error:  # the scrape still answers; the gauge goes absent
                log.warning("metrics: %s not read: %r", name, error)
        self.values = values

    def describe(self) -> Iterable[Metric]:
        return [GaugeMetricFamily(name, text) for name, text in self.HELP.items()]

    def collect(self) -> Iterable[Metric]:
        return [GaugeMetricFamily(n, self.HELP[n], value=v) for n, v in self.values.items()]
