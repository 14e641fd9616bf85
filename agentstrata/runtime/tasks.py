"""The one way the runtime stops a background task."""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` (if started) and wait until it has unwound, its ``finally`` blocks run."""
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
