"""The agent's inputs: each one's current value and version, or why it has none yet.

Sources (upstream agents, files, env vars) write here; the runner reads a consistent snapshot.
A source that fails keeps its input's last good value and records the problem for /health.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentstrata.runtime.versions import utc_now


@dataclass
class InputState:
    name: str
    source: str
    value: Any = None
    version: str | None = None
    problem: str | None = None
    updated_at: str | None = None

    @property
    def resolved(self) -> bool:
        return self.version is not None

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "resolved": self.resolved, "version": self.version,
                "updated_at": self.updated_at, "problem": self.problem}


class InputBoard:
    """Holds every input; ``on_change`` fires when an input's version changes."""

    def __init__(self, sources: dict[str, str], on_change: Callable[[], None] = lambda: None) -> None:
        self._inputs = {name: InputState(name, source) for name, source in sources.items()}
        self.on_change = on_change

    def set(self, name: str, value: Any, version: str) -> bool:
        """Store a new value; True (and ``on_change``) only if its version differs from the current one."""
        state = self._inputs[name]
        state.problem = None
        if state.version == version:
            return False
        state.value, state.version, state.updated_at = value, version, utc_now()
        self.on_change()
        return True

    def report(self, name: str, problem: str | None) -> None:
        """Record why the input could not be (re)read (None: it can again); its last good value stays."""
        self._inputs[name].problem = problem

    def unresolved(self) -> list[str]:
        """One line per input without a value: its name, source and the reason when known."""
        return [
            f"input {s.name!r} ({s.source}): {s.problem or 'waiting for a first value'}"
            for s in self._inputs.values()
            if not s.resolved
        ]

    def problems(self) -> list[str]:
        """One line per input whose last update failed (it keeps its last good value, if it has one)."""
        return [f"input {s.name!r} ({s.source}): {s.problem}" for s in self._inputs.values() if s.problem]

    def snapshot(self) -> tuple[dict[str, Any], tuple[tuple[str, str | None], ...]]:
        """The values to inject, and the versions they are (the identity of this set of inputs)."""
        values = {name: s.value for name, s in self._inputs.items()}
        versions = tuple(sorted((name, s.version) for name, s in self._inputs.items()))
        return values, versions

    def status(self) -> dict[str, dict[str, Any]]:
        return {name: s.as_dict() for name, s in self._inputs.items()}
