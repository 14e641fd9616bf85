"""``DockerTarget``: each agent of a stack as a hardened container on one Docker engine.

Per stack: the provider, one network and the runtime image. Per agent: a named volume for its
state (it outlives container replacements), its container, and an output with its URL. Terraform
addresses read like the stack: ``docker_container.debriefer``, ``docker_volume.debriefer_state``,
``output.debriefer_url``.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from cdktf import TerraformOutput
from cdktf_cdktf_provider_docker.container import Container, ContainerNetworksAdvanced
from cdktf_cdktf_provider_docker.network import Network
from cdktf_cdktf_provider_docker.provider import DockerProvider
from cdktf_cdktf_provider_docker.volume import Volume

from agentstrata.constructs.packaged_spec import PackagedSpecs
from agentstrata.constructs.start_order import start_after, upstreams
from agentstrata.constructs.targets.docker.container import (
    CPU_PERIOD_US,
    MIN_MEMORY_MIB,
    RESERVED_ENV,
    ContainerPlan,
    memory_mib,
    upstream_env_var,
)
from agentstrata.constructs.targets.docker.image import runtime_image
from agentstrata.errors import Diagnostic, SpecError, StrataError
from agentstrata.loader import LoadedStack
from agentstrata.schema import Deployment, DockerDeployment, StackSpec, dns_label

if TYPE_CHECKING:
    from agentstrata.constructs.agent_stack import AgentStack

BASE_IMAGE_ENV = "STRATA_BASE_IMAGE"
DEFAULT_BASE_IMAGE = "python:3.11-slim"
DEFAULT_USER = "10001:10001"
#: Seconds Terraform waits for a new container to report healthy (its healthcheck starts after 30 s).
DEFAULT_WAIT_TIMEOUT = 120
KB_ROOT_ENV = "KB_CONDUIT_ROOT"
#: The provider version the project's mirror serves (agentstrata.deploy.toolchain.DOCKER_PROVIDER, kept in
#: step by a test): the bindings are generated for 3.6.2, whose attributes 4.6.0 still takes as they are.
PROVIDER_VERSION = "4.6.0"
#: Longest DNS label: container names are the hostnames agents reach each other by.
MAX_CONTAINER_NAME = 63
_DEFAULTS = DockerDeployment()


class DockerTarget:
    """Deploys agents as containers through the kreuzwerker/docker provider.

    ``policies.auto_restart`` becomes the restart policy and ``parallel_init`` the start order;
    ``cascade_stop`` has no Docker counterpart (a container does not stop with its upstream), though
    ``destroy`` does stop dependants before what they depend on.

    :param base_image: the runtime image's base (build arg ``BASE_IMAGE``); default: the
        ``STRATA_BASE_IMAGE`` environment variable, else ``python:3.11-slim``.
    :param bind_address: host address agents' ports are published on; only this machine by default.
    :param workspace_path: the host KB directory, mounted read-only at ``/kb-conduit``; relative to
        the project root. ``KB_CONDUIT_ROOT`` in the environment overrides it.
    :param host_ports: agent name -> host port, for agents published on another port than they serve on.
    :param user: ``uid:gid`` the agents run as (never root).
    :param wait_timeout: seconds ``apply`` waits for a new container to become healthy.
    :param docker_host: the Docker engine, e.g. ``unix:///run/docker.sock``; default: the provider's
        (``DOCKER_HOST``, else the local socket).
    """

    name: ClassVar[str] = "docker"

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
    ) -> None:
        self.base_image = base_image or os.environ.get(BASE_IMAGE_ENV) or DEFAULT_BASE_IMAGE
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

    @classmethod
    def from_deployment(cls, deployment: Deployment) -> "DockerTarget":
        """Configured by a stack file's ``deployment.docker`` block (or its defaults)."""
        settings = deployment.settings("docker")
        assert isinstance(settings, DockerDeployment)
        return cls(bind_address=settings.bind_address, workspace_path=settings.workspace_path)

    def kb_dir(self, root: Path) -> Path:
        """The host KB directory: ``KB_CONDUIT_ROOT`` if set, else ``workspace_path`` from the project root."""
        raw = os.environ.get(KB_ROOT_ENV) or self.workspace_path
        path = Path(os.path.expandvars(os.path.expanduser(raw)))
        return Path(os.path.abspath(path if path.is_absolute() else root / path))

    def host_port(self, agent_name: str, port: int) -> int:
        return self.host_ports.get(agent_name, port)

    def url(self, host_port: int) -> str:
        """The agent's URL on the host: its published port on the bind address (loopback for "any")."""
        address = ipaddress.ip_address(self.bind_address)
        if address.is_unspecified:
            address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
        host = f"[{address}]" if address.version == 6 else str(address)
        return f"http://{host}:{host_port}"

    def render(self, stack: "AgentStack") -> None:
        """The provider, the network, the image; per agent its volume, container and URL output."""
        spec, loaded, root = stack.spec, stack.source.loaded, stack.root
        problems = list(self._conflicts(spec, loaded))
        if problems:
            raise SpecError(problems)
        kb_dir = self.kb_dir(root)
        if not kb_dir.is_dir():
            stack.warn(loaded.diagnostic(("deployment",), f"KB directory {kb_dir} does not exist: Docker will "
                                         "refuse to mount it when the stack is applied", severity="warning"))
        # Stack-wide ids hold a '.', which no agent name can: agents' constructs are named after them.
        provider = DockerProvider(stack, "docker.provider", host=self.docker_host)
        stack.add_override("terraform.required_providers.docker.version", PROVIDER_VERSION)
        network = Network(stack, "docker.network", name=dns_label(spec.name))
        network.override_logical_id("network")
        image = runtime_image(stack, root, self.base_image)
        image_id, network_name = image.image_id, network.name
        specs = PackagedSpecs(spec, self.name, root, kb_dir)
        start = start_after(spec)
        ports = {a.name: a.port for a in spec.agent_specs}
        containers: dict[str, Container] = {}
        # Lower layers first: an agent's upstreams always have their container by then.
        for agent in sorted(spec.agent_specs, key=lambda a: a.layer):
            construct = stack.agents[agent.name]
            name = container_name(spec, agent.name)
            host_port = self.host_port(agent.name, agent.port)
            plan = ContainerPlan(
                stack=spec.name, agent=agent, container_name=name, volume_name=f"{name}-state",
                host_port=host_port, bind_address=self.bind_address, kb_dir=str(kb_dir),
                upstream_urls={u: f"http://{container_name(spec, u)}:{ports[u]}" for u in upstreams(agent)},
                policies=spec.policies, user=self.user, wait_timeout=self.wait_timeout,
                notebook=_read_notebook(loaded, agent.name, agent.implementation.path), spec=specs.for_agent(agent),
            )
            volume = Volume(construct, "state", name=plan.volume_name)
            volume.override_logical_id(f"{agent.name}_state")
            container = Container(
                construct, "Default", image=image_id, networks_advanced=[ContainerNetworksAdvanced(name=network_name)],
                depends_on=[volume, *(containers[u] for u in start[agent.name])], **plan.props(),
            )
            url = TerraformOutput(construct, "url", value=self.url(host_port),
                                  description=f"URL of agent {agent.name} on the host")
            url.override_logical_id(f"{agent.name}_url")
            containers[agent.name] = container
            construct.attach(container=container, volume=volume, url=url)
        stack.attach(provider=provider, network=network, image=image)

    def _conflicts(self, spec: StackSpec, loaded: LoadedStack) -> Iterator[Diagnostic]:
        """Props that cannot hold together on one Docker engine, each naming both sides."""
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
            host_port = self.host_port(agent.name, agent.port)
            how = f"host port {host_port}" + (" (DockerTarget host_ports)" if agent.name in self.host_ports else "")
            if host_port in bound:
                yield loaded.diagnostic(here + ("port",), f"{how} is bound twice: by agent {bound[host_port]!r} "
                                        f"and by agent {agent.name!r}", "D002")
            bound.setdefault(host_port, agent.name)
            for key in agent.env:
                if key in RESERVED_ENV or (key.startswith("STRATA_UPSTREAM_") and key.endswith("_URL")):
                    value = RESERVED_ENV.get(key, "an upstream agent's URL")
                    yield loaded.diagnostic(here + ("env", key), f"env {key!r} of agent {agent.name!r} conflicts "
                                            f"with the docker target's {key}={value}", "D003", key=True)
            variables: dict[str, str] = {}
            for upstream in upstreams(agent):
                variable = upstream_env_var(upstream)
                if variable in variables:
                    yield loaded.diagnostic(here + ("name",), f"upstream agents {variables[variable]!r} and "
                                            f"{upstream!r} of agent {agent.name!r} both map to {variable}", "D004")
                variables[variable] = upstream
            memory = agent.resources.memory_bytes
            if memory is not None and memory_mib(memory) < MIN_MEMORY_MIB:
                yield loaded.diagnostic(here + ("resources", "memory"), f"memory {agent.resources.memory} is below "
                                        f"Docker's minimum of {MIN_MEMORY_MIB}Mi", "D005")
            cores = agent.resources.cpu_cores
            if cores is not None and round(cores * CPU_PERIOD_US) < 1000:
                yield loaded.diagnostic(here + ("resources", "cpu"), f"cpu {agent.resources.cpu} is below Docker's "
                                        "minimum of 0.01 cores", "D005")
            name = container_name(spec, agent.name)
            if len(name) > MAX_CONTAINER_NAME:
                yield loaded.diagnostic(here + ("name",), f"container name {name!r} is longer than "
                                        f"{MAX_CONTAINER_NAME} characters (stack {spec.name!r} + agent "
                                        f"{agent.name!r}); shorten either", "D006")


def container_name(spec: StackSpec, agent: str) -> str:
    """``kb-conduit`` + ``kb_base`` -> ``kb-conduit-kb-base``: unique on the engine, and a hostname."""
    return f"{dns_label(spec.name)}-{dns_label(agent)}"


def _read_notebook(loaded: LoadedStack, agent: str, relative: str) -> str:
    path = loaded.resolve(relative)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        loc = loaded.agent_loc(agent) + ("implementation", "path")
        raise SpecError([loaded.diagnostic(loc, f"cannot read notebook {path}: {exc}")]) from None
