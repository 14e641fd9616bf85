"""What each component of the local cluster is doing: ready, not ready, exited or stopped.

A component that was started and is no longer running is ``exited``, with the last line of its
log: a crash is reported, never taken for a cluster that is down.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from agentstrata.cluster.certificates import Certificates
from agentstrata.cluster.components import APISERVER, COMPONENTS
from agentstrata.cluster.fake_node import NODE_NAME, node_ready
from agentstrata.cluster.health import probe
from agentstrata.cluster.kube_api import api_client, cluster_ssl_context
from agentstrata.cluster.paths import ClusterPaths
from agentstrata.cluster.state import read_state
from agentstrata.cluster.tokens import read_admin_token


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    port: int | None
    #: ready | not ready | exited | stopped
    state: str
    detail: str | None
    log: Path

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "pid": self.pid, "port": self.port, "state": self.state,
                "detail": self.detail, "log": str(self.log)}


@dataclass(frozen=True)
class ClusterStatus:
    components: list[ComponentStatus]
    server: str | None
    kubeconfig: Path
    node: str
    node_ready: bool

    @property
    def up(self) -> bool:
        """Whether it was started and not brought down (crashed components included)."""
        return any(c.state != "stopped" for c in self.components)

    @property
    def healthy(self) -> bool:
        return all(c.state == "ready" for c in self.components) and self.node_ready

    def as_dict(self) -> dict[str, object]:
        return {"up": self.up, "healthy": self.healthy, "server": self.server, "kubeconfig": str(self.kubeconfig),
                "node": {"name": self.node, "ready": self.node_ready},
                "components": [c.as_dict() for c in self.components]}


def cluster_status(paths: ClusterPaths) -> ClusterStatus:
    state = read_state(paths)
    certs = Certificates(paths.pki)
    ca = cluster_ssl_context(certs.ca_cert) if certs.ca_cert.is_file() else None
    components = []
    for component in COMPONENTS:
        ref = state.processes.get(component.name)
        port = state.ports.get(component.ports[0])
        log = paths.log(component.name)
        if ref is None:
            components.append(ComponentStatus(component.name, None, port, "stopped", None, log))
        elif not ref.alive():
            components.append(ComponentStatus(component.name, ref.pid, port, "exited", _last_line(log), log))
        else:
            why = probe(component, state.ports, ca) if ca is not None else "its certificates are missing"
            components.append(ComponentStatus(component.name, ref.pid, port, "not ready" if why else "ready", why, log))
    apiserver_port = state.ports.get(APISERVER.ports[0])
    server = f"https://127.0.0.1:{apiserver_port}" if apiserver_port else None
    token = read_admin_token(paths.token_file)
    ready = False
    if server and token and components[COMPONENTS.index(APISERVER)].state == "ready":
        try:
            with api_client(server, certs.ca_cert, token) as api:
                ready = node_ready(api)
        except httpx.HTTPError:
            ready = False
    return ClusterStatus(components, server, paths.kubeconfig, NODE_NAME, ready)


def _last_line(log: Path) -> str | None:
    try:
        lines = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return None
    return lines[-1][-300:] if lines else None
