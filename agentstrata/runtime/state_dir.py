"""Last good outputs on disk, so a restarted agent serves them (as stale) before its first run."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

from agentstrata.runtime.encoding import dumps
from agentstrata.runtime.versions import OutputVersion, content_version
from agentstrata.wire import STATE_DIR_ENV

log = logging.getLogger(__name__)


def default_state_dir(root: Path, stack: str, agent: str) -> Path:
    """``<project root>/.strata/state/<stack>/<agent>``, unless STRATA_STATE_DIR names the directory."""
    override = os.environ.get(STATE_DIR_ENV)
    return Path(override) if override else root / ".strata" / "state" / stack / agent


class StateDir:
    """One JSON file per output: ``outputs/<name>.json`` = {name, version, updated_at, value}."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._outputs = path / "outputs"

    def save(self, record: OutputVersion) -> None:
        """Write atomically (temp file + rename): a crash mid-write leaves the previous version.

        OSError when it cannot be written (a full disk...), with nothing left behind.
        """
        self._outputs.mkdir(parents=True, exist_ok=True)
        head = dumps({"name": record.name, "version": record.version, "updated_at": record.updated_at})
        target = self._outputs / f"{record.name}.json"
        temporary = target.with_suffix(".json.tmp")
        try:
            temporary.write_bytes(head[:-1] + b',"value":' + record.data + b"}")
            os.replace(temporary, target)
        except OSError:
            with contextlib.suppress(OSError):  # never created (a read-only filesystem): nothing to remove
                temporary.unlink(missing_ok=True)
            raise

    def load(self, names: list[str]) -> dict[str, OutputVersion]:
        """The persisted outputs among ``names``; unreadable or inconsistent files are skipped."""
        records: dict[str, OutputVersion] = {}
        for name in names:
            file = self._outputs / f"{name}.json"
            if not file.is_file():
                continue
            try:
                stored = json.loads(file.read_bytes())
                data = dumps(stored["value"])
                if content_version(data) != stored["version"]:
                    raise ValueError("version does not match the content")
                records[name] = OutputVersion(name, stored["version"], stored["updated_at"], data)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring persisted output %s: %s", file, exc)
        return records
