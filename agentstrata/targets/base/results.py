"""What a target's lifecycle reports: deployed agents, teardown, status and exports, the same for every target."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class AgentEndpoint:
    """A deployed agent: where it answers, and what runs it (a container, a pid, a Deployment...)."""

    name: str
    layer: int
    url: str
    runs_as: str
    #: The last answer of its ``/ready``.
    ready: str = "unknown"


@dataclass
class DeployResult:
    stack_id: str
    #: What the ``runs_as`` column holds for this target ("container", "pid"...).
    runs_as: str
    agents: list[AgentEndpoint]
    notes: list[str] = field(default_factory=list)


@dataclass
class DestroyResult:
    stack_id: str
    #: Volumes or directories holding the agents' state: kept, or removed with ``--purge``.
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: False when there was nothing to tear down.
    was_up: bool = True


@dataclass
class AgentStatus:
    name: str
    layer: int
    url: str
    ready: bool
    state: str
    restarts: int = 0
    message: str | None = None
    #: Target-specific facts (``pid``, ``container``...), shown as extra columns.
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        shown = asdict(self)
        details = shown.pop("details")
        return {**shown, **details}


@dataclass
class StackStatus:
    stack: str
    target: str
    up: bool
    agents: list[AgentStatus]
    #: Target-specific facts about the whole stack (the local supervisor's pid...).
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "target": self.target, "up": self.up, **self.details,
                "agents": [a.as_dict() for a in self.agents]}


@dataclass
class ExportResult:
    """What an export wrote: the main file(s), and a line per thing written for people."""

    written: list[Path]
    summary: list[str]
