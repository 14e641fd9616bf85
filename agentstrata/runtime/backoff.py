"""Exponential backoff with jitter, for reconnecting to upstreams and Redis."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, first: float = 0.1, limit: float = 5.0) -> None:
        self.first = first
        self.limit = limit
        self._next = first

    def next(self) -> float:
        """The delay before the next attempt; each call doubles it up to ``limit`` (+-20% jitter)."""
        delay = self._next
        self._next = min(self._next * 2, self.limit)
        return delay * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self._next = self.first
