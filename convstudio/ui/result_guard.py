"""One rule for every view: show a result only with the inputs it was computed from.

A view gives the guard a function that returns the :class:`~convstudio.core.provenance.ResultKey`
of what is on screen now (the model, the data, what the model was trained on, the chosen sample). Background work is
delivered through :meth:`ResultGuard.deliver`, which drops a result whose inputs have changed since
it was asked for; :meth:`ResultGuard.reason` says why the current model must not be shown with the
current data at all (a model trained on MNIST with Fashion-MNIST images).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convstudio.core.provenance import ResultKey, data_mismatch, stale_reason

__all__ = ["ResultGuard", "stale_note"]


def stale_note(reason: str) -> str:
    """The neutral note a view shows in place of a result that no longer fits."""
    return f"Stale: {reason}"


class ResultGuard:
    """Keys results by what they were computed from and filters out those that no longer fit."""

    def __init__(self, current: Callable[[], ResultKey]) -> None:
        self._current = current

    def key(self, per_sample: bool = False) -> ResultKey:
        """The key of a result asked for now; ``per_sample``: it depends on the chosen sample too."""
        key = self._current()
        return key if per_sample else key.with_detail("")

    def reason(self) -> str | None:
        """Why the current model and data must not be paired, or None when they may."""
        key = self._current()
        if not key.model:
            return None
        return data_mismatch(key.trained_on, key.dataset)

    def fits(self, key: ResultKey) -> bool:
        """Whether a result computed for ``key`` still belongs to what is on screen."""
        current = self._current()
        return stale_reason(key, current if key.detail else current.with_detail("")) is None

    def deliver(self, key: ResultKey, show: Callable[[Any], None]) -> Callable[[Any], None]:
        """``show`` wrapped so that a result computed for ``key`` is shown only while it still fits."""

        def deliver(result: Any) -> None:
            if self.fits(key):
                show(result)

        return deliver
