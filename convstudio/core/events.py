"""A tiny synchronous event emitter: the core's way of telling views what changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["Emitter"]


class Emitter(Generic[T]):
    """Calls every subscriber, in subscription order, with each emitted event."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[T], None]] = []

    def connect(self, callback: Callable[[T], None]) -> Callable[[T], None]:
        """Subscribe ``callback``; returns it so it can be used as a decorator."""
        self._subscribers.append(callback)
        return callback

    def disconnect(self, callback: Callable[[T], None]) -> None:
        """Unsubscribe ``callback``; unknown callbacks are ignored."""
        try:
            self._subscribers.remove(callback)
        except ValueError:
            pass

    def emit(self, event: T) -> None:
        for callback in list(self._subscribers):
            callback(event)
