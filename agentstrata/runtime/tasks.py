"""The runtime's background tasks: the one way it stops one, and a task that repeats a call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` (if started) and wait until it has unwound, its ``finally`` blocks run."""
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class Periodic:
    """Calls ``function`` every ``seconds`` on the event loop, from ``start`` to ``stop``; it must not block."""

    def __init__(self, name: str, seconds: float, function: Callable[[], None]) -> None:
        self.name = name
        self.seconds = seconds
        self.function = function
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._repeat(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _repeat(self) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            self.function()
