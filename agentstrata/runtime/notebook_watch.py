"""Reload on save: a change to the notebook file re-imports it and re-runs the agent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import watchfiles

from agentstrata.runtime.tasks import cancel_and_wait

log = logging.getLogger(__name__)


class NotebookWatch:
    def __init__(self, notebook: Path, on_change: Callable[[], None]) -> None:
        self.notebook = notebook
        self.on_change = on_change
        self._task: asyncio.Task[None] | None = None
        self.name = f"notebook watch {notebook}"

    def start(self) -> None:
        if not self.notebook.parent.is_dir():
            log.warning("not watching %s: its directory does not exist", self.notebook)
            return
        self._task = asyncio.create_task(self._watch(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _watch(self) -> None:
        # Through the directory: editors (and marimo's own save) replace the file.
        async for changes in watchfiles.awatch(self.notebook.parent, recursive=False, step=50):
            if any(Path(changed) == self.notebook for _, changed in changes) and self.notebook.exists():
                log.info("notebook %s changed: reloading", self.notebook)
                self.on_change()
