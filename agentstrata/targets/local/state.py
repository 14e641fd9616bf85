"""The local stack's state file, written by the supervisor and read by up/down/status/logs.

``.strata/local/<stack>/state.json`` holds the supervisor's and each agent's process (pid and
start time, so a recycled pid is never mistaken for ours), state, restarts and readiness.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agentstrata.process_ref import ProcessRef



@dataclass(frozen=True)
class LocalPaths:
    root: Path
    stack: str

    @property
    def base(self) -> Path:
        return self.root / ".strata" / "local" / self.stack

    @property
    def state_file(self) -> Path:
        return self.base / "state.json"

    @property
    def lock_file(self) -> Path:
        return self.base / "lock"

    @property
    def supervisor_log(self) -> Path:
        return self.base / "supervisor.log"

    def log_file(self, agent: str) -> Path:
        return self.base / "logs" / f"{agent}.log"


@dataclass
class AgentState:
    name: str
    layer: int
    port: int
    url: str
    #: waiting (for dependencies) | starting | running | restarting | stopped
    state: str = "waiting"
    process: ProcessRef | None = None
    ready: bool = False
    ever_ready: bool = False
    restarts: int = 0
    last_exit: int | None = None
    message: str | None = None


@dataclass
class StackState:
    stack: str
    stack_file: str
    supervisor: ProcessRef | None = None
    agents: dict[str, AgentState] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StackState":
        agents = {}
        for name, raw in data.get("agents", {}).items():
            process = ProcessRef(**raw["process"]) if raw.get("process") else None
            agents[name] = AgentState(**{**raw, "process": process})
        supervisor = ProcessRef(**data["supervisor"]) if data.get("supervisor") else None
        return cls(data["stack"], data["stack_file"], supervisor, agents)


def write_state(paths: LocalPaths, state: StackState) -> None:
    paths.base.mkdir(parents=True, exist_ok=True)
    temporary = paths.state_file.with_suffix(".tmp")
    temporary.write_text(state.to_json())
    os.replace(temporary, paths.state_file)


def read_state(paths: LocalPaths) -> StackState | None:
    """The state file, or None when the stack has never been up (or was brought down)."""
    try:
        return StackState.from_dict(json.loads(paths.state_file.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def supervisor_alive(state: StackState | None) -> bool:
    return state is not None and state.supervisor is not None and state.supervisor.alive()
