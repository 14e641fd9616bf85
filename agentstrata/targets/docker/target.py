"""``DockerTarget``: each agent of a stack as a hardened container on one Docker engine.

This module is what `strata validate` and the commands load: props, checks and the lifecycle
hooks. The Terraform resources are in :mod:`.resources`, imported only when a stack renders.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from agentstrata.deploy.toolchain import MirroredProvider
from agentstrata.errors import Diagnostic, SpecError, StrataError
from agentstrata.targets.base.results import ExportResult
from agentstrata.targets.base.terraform_target import TerraformSession, TerraformTarget
from agentstrata.targets.docker.environment import TARGET_ENV
from agentstrata.targets.docker.limits import CPU_PERIOD_US, MIN_MEMORY_MIB, memory_mib
from agentstrata.targets.docker.naming import MAX_CONTAINER_NAME, container_name
from agentstrata.targets.docker.settings import DockerDeployment
from agentstrata.targets.docker.toolchain import DOCKER_PROVIDER
from agentstrata.wire import KB_ROOT_ENV
from agentstrata.workspace import stack_uses_workspace, uses_workspace, workspace_dir

if TYPE_CHECKING:
    from agentstrata.constructs.agent_stack import AgentStack
    from agentstrata.deploy.layout import Layout
    from agentstrata.deploy.steps import StepRunner
    from agentstrata.deploy.synthesized_stack import SynthesizedStack
    from agentstrata.loader import LoadedStack
    from agentstrata.schema import AgentSpec
    from agentstrata.yaml_source import Path_

#: Read at the CLI edge (`strata deploy`, `cdktf synth` through main.py) into the ``base_image`` prop.
BASE_IMAGE_ENV = "STRATA_BASE_IMAGE"
DEFAULT_BASE_IMAGE = "python:3.11-slim"
DEFAULT_USER = "10001:10001"
#: Seconds Terraform waits for a new container to report healthy (its healthcheck starts after 30 s).
DEFAULT_WAIT_TIMEOUT = 120
_DEFAULTS = DockerDeployment()


class DockerTarget(TerraformTarget):
    """Deploys agents as containers through the kreuzwerker/docker provider.

    ``policies.auto_restart`` becomes the restart policy and ``parallel_init`` the start order;
    ``cascade_stop`` has no Docker counterpart (a container does not stop with its upstream), though
    ``destroy`` does stop dependants before what they depend on.

    :param base_image: the runtime image's base (build arg ``BASE_IMAGE``); default: the one
        `strata setup` builds when deploying, else ``python:3.11-slim``.
    :param bind_address: host address agents' ports are published on; only this machine by default.
    :param workspace_path: the host KB directory, mounted read-only at ``/kb-conduit`` into the
        containers of the agents that declare ``workspace: read`` (and those alone); relative to the
        project root.
    :param host_ports: agent name -> host port, for agents published on another port than they serve on.
        `strata deploy` fills it for the agents without a ``port`` (free on the engine, kept across
        redeploys); `strata synth` and `cdktf synth` leave it as given (the stack's own ports).
    :param user: ``uid:gid`` the agents run as (never root).
    :param wait_timeout: seconds ``apply`` waits for a new container to become healthy.
    :param docker_host: the Docker engine, e.g. ``unix:///run/docker.sock``; default: the provider's
        (``DOCKER_HOST``, else the local socket).
    """

    name: ClassVar[str] = "docker"
    settings_model: ClassVar[type[BaseModel]] = DockerDeployment
    rules: ClassVar[dict[str, str]] = {
        "D001": "DockerTarget host_ports names agents of the stack",
        "D002": "no host port is published for two agents",
        "D003": "an agent's env does not redefine a variable the docker target sets",
        "D005": "memory and cpu limits are within what Docker accepts",
        "D006": "container names (stack + agent) fit in a DNS label",
        "D007": "an agent with a 'file:' input under workspace_path declares 'workspace: read' (it reads the mount)",
    }
    exports: ClassVar[dict[str, str]] = {"compose": "a docker-compose file with the same containers"}
    environment_props: ClassVar[dict[str, str]] = {BASE_IMAGE_ENV: "base_image", KB_ROOT_ENV: "workspace_path"}
    resources_module: ClassVar[str] = "agentstrata.targets.docker.resources"
    providers: ClassVar[tuple[MirroredProvider, ...]] = (DOCKER_PROVIDER,)
    runs_as: ClassVar[str] = "container"
    log_hint: ClassVar[str] = "each agent's log: `docker logs <container>`"

    def __init__(
        self,
        *,
        base_image: str | None = None,
        bind_address: str = _DEFAULTS.bind_address,
        workspace_path: str = _DEFAULTS.workspace_path,
        host_ports: Mapping[str, int] | None = None,
        user: str = DEFAULT_USER,
        wait_timeout: int = DEFAULT_WAIT_TIMEOUT,
        docker_host: str | None = None,
        compose_file: str = _DEFAULTS.compose_file,
    ) -> None:
        #: Whether the caller chose the base image (a deploy then keeps it over the one setup built).
        self.base_image_given = base_image is not None
        self.base_image = base_image or DEFAULT_BASE_IMAGE
        try:
            self.bind_address = str(ipaddress.ip_address(bind_address))
        except ValueError:
            raise StrataError(f"DockerTarget: bind_address {bind_address!r} is not an IP address", 1) from None
        self.workspace_path = workspace_path
        self.host_ports = dict(host_ports or {})
        seen: dict[int, str] = {}
        for agent, port in self.host_ports.items():
            if not 1 <= port <= 65535:
                raise StrataError(f"DockerTarget: host_ports[{agent!r}] = {port} is not a port number", 1)
            if port in seen:
                raise StrataError(f"DockerTarget: host port {port} is given to both {seen[port]!r} and {agent!r}", 1)
            seen[port] = agent
        if user.split(":")[0] in ("", "0", "root"):
            raise StrataError(f"DockerTarget: user {user!r} is root; agents run as an unprivileged uid:gid", 1)
        self.user = user
        if wait_timeout <= 0:
            raise StrataError(f"DockerTarget: wait_timeout must be a positive number of seconds, got {wait_timeout}", 1)
        self.wait_timeout = wait_timeout
        self.docker_host = docker_host
        self.compose_file = compose_file

    def with_props(self, **props: Any) -> "DockerTarget":
        if "base_image" not in props or self.base_image_given:
            return self
        changed = copy.copy(self)
        changed.base_image = props["base_image"]
        return changed

    def kb_dir(self, root: Path) -> Path:
        """The host KB directory: ``workspace_path``, relative to the project root."""
        return workspace_dir(self.workspace_path, root)

    def host_port(self, agent_name: str, port: int) -> int:
        return self.host_ports.get(agent_name, port)

    def url(self, host_port: int) -> str:
        """The agent's URL on the host: its published port on the bind address (loopback for "any")."""
        address = ipaddress.ip_address(self.bind_address)
        if address.is_unspecified:
            address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
        host = f"[{address}]" if address.version == 6 else str(address)
        return f"http://{host}:{host_port}"

    # -- checks and resources -------------------------------------------------------------------------

    def checks(self, loaded: "LoadedStack") -> list[Diagnostic]:
        return list(self._conflicts(loaded))

    def render(self, stack: "AgentStack") -> None:
        from agentstrata.targets.docker.resources import render_docker

        loaded = stack.source.loaded
        problems = self.checks(loaded)
        if problems:
            raise SpecError(problems)
        kb_dir = self.kb_dir(stack.root)
        if stack_uses_workspace(loaded.stack.agent_specs) and not kb_dir.is_dir():
            stack.warn(loaded.diagnostic(("deployment",), f"KB directory {kb_dir} does not exist: Docker will "
                                         "refuse to mount it when the stack is applied", severity="warning"))
        render_docker(self, stack)

    def _conflicts(self, loaded: "LoadedStack") -> Iterator[Diagnostic]:
        """Props that cannot hold together on one Docker engine, each naming both sides."""
        spec = loaded.stack
        names = [a.name for a in spec.agent_specs]
        for agent in self.host_ports:
            if agent not in names:
                close = difflib.get_close_matches(agent, names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                yield loaded.diagnostic(("stack", "agents"), f"DockerTarget host_ports names unknown agent "
                                        f"{agent!r}{hint}", "D001")
        bound: dict[int, str] = {}
        for agent in spec.agent_specs:
            here = loaded.agent_loc(agent.name)
            host_port = self.host_port(agent.name, agent.port or 0)
            how = f"host port {host_port}" + (" (DockerTarget host_ports)" if agent.name in self.host_ports else "")
            # Two agents' own ports clashing is S003's finding; here only what host_ports adds.
            if host_port in bound and (agent.name in self.host_ports or bound[host_port] in self.host_ports):
                yield loaded.diagnostic(here + ("port",), f"{how} is bound twice: by agent {bound[host_port]!r} "
                                        f"and by agent {agent.name!r}", "D002")
            bound.setdefault(host_port, agent.name)
            for key in agent.env:
                if key in TARGET_ENV:
                    yield loaded.diagnostic(here + ("env", key), f"env {key!r} of agent {agent.name!r} conflicts "
                                            f"with the docker target's {key}={TARGET_ENV[key]}", "D003", key=True)
            memory = agent.resources.memory_bytes
            if memory is not None and memory_mib(memory) < MIN_MEMORY_MIB:
                yield loaded.diagnostic(here + ("resources", "memory"), f"memory {agent.resources.memory} is below "
                                        f"Docker's minimum of {MIN_MEMORY_MIB}Mi", "D005")
            cores = agent.resources.cpu_cores
            if cores is not None and round(cores * CPU_PERIOD_US) < 1000:
                yield loaded.diagnostic(here + ("resources", "cpu"), f"cpu {agent.resources.cpu} is below Docker's "
                                        "minimum of 0.01 cores", "D005")
            yield from self._unmounted_inputs(loaded, agent, here)
            name = container_name(spec, agent.name)
            if len(name) > MAX_CONTAINER_NAME:
                yield loaded.diagnostic(here + ("name",), f"container name {name!r} is longer than "
                                        f"{MAX_CONTAINER_NAME} characters (stack {spec.name!r} + agent "
                                        f"{agent.name!r}); shorten either", "D006")

    def _unmounted_inputs(self, loaded: "LoadedStack", agent: "AgentSpec", here: "Path_") -> Iterator[Diagnostic]:
        """D007: a ``file:`` input under ``workspace_path`` is read through the mount, which only a declaring
        agent gets."""
        if uses_workspace(agent):
            return
        kb_dir = os.path.normpath(self.kb_dir(loaded.root))
        for index, declared in enumerate(agent.interface.inputs):
            if declared.source_kind != "file" or "$" in declared.source_target:
                continue
            path = Path(os.path.expanduser(declared.source_target))
            path = Path(os.path.normpath(path if path.is_absolute() else loaded.root / path))
            if path.is_relative_to(kb_dir):
                yield loaded.diagnostic(here + ("interface", "inputs", index, "source"), (
                    f"input {declared.name!r} reads {declared.source_target!r}, under the workspace "
                    f"({self.workspace_path}), which agent {agent.name!r} does not declare: add 'workspace: read' "
                    "to the agent"), "D007")

    def for_stack(self, loaded: "LoadedStack", *, teardown: bool) -> "DockerTarget":
        """With ``host_ports`` for every agent: free on the engine for those without a port, kept from the last
        deploy; a fixed port another stack's container holds is refused here, before anything is created."""
        from agentstrata.targets.docker.host_ports import plan_host_ports

        planned = copy.copy(self)
        planned.host_ports = plan_host_ports(self, loaded, teardown=teardown)
        return planned

    # -- lifecycle hooks ------------------------------------------------------------------------------

    def prepare_machine(self, layout: "Layout", runner: "StepRunner", *, teardown: bool) -> dict[str, Any]:
        """The engine always; for a deploy also the base image and the runtime image's build context."""
        from agentstrata.deploy.base_image import ensure_base_image
        from agentstrata.deploy.engine import ensure_engine
        from agentstrata.deploy.wheelhouse import ensure_runtime_context

        ensure_engine(layout, runner)
        if teardown:
            return {}
        base_image = ensure_base_image(layout, runner)
        ensure_runtime_context(layout, runner, base_image)
        return {"base_image": base_image}

    def recover_leftovers(self, session: TerraformSession, stack: "SynthesizedStack") -> list[str]:
        from agentstrata.targets.docker.orphans import find_orphans, remove_orphans

        orphans = find_orphans(stack)
        if not orphans:
            return []
        remove_orphans(orphans)
        return ["removed what an interrupted run created but never recorded: "
                + ", ".join(f"{o.kind} {o.name}" for o in orphans)]

    def state_addresses(self, stack: "SynthesizedStack") -> dict[str, str]:
        return {f"docker_volume.{tf_id}": name for tf_id, name in stack.literal_names("docker_volume").items()}

    def purge_state(self, stack: "SynthesizedStack", names: list[str]) -> list[str]:
        from agentstrata.deploy.synthesized_stack import tracked_ids

        tracked = tracked_ids(stack.state_path, "docker_volume")
        removed = []
        for name in names:
            done = subprocess.run(["docker", "volume", "rm", name], capture_output=True, text=True, timeout=60)
            if done.returncode == 0 or name in tracked:
                removed.append(name)
        return removed

    def existing_state(self, names: list[str]) -> list[str]:
        return [name for name in names if _docker_ok(["volume", "inspect", name])]

    def runs_as_name(self, loaded: "LoadedStack", agent: str) -> str:
        return container_name(loaded.stack, agent)

    def agent_states(self, loaded: "LoadedStack") -> dict[str, tuple[str, int]]:
        """Each container's state and restart count, from ``docker inspect``."""
        names = {container_name(loaded.stack, a.name): a.name for a in loaded.stack.agent_specs}
        try:
            done = subprocess.run(["docker", "inspect", "--format", "{{.Name}} {{.State.Status}} {{.RestartCount}}",
                                   *names], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return {}
        states = {}
        for line in done.stdout.splitlines():
            name, status, restarts = line.split()
            states[names[name.lstrip("/")]] = (status, int(restarts))
        for name, agent in names.items():
            states.setdefault(agent, ("absent", 0))
        return states

    def logs(self, loaded: "LoadedStack", agent: str, *, lines: int, follow: bool) -> Iterator[str]:
        argv = ["docker", "logs", "--tail", str(lines), *(["--follow"] if follow else []),
                container_name(loaded.stack, agent)]
        try:
            process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        except OSError as exc:
            raise StrataError(f"cannot run `docker logs`: {exc.strerror or exc}; run `strata setup`", 1) from None
        with process:
            assert process.stdout is not None
            try:
                yield from process.stdout
            finally:
                # A reader that stops early (`strata logs -f | head`) must not wait for docker's next line.
                if process.poll() is None:
                    process.terminate()
        if process.returncode not in (0, None, -2, -15):
            raise StrataError(f"`{' '.join(argv)}` exited with status {process.returncode}", 1)

    def export(self, loaded: "LoadedStack", fmt: str, out: Path | None) -> ExportResult:
        from agentstrata.targets.docker.compose import export_compose

        written = export_compose(loaded, self, out)
        folder = next(iter(written.spec_files.values())).parent
        return ExportResult([written.compose_file, folder], [
            f"wrote {written.compose_file} (services: {', '.join(written.document['services'])})",
            f"wrote {folder}/ (the stack file of each container)",
        ])


def _docker_ok(args: list[str]) -> bool:
    try:
        return subprocess.run(["docker", *args], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
