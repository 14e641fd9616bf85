"""Starting the components detached from ``strata``, and stopping them so that none is left.

Each runs in a session of its own (it outlives the command that started it, and a ^C in that
shell does not reach it), with stdout and stderr appended to ``.strata/cluster/logs/<name>.log``.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import psutil

from agentstrata.targets.local.state import ProcessRef

_STOP_GRACE_SECONDS = 10.0


def start_detached(argv: list[str], log: Path, cwd: Path, env: dict[str, str]) -> ProcessRef:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        handle.write(f"\n# {' '.join(argv)}\n".encode())
        handle.flush()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=handle,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    return ProcessRef.of(process.pid)


def stop(refs: list[ProcessRef]) -> None:
    """SIGTERM to every one, then SIGKILL to what is left after the grace period; wait for all."""
    processes = []
    for ref in refs:
        if ref.alive():
            try:
                processes.append(psutil.Process(ref.pid))
            except psutil.Error:
                continue
    for process in processes:
        _signal(process, signal.SIGTERM)
    # etcd holds its ports until it has exited: the wait also makes a following `up` safe.
    _, left = psutil.wait_procs(processes, timeout=_STOP_GRACE_SECONDS)
    for process in left:
        _signal(process, signal.SIGKILL)
    psutil.wait_procs(left, timeout=_STOP_GRACE_SECONDS)


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


def _signal(process: psutil.Process, signum: int) -> None:
    try:
        process.send_signal(signum)
    except psutil.NoSuchProcess:
        return
