"""The agent's last good outputs, and who hears about new versions.

Only a changed version is announced: a re-run that reproduces the same content is invisible
downstream, which is what stops needless recomputation from rippling up the stack.

Each new version is also persisted to the state directory. A write that fails (a full or
read-only disk) does not stop serving: the output is kept as unsaved, reported at /health, and
written again by :meth:`OutputStore.persist_unsaved`, which the host calls periodically.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from agentstrata.runtime.state_dir import StateDir
from agentstrata.runtime.versions import OutputVersion, utc_now

log = logging.getLogger(__name__)

#: Called (on the event loop) with the outputs whose version changed; must not block.
Listener = Callable[[dict[str, OutputVersion]], None]


class OutputStore:
    def __init__(self, state: StateDir | None = None) -> None:
        self._records: dict[str, OutputVersion] = {}
        self._state = state
        self._listeners: list[Listener] = []
        #: Outputs served from disk, not yet recomputed by this process.
        self.restored: set[str] = set()
        #: Outputs whose current version could not be written to the state directory, and why.
        self.unsaved: dict[str, str] = {}
        self.updated_at: str | None = None

    def restore(self, names: list[str]) -> None:
        if self._state is None:
            return
        self._records.update(self._state.load(names))
        self.restored = set(self._records)
        if self._records:
            self.updated_at = max(r.updated_at for r in self._records.values())
            log.info("serving %d persisted output(s) as stale until the first run", len(self._records))

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def get(self, name: str) -> OutputVersion | None:
        return self._records.get(name)

    def versions(self) -> dict[str, str]:
        return {name: r.version for name, r in self._records.items()}

    def publish(self, produced: dict[str, OutputVersion]) -> dict[str, OutputVersion]:
        """Keep the produced outputs; persist and announce those whose version changed."""
        changed = {name: record for name, record in produced.items()
                   if (old := self._records.get(name)) is None or old.version != record.version}
        self.restored -= set(produced)
        for name, record in changed.items():
            self._records[name] = record
            self._persist(name)
        if changed:
            self.updated_at = utc_now()
            for listener in self._listeners:
                try:
                    listener(changed)
                except Exception:  # noqa: BLE001 - one broken subscriber must not stop the others
                    log.exception("output listener failed")
        return changed

    def persist_unsaved(self) -> None:
        """Write again the outputs a failed write left unsaved (the disk may have room again)."""
        for name in list(self.unsaved):
            self._persist(name)

    def problems(self) -> list[str]:
        """One line per output that could not be persisted (for /health)."""
        return [f"state: cannot persist output {name!r}: {reason}" for name, reason in sorted(self.unsaved.items())]

    def _persist(self, name: str) -> None:
        if self._state is None:
            return
        try:
            self._state.save(self._records[name])
        except OSError as exc:
            # Persistence is for restarts; serving goes on without it (and says so at /health).
            reason = exc.strerror or type(exc).__name__
            if self.unsaved.get(name) != reason:
                log.warning("cannot persist output %r to %s: %s", name, self._state.path, exc)
            self.unsaved[name] = reason
        else:
            if self.unsaved.pop(name, None) is not None:
                log.info("output %r persisted again", name)
