"""The ``docker_container`` of one agent: how it runs, what it sees, and how it is locked down.

Every attribute is written the way kreuzwerker/docker (4.6.0, the version the project mirrors)
reads it back, so a plan right after an apply shows no changes (checked against a real engine):

- ``env`` sorted, ``command`` as an exec list, ``user`` and ``network_mode`` explicit, healthcheck
  durations in Go's own format ("30s", never "60s", which reads back as "1m0s");
- ``memory_swap`` equal to ``memory``: left unset, Docker stores twice the memory, which reads back
  as a change on every plan;
- the CPU limit as ``cpu_quota``/``cpu_period`` (a CFS limit, exactly what ``--cpus`` sets), which
  are never read back: ``cpus`` is, normalised ("2" as "2.0", a replacement on every plan; and
  wrongly before 3.7.0). The provider cannot update them in place, so the limit is also a label,
  which makes a change replace the container;
- ``working_dir`` and ``entrypoint`` left to the image.

The notebook and the stack file are in the agent's own image (:mod:`.agent_image`), so the root
filesystem is read-only; the agent writes only to its state volume and a size-bounded ``/tmp``
(also ``HOME``, where marimo keeps its config and caches). A non-root user, no capabilities, no
privilege escalation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_docker.container import (
    ContainerLabels,
    ContainerMounts,
    ContainerPorts,
    ContainerVolumes,
)

from agentstrata.schema import AgentSpec, Policies
from agentstrata.targets.docker.environment import container_env
from agentstrata.targets.docker.limits import CPU_PERIOD_US, memory_mib
from agentstrata.wire import (
    KB_DIR,
    PROBE_TIMEOUT_SECONDS,
    STACK_FILE,
    STATE_DIR,
    ready_probe_command,
    serve_args,
)
from agentstrata.workspace import uses_workspace

TMP_OPTIONS = "rw,nosuid,nodev,size=128m"
#: Seconds an agent gets to stop (and flush its state) before it is killed on replacement or destroy.
STOP_GRACE_SECONDS = 10
#: Probed every 2 s: Terraform's `wait` and every redeploy wait for the first healthy probe.
HEALTHCHECK = {"interval": "2s", "timeout": f"{PROBE_TIMEOUT_SECONDS}s", "start_period": "30s", "retries": 10}


@dataclass(frozen=True)
class ContainerPlan:
    """Everything one agent's container needs besides the tokens of other resources."""

    stack: str
    agent: AgentSpec
    container_name: str
    volume_name: str
    host_port: int
    bind_address: str
    kb_dir: str
    upstream_urls: dict[str, str]
    policies: Policies
    user: str
    wait_timeout: int

    def env(self) -> list[str]:
        return container_env(self.agent, self.upstream_urls)

    def labels(self) -> list[ContainerLabels]:
        labels = {"strata.stack": self.stack, "strata.agent": self.agent.name, "strata.layer": str(self.agent.layer)}
        cores = self.agent.resources.cpu_cores
        if cores is not None:
            labels["strata.cpus"] = f"{cores:g}"
        return [ContainerLabels(label=key, value=value) for key, value in sorted(labels.items())]

    def mounts(self) -> list[ContainerMounts]:
        """The KB workspace, read-only, for an agent that declares ``workspace: read``; else nothing."""
        if not uses_workspace(self.agent):
            return []
        return [ContainerMounts(type="bind", source=self.kb_dir, target=str(KB_DIR), read_only=True)]

    def limits(self) -> dict[str, int]:
        limits: dict[str, int] = {}
        memory = self.agent.resources.memory_bytes
        if memory is not None:
            limits["memory"] = limits["memory_swap"] = memory_mib(memory)
        cores = self.agent.resources.cpu_cores
        if cores is not None:
            limits["cpu_period"] = CPU_PERIOD_US
            limits["cpu_quota"] = round(cores * CPU_PERIOD_US)
        return limits

    def props(self) -> dict[str, Any]:
        """Keyword arguments for the provider's ``Container``, minus image, network and ordering.

        Blocks in lists are struct instances: jsii passes plain dicts in lists through unconverted,
        and the snake_case keys of a dict (``read_only``) would silently vanish.
        """
        port = self.agent.port
        return {
            "name": self.container_name,
            "command": serve_args(str(STACK_FILE), self.agent.name, "0.0.0.0", port),
            "env": self.env(),
            "labels": self.labels(),
            "ports": [ContainerPorts(internal=port, external=self.host_port, ip=self.bind_address, protocol="tcp")],
            "mounts": self.mounts(),
            "volumes": [ContainerVolumes(volume_name=self.volume_name, container_path=str(STATE_DIR))],
            "read_only": True,
            "tmpfs": {"/tmp": TMP_OPTIONS},
            "healthcheck": {"test": ["CMD", *ready_probe_command(port)], **HEALTHCHECK},
            "restart": "unless-stopped" if self.policies.auto_restart else "no",
            "must_run": True,
            "wait": True,
            "wait_timeout": self.wait_timeout,
            "destroy_grace_seconds": STOP_GRACE_SECONDS,
            "init": True,
            "user": self.user,
            "capabilities": {"drop": ["ALL"]},
            "security_opts": ["no-new-privileges"],
            "network_mode": "bridge",
            **self.limits(),
        }

