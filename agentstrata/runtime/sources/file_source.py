"""File-based push: a ``file:`` input, watched with watchfiles.

A file's value is its parsed content (YAML or JSON by extension, else text) and its version the
hash of its bytes. A directory's value is its absolute path (the notebook reads it), and its
version a fingerprint of the tree (paths, sizes, modification times), so any change under it
re-runs the agent. A path that does not exist (yet) leaves the input unresolved until it does.
Problems name the path as the source writes it: they are shown at /health, to anyone.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import watchfiles
import yaml

from agentstrata.errors import SpecError
from agentstrata.runtime.inputs import InputBoard
from agentstrata.runtime.versions import content_version
from agentstrata.yaml_source import load_plain, read_regular_file

#: The largest input file read (YAML ones are also bounded by the loader's node and depth limits).
INPUT_FILE_LIMIT = 256 * 1024 * 1024
from agentstrata.runtime.tasks import cancel_and_wait

log = logging.getLogger(__name__)

_UNSET_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
#: How often a missing path is looked for again.
APPEAR_POLL_SECONDS = 0.5


class FileSource:
    def __init__(self, input_name: str, raw_path: str, resolve: Callable[[str], Path], board: InputBoard) -> None:
        self.input = input_name
        self.raw_path = raw_path
        self.resolve = resolve
        self.board = board
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return f"file {self.raw_path} -> {self.input}"

    def start(self) -> None:
        missing = [a or b for a, b in _UNSET_VAR.findall(os.path.expandvars(self.raw_path))]
        if missing:
            self.board.report(self.input, f"environment variable {missing[0]} is not set (source file:{self.raw_path})")
            return
        self._task = asyncio.create_task(self._watch(self.resolve(self.raw_path).resolve()), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _watch(self, path: Path) -> None:
        while True:
            while not path.exists():
                self.board.report(self.input, f"{self.raw_path} does not exist")
                await asyncio.sleep(APPEAR_POLL_SECONDS)
            await self._read(path)
            is_dir = path.is_dir()
            # A file is watched through its directory: editors replace files rather than write them.
            watched = path if is_dir else path.parent
            async for changes in watchfiles.awatch(watched, recursive=is_dir, step=20, debounce=400):
                if not path.exists():
                    break
                if is_dir or any(Path(changed) == path for _, changed in changes):
                    await self._read(path)

    async def _read(self, path: Path) -> None:
        try:
            value, version = await asyncio.to_thread(read_path, path)
        except OSError as exc:
            self._refuse(f"cannot read {self.raw_path}: {exc.strerror or type(exc).__name__}")
            return
        except SpecError as exc:
            self._refuse(f"cannot read {self.raw_path}: {exc.diagnostics[0].message}")
            return
        except (ValueError, yaml.YAMLError) as exc:
            self._refuse(f"cannot parse {self.raw_path}: {exc}")
            return
        if self.board.set(self.input, value, version):
            log.info("input %r <- %s (version %s)", self.input, path, version)

    def _refuse(self, problem: str) -> None:
        problem = f"{problem}; keeping the last good value"
        log.warning("input %r: %s", self.input, problem)
        self.board.report(self.input, problem)


def read_path(path: Path) -> tuple[Any, str]:
    """The value and version of a file or directory input."""
    if path.is_dir():
        return str(path), tree_fingerprint(path)
    # A FIFO or a device is refused, never read (it could block forever); YAML is bounded as spec files are.
    data = read_regular_file(path, str(path), limit=INPUT_FILE_LIMIT)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        value = load_plain(data.decode("utf-8"))
    elif suffix == ".json":
        value = json.loads(data)
    else:
        value = data.decode("utf-8")
    return value, content_version(data)


def tree_fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root, onerror=_unreadable):
        dirs.sort()
        for name in sorted(files):
            file = Path(folder, name)
            try:
                stat = file.stat()
            except OSError:
                continue  # removed while walking: the next change event reads again
            digest.update(f"{file.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _unreadable(error: OSError) -> None:
    """A folder that cannot be listed is an input that cannot be read (os.walk would skip it silently)."""
    if not isinstance(error, FileNotFoundError):  # removed while walking: the next change event reads again
        raise error
