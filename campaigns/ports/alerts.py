"""Alerts to admins: the facts their conditions read, and the sent-once record."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from campaigns.alerts import AlertKey, StockFact


class Alerts(Protocol):
    async def stocks(self, now: dt.datetime) -> dict[int, list[StockFact]]:
        """Group pk -> its live offers (not a group-buy's) and deals that have a stock limit."""
        ...

    async def groups_with_leaves(self, since: dt.date) -> list[int]:
        """Pks of the groups with a leave on a rollup day from `since` on."""
        ...

    async def claim(self, key: AlertKey, at: dt.datetime) -> bool:
        """Record the alert as sent; false when it was already (a unique row, so of two
        processes one gets true)."""
        ...
