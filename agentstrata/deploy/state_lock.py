"""The lock on a local-backend Terraform state: who holds it, and what a killed run left behind.

OpenTofu's local backend locks the state file with a POSIX record lock (``fcntl``) and writes
``.<state>.lock.info`` beside it. The kernel drops the record lock when its process dies, so a
killed run can only leave the info file behind, which no longer blocks anything. A lock that is
really held belongs to a live process, typically a ``tofu apply`` that outlived a killed
``strata deploy``: interrupting that one could lose state, so it is waited for, never broken.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import psutil

from agentstrata.errors import StrataError


@dataclass(frozen=True)
class LockHolder:
    """A live process holding the state lock, with what tofu wrote about the operation."""

    pid: int | None
    command: str
    info: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        who = f"pid {self.pid} ({self.command})" if self.pid else "another process"
        operation = self.info.get("Operation", "an operation")
        since = f" since {self.info['Created']}" if self.info.get("Created") else ""
        return f"{who}, running {operation}{since}"


def lock_info_path(state: Path) -> Path:
    """Where tofu's local backend records who locked ``state``."""
    return state.parent / f".{state.name}.lock.info"


def read_lock_info(state: Path) -> dict[str, str]:
    try:
        data = json.loads(lock_info_path(state).read_text())
    except (OSError, ValueError):
        return {}
    return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def lock_holder(state: Path) -> LockHolder | None:
    """The live holder of the lock on ``state``, or None when nobody holds it."""
    try:
        handle = state.open("r+b")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            pid = _posix_lock_pid(state)
            return LockHolder(pid, _command_of(pid), read_lock_info(state))
        # Closing the file would drop it anyway; unlock explicitly so the intent is plain.
        fcntl.lockf(handle, fcntl.LOCK_UN)
    return None


def clear_stale_lock(state: Path) -> dict[str, str] | None:
    """Remove the info file of a lock nobody holds; returns what it said, or None if there was none."""
    info_file = lock_info_path(state)
    if not info_file.exists() or lock_holder(state) is not None:
        return None
    info = read_lock_info(state)
    info_file.unlink(missing_ok=True)
    return info


def wait_for_lock(
    state: Path,
    timeout: float,
    on_wait: Callable[[LockHolder, float], None] = lambda holder, waited: None,
    poll: float = 0.5,
) -> None:
    """Return once ``state`` is not locked; a holder still alive after ``timeout`` is an error."""
    started = time.monotonic()
    while (holder := lock_holder(state)) is not None:
        waited = time.monotonic() - started
        if waited >= timeout:
            stop = f"`kill -INT {holder.pid}` (tofu saves its state on SIGINT)" if holder.pid else "it"
            raise StrataError(
                f"the Terraform state {state} is locked by {holder.describe()}.\n"
                f"Waited {timeout:.0f} s for it to finish. Let it finish, or stop {stop}, then re-run.",
                exit_code=1,
            )
        on_wait(holder, waited)
        time.sleep(poll)


def _posix_lock_pid(path: Path) -> int | None:
    """The pid holding a POSIX lock on ``path``, from /proc/locks (matched by device and inode)."""
    stat = path.stat()
    wanted = (os.major(stat.st_dev), os.minor(stat.st_dev), stat.st_ino)
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        # "1: POSIX  ADVISORY  WRITE 12345 08:01:123456 0 EOF"; blocked waiters are marked "->".
        if len(parts) < 6 or parts[1] != "POSIX":
            continue
        major, minor, inode = parts[5].split(":")
        if (int(major, 16), int(minor, 16), int(inode)) == wanted:
            return int(parts[4])
    return None


def _command_of(pid: int | None) -> str:
    if pid is None:
        return "unknown"
    try:
        return " ".join(psutil.Process(pid).cmdline()) or "unknown"
    except psutil.Error:
        return "exited"
