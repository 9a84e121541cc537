"""The update being processed, seen by its log lines and its metrics.

The application sets it around each update (a context variable, so concurrent updates and
the tasks they start each see their own); handlers never import it: they report through the
`Outcomes` Protocol on Deps, and the JSON log formatter reads the ids from here.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from handlers.deps import Handled
from handlers.extract import log_fields, update_kind

_RANK = {outcome: rank for rank, outcome in enumerate(Handled)}


class UpdateScope:
    """One update in flight: its type and how it is going; who and where only on demand."""

    __slots__ = ("kind", "outcome", "update")

    def __init__(self, update: object) -> None:
        self.update = update
        self.kind = update_kind(update)
        self.outcome = Handled.OK

    def mark(self, outcome: Handled) -> None:
        """Keep the worse outcome: an error after a refusal is an error."""
        if _RANK[outcome] > _RANK[self.outcome]:
            self.outcome = outcome

    def fields(self) -> dict[str, Any]:
        """The ids for a log line, computed only when a line is written (not per update)."""
        return log_fields(self.update)


CURRENT: ContextVar[UpdateScope | None] = ContextVar("growthbot_update", default=None)


class ScopeOutcomes:
    """handlers.deps.Outcomes: marks the update the caller is handling."""

    def mark(self, outcome: Handled) -> None:
        scope = CURRENT.get()
        if scope is not None:
            scope.mark(outcome)
