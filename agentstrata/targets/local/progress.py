"""What `strata up` shows while a local stack starts: live agent states on a terminal, a line per change elsewhere."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from agentstrata.targets.local.state import StackState


class LocalProgress:
    """A context manager whose value is the ``on_progress`` callback of ``control.wait_ready``."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._last = ""
        self._live: Live | None = None

    def __enter__(self) -> Any:
        self._live = Live(console=self.console, transient=True) if self.console.is_terminal else None
        if self._live is not None:
            self._live.__enter__()
        return self.show

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def show(self, state: StackState) -> None:
        summary = ", ".join(f"{a.name}: {'ready' if a.ready else a.state}" for a in state.agents.values())
        if self._live is not None:
            table = Table("agent", "layer", "state", "detail", title=f"starting {state.stack}", expand=False)
            for a in state.agents.values():
                table.add_row(a.name, str(a.layer), "ready" if a.ready else a.state, a.message or "")
            self._live.update(table)
        elif summary != self._last:
            self.console.print(f"waiting: {summary}", markup=False, highlight=False)
        self._last = summary
