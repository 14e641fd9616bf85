"""up / down / status / logs of the local target, as used by the CLI."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from agentstrata.errors import StrataError
from agentstrata.loader import LoadedStack
from agentstrata.targets.base.results import AgentStatus, StackStatus
from agentstrata.targets.local.launcher import spawn_supervisor
from agentstrata.targets.local.probe import last_error, probe_ready, settled_failure
from agentstrata.targets.local.state import LocalPaths, StackState, read_state, supervisor_alive
from agentstrata.wire import local_url

SUPERVISOR_START_SECONDS = 15.0
DOWN_TIMEOUT_SECONDS = 60.0
ORPHAN_GRACE_SECONDS = 5.0
POLL_SECONDS = 0.2
#: An agent that exits this many times before it was ever ready will not make it.
CRASH_LOOP_RESTARTS = 3
#: A failed first run with every input at hand, still failed this much later, will not fix itself.
SETTLED_FAILURE_SECONDS = 2.0
LOG_TAIL_LINES = 20


def local_paths(loaded: LoadedStack) -> LocalPaths:
    return LocalPaths(loaded.root, loaded.stack.name)


def start(loaded: LoadedStack) -> bool:
    """Start the stack's supervisor; False if it was already up."""
    paths = local_paths(loaded)
    with _lock(paths):
        state = read_state(paths)
        if supervisor_alive(state):
            return False
        if state is not None:
            _kill_agents(state)  # left behind by a supervisor that died
            paths.state_file.unlink(missing_ok=True)
        _check_ports(loaded)
        process = spawn_supervisor(loaded.path, loaded.root, paths.supervisor_log)
        deadline = time.monotonic() + SUPERVISOR_START_SECONDS
        while time.monotonic() < deadline:
            state = read_state(paths)
            if state is not None and state.supervisor is not None and state.supervisor.pid == process.pid:
                return True
            if process.poll() is not None:
                raise StrataError(f"the supervisor of stack {loaded.stack.name!r} exited with code "
                                  f"{process.returncode}:\n{log_tail(paths.supervisor_log)}")
            time.sleep(POLL_SECONDS)
        process.kill()
        raise StrataError(f"the supervisor of stack {loaded.stack.name!r} did not start within "
                          f"{SUPERVISOR_START_SECONDS:.0f}s; see {paths.supervisor_log}")


def wait_ready(loaded: LoadedStack, timeout: float, on_progress: Callable[[StackState], None]) -> StackState:
    """Until every agent is ready; StrataError naming the agent (and its error) that is not."""
    paths = local_paths(loaded)
    deadline = time.monotonic() + timeout
    failing_since: dict[str, float] = {}
    while True:
        state = read_state(paths)
        if not supervisor_alive(state):
            raise StrataError(f"the supervisor of stack {loaded.stack.name!r} stopped:\n"
                              f"{log_tail(paths.supervisor_log)}", 1)
        assert state is not None
        on_progress(state)
        if state.agents and all(a.ready for a in state.agents.values()):
            return state
        for agent in state.agents.values():
            if agent.restarts >= CRASH_LOOP_RESTARTS and not agent.ever_ready:
                raise StrataError(_not_ready(paths, state, agent.name,
                                             f"exited {agent.restarts} times before becoming ready"), 1)
            if agent.state == "starting" and not agent.ever_ready and _settled_failure(agent.url):
                since = failing_since.setdefault(agent.name, time.monotonic())
                if time.monotonic() - since >= SETTLED_FAILURE_SECONDS:
                    raise StrataError(_not_ready(paths, state, agent.name, "cannot become ready: its run fails"), 1)
            else:
                failing_since.pop(agent.name, None)
        if time.monotonic() >= deadline:
            waiting = [a for a in state.agents.values() if not a.ready]
            first = next((a for a in waiting if a.state != "waiting"), waiting[0])
            raise StrataError(_not_ready(paths, state, first.name, f"not ready after {timeout:.0f}s"), 1)
        time.sleep(POLL_SECONDS)


def stop(loaded: LoadedStack) -> bool:
    """Stop the stack (its supervisor stops the agents, dependants first); False if it was not up."""
    paths = local_paths(loaded)
    with _lock(paths):
        state = read_state(paths)
        if state is None:
            return False
        if supervisor_alive(state):
            assert state.supervisor is not None
            os.kill(state.supervisor.pid, signal.SIGTERM)
            deadline = time.monotonic() + DOWN_TIMEOUT_SECONDS
            while state.supervisor.alive() and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)
        _kill_agents(read_state(paths) or state)
        paths.state_file.unlink(missing_ok=True)
        return True


def status(loaded: LoadedStack) -> StackStatus:
    """The stack's agents as they are now (readiness asked of each agent, not taken from the file)."""
    paths = local_paths(loaded)
    state = read_state(paths)
    up = supervisor_alive(state)
    agents = []
    with httpx.Client() as client:
        for spec in sorted(loaded.stack.agent_specs, key=lambda a: a.layer):
            recorded = state.agents.get(spec.name) if state else None
            url = local_url(spec.port or 0)
            process = recorded.process if recorded and recorded.process and recorded.process.alive() else None
            ready, why = probe_ready(client, url) if process else (False, None)
            if up and recorded:
                phase = recorded.state
            else:  # no supervisor: an agent still running was left behind by one that died
                phase = "orphaned" if process else "down"
            agents.append(AgentStatus(
                spec.name, spec.layer, url, ready, phase, recorded.restarts if recorded else 0,
                why or (recorded.message if up and recorded else None),
                {"pid": process.pid if process else None},
            ))
    supervisor = {"pid": state.supervisor.pid if up and state and state.supervisor else None}
    return StackStatus(loaded.stack.name, "local", up, agents, {"supervisor": supervisor, "logs": str(paths.base / "logs")})


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def follow(path: Path, lines: int) -> Iterator[str]:
    """The last ``lines`` lines of ``path``, then whatever is appended (until interrupted)."""
    yield log_tail(path, lines) + "\n"
    with open(path, errors="replace") as handle:
        handle.seek(0, os.SEEK_END)
        while True:
            chunk = handle.read()
            if chunk:
                yield chunk
            else:
                time.sleep(POLL_SECONDS)


def _settled_failure(url: str) -> str | None:
    with httpx.Client() as client:
        return settled_failure(client, url)


def _not_ready(paths: LocalPaths, state: StackState, name: str, what: str) -> str:
    agent = state.agents[name]
    with httpx.Client() as client:
        reason = last_error(client, agent.url) or agent.message
    lines = [f"agent {name!r} (layer {agent.layer}, {agent.url}) {what}"]
    if reason:
        lines.append(f"  {reason}")
    lines.append(f"last lines of {paths.log_file(name)}:")
    lines.append(log_tail(paths.log_file(name)))
    return "\n".join(lines)


def _check_ports(loaded: LoadedStack) -> None:
    busy = []
    for agent in loaded.stack.agent_specs:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", agent.port or 0))
            except OSError:
                busy.append(f"{agent.port} ({agent.name})")
    if busy:
        raise StrataError(f"stack {loaded.stack.name!r}: port(s) already in use on 127.0.0.1: {', '.join(busy)}")


def _kill_agents(state: StackState) -> None:
    """Stop agents no supervisor looks after any more: SIGTERM, then SIGKILL what is still there."""
    left = [a.process for a in state.agents.values() if a.process is not None and a.process.alive()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for process in left:
            try:
                os.killpg(process.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + ORPHAN_GRACE_SECONDS
        while any(p.alive() for p in left) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        left = [p for p in left if p.alive()]


@contextmanager
def _lock(paths: LocalPaths) -> Iterator[None]:
    """One up/down at a time per stack."""
    paths.base.mkdir(parents=True, exist_ok=True)
    with open(paths.lock_file, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
