"""What one host serves: the agent, its notebook, where each input comes from, its outputs.

Built from a stack file (``--stack S --agent A``), an agent file, or a lone notebook.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentstrata.errors import StrataError
from agentstrata.loader import LoadedAgent, LoadedStack, project_root
from agentstrata.runtime.agent_runner import DEFAULT_DEBOUNCE_SECONDS, DEFAULT_UPSTREAM_WAIT_SECONDS, OutputBinding
from agentstrata.runtime.connection_limits import DEFAULT_HEADER_TIMEOUT_SECONDS, DEFAULT_MAX_CONNECTIONS
from agentstrata.runtime.encoding import dumps
from agentstrata.runtime.events import DEFAULT_KEEPALIVE_SECONDS
from agentstrata.runtime.state_dir import default_state_dir
from agentstrata.runtime.transports import DEFAULT_TRANSPORT
from agentstrata.runtime.upstreams import upstream_url
from agentstrata.runtime.versions import content_version
from agentstrata.schema import AgentSpec, DataFlowEdge

DEFAULT_MAX_PAYLOAD = 10_000_000  # 10 MB
DEFAULT_SESSION_TTL = 120
DEFAULT_UPSTREAM_TIMEOUT = 10.0
#: The stack name used for a lone notebook (state dir, Redis channel names).
LONE_STACK = "notebooks"


@dataclass(frozen=True)
class UpstreamWant:
    """One input fed by an upstream output, with the data_flow edge's transform."""

    output: str
    input: str
    transform: str = "identity"
    #: User transforms import with the project root on sys.path, as the validator imports them.
    root: Path | None = None


@dataclass
class Upstream:
    agent: str
    url: str | None
    wants: list[UpstreamWant] = field(default_factory=list)


@dataclass(frozen=True)
class FixedInput:
    """A value given on the command line (``--input name=json``) for a lone notebook."""

    value: Any
    version: str


@dataclass
class HostOptions:
    max_payload: int = DEFAULT_MAX_PAYLOAD
    debounce: float = DEFAULT_DEBOUNCE_SECONDS
    #: A name from the transport registry (agentstrata.runtime.transports.TRANSPORTS).
    transport: str = DEFAULT_TRANSPORT
    #: The transport's own address, for those that need one (the Redis server's URL).
    transport_url: str | None = None
    session_ttl: int = DEFAULT_SESSION_TTL
    keepalive: float = DEFAULT_KEEPALIVE_SECONDS
    #: Seconds to wait for an upstream to connect or answer a fetch.
    upstream_timeout: float = DEFAULT_UPSTREAM_TIMEOUT
    edit_token: str | None = None
    #: Serve the marimo UI at / (tests of the JSON API may leave it out).
    ui: bool = True
    #: Run only the cells the outputs need (display and side-effect cells are skipped).
    outputs_only: bool = False
    #: Longest a run is held back while an upstream announces it is busy.
    upstream_wait: float = DEFAULT_UPSTREAM_WAIT_SECONDS
    #: Seconds a connection has to send a complete request head.
    header_timeout: float = DEFAULT_HEADER_TIMEOUT_SECONDS
    #: Most connections open at once (websockets and event streams included).
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    #: Origins (``https://host[:port]``) besides the agent's own whose pages may use its marimo UI.
    allowed_origins: tuple[str, ...] = ()


@dataclass
class HostConfig:
    agent: str
    stack: str
    notebook: Path
    port: int
    interface: dict[str, Any]
    #: input name -> source text, for every input (shown in /health and /ready).
    sources: dict[str, str]
    upstreams: dict[str, Upstream]
    files: dict[str, str]
    envs: dict[str, str]
    fixed: dict[str, FixedInput]
    bindings: list[OutputBinding] | None
    resolve: Callable[[str], Path]
    state_dir: Path | None
    edit: bool = False
    options: HostOptions = field(default_factory=HostOptions)


def config_for_stack_agent(loaded: LoadedStack, name: str) -> HostConfig:
    agent = loaded.stack.agent(name)
    if agent is None:
        known = ", ".join(a.name for a in loaded.stack.agent_specs) or "none"
        raise StrataError(f"{loaded.path}: no agent named {name!r} in stack {loaded.stack.name!r} (agents: {known})")
    ports = {a.name: a.port for a in loaded.stack.agent_specs}
    return _config(agent, loaded.stack.name, loaded.resolve, loaded.root, ports, loaded.stack.data_flow)


def config_for_agent_file(loaded: LoadedAgent) -> HostConfig:
    """An agent file on its own: upstream URLs come from STRATA_UPSTREAM_<AGENT>_URL."""
    agent = loaded.agent
    return _config(agent, LONE_STACK, loaded.resolve, loaded.root, {}, [])


def config_for_notebook(path: Path, port: int, inputs: dict[str, Any], outputs: list[str]) -> HostConfig:
    """A lone notebook: inputs from the command line; outputs as named, else discovered at the first run."""
    notebook = path.resolve()
    if not notebook.is_file():
        raise StrataError(f"{path}: no such notebook file")
    root = project_root(notebook)
    fixed = {name: FixedInput(value, content_version(dumps(value))) for name, value in inputs.items()}
    bindings = [OutputBinding(o, o) for o in outputs] or None
    interface = {
        "inputs": [{"name": n, "type": "any", "source": "cli"} for n in inputs],
        "outputs": [{"name": o, "type": "any", "exposed_as": f"reactive_cell:{o}"} for o in outputs],
    }
    return HostConfig(
        agent=notebook.stem, stack=LONE_STACK, notebook=notebook, port=port,
        interface={"agent": notebook.stem, "stack": None, "layer": None, **interface},
        sources={n: "cli" for n in inputs}, upstreams={}, files={}, envs={}, fixed=fixed,
        bindings=bindings, resolve=lambda p: Path(os.path.expandvars(p)),
        state_dir=default_state_dir(root, LONE_STACK, notebook.stem),
    )


def _config(
    agent: AgentSpec,
    stack: str,
    resolve: Callable[[str], Path],
    root: Path,
    ports: dict[str, int | None],
    data_flow: list[DataFlowEdge],
) -> HostConfig:
    upstreams: dict[str, Upstream] = {}
    files: dict[str, str] = {}
    envs: dict[str, str] = {}
    for spec in agent.interface.inputs:
        kind = spec.source_kind
        if kind == "agent":
            producer, output = spec.source_agent  # type: ignore[misc]
            upstream = upstreams.setdefault(producer, Upstream(producer, upstream_url(producer, ports.get(producer))))
            transform = _transform(data_flow, producer, agent.name, output)
            upstream.wants.append(UpstreamWant(output, spec.name, transform, root))
        elif kind == "file":
            files[spec.name] = spec.source_target
        else:
            envs[spec.name] = spec.source_target
    interface = {
        "agent": agent.name,
        "stack": None if stack == LONE_STACK else stack,
        "layer": agent.layer,
        **agent.interface.model_dump(mode="json"),
    }
    return HostConfig(
        agent=agent.name,
        stack=stack,
        notebook=resolve(agent.implementation.path),
        port=agent.port or 2718,
        interface=interface,
        sources={spec.name: spec.source for spec in agent.interface.inputs},
        upstreams=upstreams,
        files=files,
        envs=envs,
        fixed={},
        bindings=[OutputBinding(o.name, o.cell_variable) for o in agent.interface.outputs],
        resolve=resolve,
        state_dir=default_state_dir(root, stack, agent.name),
        edit=agent.edit,
    )


def _transform(data_flow: list[DataFlowEdge], producer: str, consumer: str, output: str) -> str:
    edge = next((e for e in data_flow if (e.from_, e.to, e.data) == (producer, consumer, output)), None)
    return edge.transform if edge is not None else "identity"
