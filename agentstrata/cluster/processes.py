"""Starting the components detached from ``strata``, and stopping them so that none is left.

Each runs in a session of its own (it outlives the command that started it, and a ^C in that
shell does not reach it), with stdout and stderr appended to ``.strata/cluster/logs/<name>.log``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil

from agentstrata.private_log import open_private_log
from agentstrata.process_ref import ProcessRef

_STOP_GRACE_SECONDS = 10.0
_POLL_SECONDS = 0.05


def start_detached(argv: list[str], log: Path, cwd: Path, env: dict[str, str]) -> ProcessRef:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open_private_log(log) as handle:
        handle.write(f"\n# {' '.join(argv)}\n".encode())
        handle.flush()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=handle,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    return ProcessRef.of(process.pid)


def stop(refs: list[ProcessRef]) -> None:
    """SIGTERM to every one, then SIGKILL to what is left after the grace period; wait for all."""
    running = [ref for ref in refs if ref.alive()]
    for ref in running:
        _signal(ref.pid, signal.SIGTERM)
    # etcd holds its ports until it has exited: the wait also makes a following `up` safe.
    left = _wait_exited(running, _STOP_GRACE_SECONDS)
    for ref in left:
        _signal(ref.pid, signal.SIGKILL)
    _wait_exited(left, _STOP_GRACE_SECONDS)


def _wait_exited(refs: list[ProcessRef], timeout: float) -> list[ProcessRef]:
    """Those still running after ``timeout``. An exited process counts even before its parent
    reaps it (ours are orphans: init reaps them when it gets to it)."""
    deadline = time.monotonic() + timeout
    while (left := [ref for ref in refs if ref.alive()]) and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
    return left


def strays(binaries: dict[str, Path], base: Path) -> list[tuple[str, ProcessRef]]:
    """(name, process) of each of our binaries running with this cluster's folder in its arguments.

    What an interrupted ``up`` may have started before it could record it.
    """
    names = {str(path): name for name, path in binaries.items()}
    marker = f"{base}{os.sep}"
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "create_time"]):
        cmdline = process.info["cmdline"] or []
        if cmdline and cmdline[0] in names and any(marker in argument for argument in cmdline[1:]):
            found.append((names[cmdline[0]], ProcessRef(process.info["pid"], process.info["create_time"])))
    return found


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return
