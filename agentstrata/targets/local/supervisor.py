"""The local supervisor (``strata supervise``): owns a stack's agent processes in the background.

- Layers start in order: an agent starts once every agent of the layers below is ready (so its
  dependencies are); the agents of one layer start together when ``policies.parallel_init`` is
  true, else one after another.
- ``auto_restart``: an agent that exits is started again, with exponential backoff (reset once it
  has stayed up a while). Its dependants keep running and reconnect by themselves.
- ``cascade_stop``: an agent that stops for good (exits without auto_restart) stops its dependants.
- On SIGTERM it stops the agents top layer first (dependants before what they depend on).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from types import FrameType

import httpx

from agentstrata.loader import LoadedStack
from agentstrata.targets.local.launcher import spawn_agent
from agentstrata.targets.local.probe import probe_ready
from agentstrata.process_ref import ProcessRef
from agentstrata.targets.local.state import AgentState, LocalPaths, StackState, write_state
from agentstrata.schema import AgentSpec
from agentstrata.targets.base.start_order import upstreams
from agentstrata.wire import local_url

log = logging.getLogger(__name__)

TICK_SECONDS = 0.1
PROBE_UNREADY_SECONDS = 0.2
PROBE_READY_SECONDS = 2.0
STOP_GRACE_SECONDS = 5.0
RESTART_FIRST_DELAY = 0.5
RESTART_MAX_DELAY = 30.0
#: An agent that stayed up this long starts its next restart backoff from the beginning again.
STABLE_AFTER_SECONDS = 30.0


class Supervisor:
    def __init__(self, loaded: LoadedStack, workspace: Path) -> None:
        self.loaded = loaded
        #: The KB directory, KB_CONDUIT_ROOT of the agents that declare ``workspace: read``.
        self.workspace = workspace
        stack = loaded.stack
        self.paths = LocalPaths(loaded.root, stack.name)
        self.policies = stack.policies
        self.agents = sorted(stack.agent_specs, key=lambda a: a.layer)
        self.depends_on = {a.name: set(upstreams(a)) for a in self.agents}
        self.state = StackState(stack.name, str(loaded.path.resolve()), ProcessRef.of(os.getpid()))
        for agent in self.agents:
            self.state.agents[agent.name] = AgentState(agent.name, agent.layer, agent.port or 0,
                                                       local_url(agent.port or 0))
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._started_at: dict[str, float] = {}
        self._restart_at: dict[str, float] = {}
        self._delay: dict[str, float] = {}
        self._probe_at: dict[str, float] = {}
        self._written = ""
        self._stopping = False

    # -- main loop ---------------------------------------------------------------------------

    def run(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._request_stop)
        log.info("supervising stack %s (%d agents)", self.state.stack, len(self.agents))
        self._save()
        with httpx.Client() as client:
            while not self._stopping:
                try:
                    self._tick(client)
                except Exception:  # noqa: BLE001 - the supervisor must outlive any one failure
                    log.exception("supervisor tick failed; going on")
                time.sleep(TICK_SECONDS)
        self._shutdown()
        self.paths.state_file.unlink(missing_ok=True)
        log.info("stack %s is down", self.state.stack)

    def _request_stop(self, signum: int, _: FrameType | None) -> None:
        log.info("received %s: stopping the stack", signal.Signals(signum).name)
        self._stopping = True

    def _tick(self, client: httpx.Client) -> None:
        now = time.monotonic()
        for agent in self.agents:
            state = self.state.agents[agent.name]
            process = self.processes.get(agent.name)
            if process is not None and process.poll() is not None:
                self._exited(agent, process.returncode, now)
            elif state.state in ("waiting", "restarting") and self._may_start(agent, now):
                self._start(agent, now)
            elif state.state in ("starting", "running") and now >= self._probe_at.get(agent.name, 0):
                self._probe(client, agent, now)
        self._save()

    # -- transitions -------------------------------------------------------------------------

    def _may_start(self, agent: AgentSpec, now: float) -> bool:
        state = self.state.agents[agent.name]
        if state.state == "restarting":
            return now >= self._restart_at.get(agent.name, 0)
        for other in self.agents:
            theirs = self.state.agents[other.name]
            if other.layer < agent.layer and not theirs.ready:
                return False
            if other.name in self.depends_on[agent.name] and not theirs.ready:
                return False
            if other is agent:
                break
            if not self.policies.parallel_init and other.layer == agent.layer and not theirs.ready:
                return False  # one at a time, in stack order, within a layer
        return True

    def _start(self, agent: AgentSpec, now: float) -> None:
        state = self.state.agents[agent.name]
        process = spawn_agent(self.loaded, agent, self.paths.log_file(agent.name), self.workspace)
        self.processes[agent.name] = process
        self._started_at[agent.name] = now
        self._probe_at[agent.name] = now + PROBE_UNREADY_SECONDS
        state.process = ProcessRef.of(process.pid)
        state.state, state.ready, state.message = "starting", False, None
        log.info("started %s (pid %d) on port %d", agent.name, process.pid, agent.port)

    def _probe(self, client: httpx.Client, agent: AgentSpec, now: float) -> None:
        state = self.state.agents[agent.name]
        ready, why = probe_ready(client, state.url)
        if ready and not state.ready:
            log.info("%s is ready", agent.name)
        state.ready, state.message = ready, why
        state.ever_ready = state.ever_ready or ready
        state.state = "running" if ready else state.state
        self._probe_at[agent.name] = now + (PROBE_READY_SECONDS if ready else PROBE_UNREADY_SECONDS)

    def _exited(self, agent: AgentSpec, code: int, now: float) -> None:
        state = self.state.agents[agent.name]
        del self.processes[agent.name]
        state.process, state.ready, state.last_exit = None, False, code
        if self.policies.auto_restart:
            if now - self._started_at.get(agent.name, now) >= STABLE_AFTER_SECONDS:
                self._delay.pop(agent.name, None)
            delay = self._delay.get(agent.name, RESTART_FIRST_DELAY)
            self._delay[agent.name] = min(delay * 2, RESTART_MAX_DELAY)
            self._restart_at[agent.name] = now + delay
            state.state, state.restarts = "restarting", state.restarts + 1
            state.message = f"exited with code {code}; restarting in {delay:.1f}s"
            log.warning("%s exited with code %s; restarting in %.1fs", agent.name, code, delay)
            return
        state.state, state.message = "stopped", f"exited with code {code}"
        log.warning("%s exited with code %s (auto_restart is off)", agent.name, code)
        if self.policies.cascade_stop:
            for dependant in self._dependants(agent.name):
                self._stop_agent(dependant, f"stopped because {agent.name} stopped (cascade_stop)")

    def _dependants(self, name: str) -> list[str]:
        """Every agent that depends on ``name``, directly or not."""
        found: list[str] = []
        frontier = [name]
        while frontier:
            current = frontier.pop()
            for agent in self.agents:
                if current in self.depends_on[agent.name] and agent.name not in found:
                    found.append(agent.name)
                    frontier.append(agent.name)
        return found

    def _stop_agent(self, name: str, reason: str) -> None:
        state = self.state.agents[name]
        process = self.processes.pop(name, None)
        if process is not None:
            _terminate([process])
        state.process, state.ready, state.state, state.message = None, False, "stopped", reason
        log.warning("%s: %s", name, reason)

    def _shutdown(self) -> None:
        for layer in sorted({a.layer for a in self.agents}, reverse=True):
            names = [a.name for a in self.agents if a.layer == layer and a.name in self.processes]
            _terminate([self.processes.pop(name) for name in names])
            for name in names:
                state = self.state.agents[name]
                state.process, state.ready, state.state = None, False, "stopped"
            self._save()

    def _save(self) -> None:
        text = self.state.to_json()
        if text != self._written:
            write_state(self.paths, self.state)
            self._written = text


def _terminate(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group, wait for all, then SIGKILL what is left."""
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            pass
        # Also sweeps what the agent started (marimo edit-mode kernels) if it left them behind.
        _signal_group(process, signal.SIGKILL)
        process.wait()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already
