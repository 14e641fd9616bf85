"""``GET /events``: Server-Sent Events announcing new output versions.

Every event carries the full state (current versions, and whether the agent is ``pending``: a run
is due or in progress, or an upstream of it is busy), so a slow subscriber that misses one loses
nothing: it keeps only the latest event, never an unbounded queue. An event is sent for each new
version and for each change of ``pending`` (then ``changed`` is empty); downstream agents hold
their runs while an upstream is pending, so a change reaches each agent once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from agentstrata.runtime.outputs import OutputStore
from agentstrata.runtime.versions import OutputVersion

DEFAULT_KEEPALIVE_SECONDS = 15.0


class _Subscriber:
    def __init__(self) -> None:
        self.latest: bytes | None = None
        self.wake = asyncio.Event()

    def offer(self, frame: bytes) -> None:
        self.latest = frame
        self.wake.set()


class VersionEvents:
    def __init__(self, agent: str, store: OutputStore, keepalive: float = DEFAULT_KEEPALIVE_SECONDS) -> None:
        self.agent = agent
        self.store = store
        self.keepalive = keepalive
        self._subscribers: set[_Subscriber] = set()
        self._sequence = 0
        self._closing = asyncio.Event()
        #: Whether the agent is pending; set by the host, which knows the runner and upstreams.
        self.pending: Callable[[], bool] = lambda: False
        self._announced_pending = False
        store.subscribe(self.announce)

    def payload(self, changed: list[str]) -> dict[str, Any]:
        self._announced_pending = self.pending()
        return {"agent": self.agent, "versions": self.store.versions(), "changed": changed,
                "pending": self._announced_pending, "updated_at": self.store.updated_at}

    def _frame(self, changed: list[str]) -> bytes:
        self._sequence += 1
        data = json.dumps(self.payload(changed), separators=(",", ":"))
        return f"event: version\nid: {self._sequence}\ndata: {data}\n\n".encode()

    def announce(self, changed: dict[str, OutputVersion]) -> None:
        frame = self._frame(sorted(changed))
        for subscriber in self._subscribers:
            subscriber.offer(frame)

    def refresh(self) -> None:
        """Announce the current state if ``pending`` changed since the last event."""
        if self.pending() != self._announced_pending:
            self.announce({})

    def close(self) -> None:
        """End every open stream (server shutdown): SSE connections would otherwise hold it up."""
        self._closing.set()
        for subscriber in self._subscribers:
            subscriber.wake.set()

    async def stream(self) -> AsyncIterator[bytes]:
        subscriber = _Subscriber()
        self._subscribers.add(subscriber)
        try:
            yield b"retry: 1000\n\n" + self._frame([])
            while not self._closing.is_set():
                try:
                    await asyncio.wait_for(subscriber.wake.wait(), timeout=self.keepalive)
                except asyncio.TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                subscriber.wake.clear()
                if subscriber.latest is not None:
                    frame, subscriber.latest = subscriber.latest, None
                    yield frame
        finally:
            self._subscribers.discard(subscriber)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)
