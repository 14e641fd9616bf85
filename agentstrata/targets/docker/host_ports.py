"""The host ports a deploy publishes agents on, so that stacks coexist on one engine.

Asked once per deploy, before synthesis (which stays a function of its props, the
``DockerTarget`` ``host_ports``):

- an agent whose port the stack file fixes (or ``host_ports`` names) keeps it; if a container of
  another stack holds it, the deploy stops before anything is created, naming that container;
- an agent without a port keeps the host port its last deploy published (read from the stack's
  Terraform outputs: stable across redeploys), else gets its own port if free, else the next
  port up that no container publishes and nothing on this machine listens on.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from agentstrata.errors import SpecError, StrataError

if TYPE_CHECKING:
    from agentstrata.loader import LoadedStack
    from agentstrata.targets.docker.target import DockerTarget

#: The docker label naming the Strata stack a container belongs to (set on every agent's container).
STACK_LABEL = "strata.stack"
_LAST_PORT = 65535


@dataclass(frozen=True)
class Published:
    """A host port a container on the engine publishes (running or not: a stopped one takes it back on start)."""

    port: int
    container: str
    stack: str | None

    def describe(self) -> str:
        owner = f"stack {self.stack!r}" if self.stack else "not a Strata stack"
        return f"container {self.container!r} ({owner})"


def plan_host_ports(target: "DockerTarget", loaded: "LoadedStack", *, teardown: bool) -> dict[str, int]:
    """Agent -> host port for every agent of ``loaded``'s stack. ``teardown``: only what the state says
    (a destroy asks the engine nothing)."""
    spec = loaded.stack
    chosen = dict(target.host_ports)
    fixed = {a.name: chosen.get(a.name, a.port) for a in spec.agent_specs
             if a.name in chosen or spec.port_fixed(a.name)}
    previous = published_by_last_deploy(loaded, target.name)
    if teardown:
        return {**{a.name: previous[a.name] for a in spec.agent_specs if a.name in previous}, **fixed}
    env = {**os.environ, "DOCKER_HOST": target.docker_host} if target.docker_host else None
    others = {p.port: p for p in engine_ports(env) if p.stack != spec.name}
    problems = []
    for agent in spec.agent_specs:
        holder = others.get(fixed.get(agent.name, -1))
        if holder is not None:
            how = "DockerTarget host_ports" if agent.name in target.host_ports else "the stack file"
            problems.append(loaded.diagnostic(loaded.agent_loc(agent.name) + ("port",), (
                f"host port {holder.port} of agent {agent.name!r} ({how}) is already published by "
                f"{holder.describe()}; destroy that stack, or leave 'port' unset so that Strata picks a free one")))
    if problems:
        raise SpecError(problems)
    taken = {*others, *fixed.values()}
    local_engine = target.docker_host is None or target.docker_host.startswith("unix://")
    for agent in spec.agent_specs:
        if agent.name in fixed:
            continue
        port = previous.get(agent.name)
        if port is None or port in taken:
            port = _next_free(agent.port or 0, taken, target.bind_address if local_engine else None)
        chosen[agent.name] = port
        taken.add(port)
    return {**chosen, **fixed}


def published_by_last_deploy(loaded: "LoadedStack", target_name: str) -> dict[str, int]:
    """Agent -> the host port of its URL output in the stack's Terraform state (empty when not deployed)."""
    from agentstrata.deploy.state_backend import state_file
    from agentstrata.targets.base.terraform_target import state_outputs

    outputs = state_outputs(state_file(loaded.root, f"{loaded.stack.name}-{target_name}"))
    ports = {}
    for agent in loaded.stack.agent_specs:
        url = outputs.get(f"{agent.name}_url")
        try:
            port = urlsplit(url).port if url else None
        except ValueError:
            port = None
        if port is not None:
            ports[agent.name] = port
    return ports


def engine_ports(env: Mapping[str, str] | None = None) -> Iterator[Published]:
    """Every host port a container on the engine publishes, with the container's name and stack label."""
    ids = _docker(["ps", "-aq", "--no-trunc"], env).split()
    if not ids:
        return
    # A container removed between the two calls makes `inspect` fail for it alone: the others are still printed.
    try:
        done = subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True, env=env, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StrataError(f"cannot list the ports the engine's containers publish: {exc}", 1) from None
    for found in json.loads(done.stdout or "[]"):
        labels = (found.get("Config") or {}).get("Labels") or {}
        for bindings in ((found.get("HostConfig") or {}).get("PortBindings") or {}).values():
            for binding in bindings or []:
                if str(binding.get("HostPort") or "").isdigit():
                    yield Published(int(binding["HostPort"]), found["Name"].lstrip("/"), labels.get(STACK_LABEL))


def _next_free(start: int, taken: set[int], bind_address: str | None) -> int:
    """The first port from ``start`` up that is not ``taken`` and (on a local engine) that ``bind_address`` can bind."""
    for port in range(start, _LAST_PORT + 1):
        if port not in taken and (bind_address is None or _bindable(bind_address, port)):
            return port
    raise StrataError(f"no free host port from {start} up to {_LAST_PORT} on the Docker engine", 1)


def _bindable(address: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def _docker(args: list[str], env: Mapping[str, str] | None) -> str:
    try:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, env=env, timeout=60)
    except FileNotFoundError:
        raise StrataError("the docker CLI is not installed; run `strata setup`", 1) from None
    except subprocess.TimeoutExpired:
        raise StrataError(f"`docker {' '.join(args)}` did not answer in 60 s; is the engine running?", 1) from None
    if done.returncode != 0:
        raise StrataError(f"`docker {' '.join(args)}` failed: {done.stderr.strip()}", 1)
    return done.stdout
