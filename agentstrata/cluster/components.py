"""The five processes of a local cluster, in start order: their command lines and health URLs.

Every port is on 127.0.0.1. Every HTTPS port serves the cluster's own serving certificate, so
that health checks verify it against the cluster CA like any client would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agentstrata.cluster.certificates import Certificates
from agentstrata.cluster.paths import ClusterPaths

#: Services get IPs from here; 10.0.0.1 (the `kubernetes` Service) is in the serving certificate.
SERVICE_CIDR = "10.0.0.0/24"
#: kwok gives pods IPs from here (it simulates them: nothing listens there).
POD_CIDR = "10.244.0.1/24"
#: The annotation that marks the Node objects kwok plays the kubelet of.
FAKE_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")


@dataclass(frozen=True)
class Launch:
    """What the command lines are made of."""

    bin_dir: Path
    paths: ClusterPaths
    certs: Certificates
    token_file: Path
    kwok_stages: Path
    ports: dict[str, int]


@dataclass(frozen=True)
class Component:
    name: str
    #: The names of the ports it listens on; the first is the one users see.
    ports: tuple[str, ...]
    #: Its health endpoint: scheme and path on its first port.
    health: str
    arguments: Callable[[Launch], list[str]]

    def argv(self, launch: Launch) -> list[str]:
        return [str(launch.bin_dir / self.name), *self.arguments(launch)]

    def health_url(self, ports: dict[str, int]) -> str:
        scheme, path = self.health.split(":", 1)
        return f"{scheme}://127.0.0.1:{ports[self.ports[0]]}{path}"


def _etcd(launch: Launch) -> list[str]:
    client = f"http://127.0.0.1:{launch.ports['etcd']}"
    peer = f"http://127.0.0.1:{launch.ports['etcd-peer']}"
    return [
        "--name=strata", f"--data-dir={launch.paths.etcd_data}",
        f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}", f"--initial-cluster=strata={peer}",
        "--log-level=warn",
    ]


def _apiserver(launch: Launch) -> list[str]:
    certs = launch.certs
    return [
        f"--etcd-servers=http://127.0.0.1:{launch.ports['etcd']}",
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
        f"--secure-port={launch.ports['kube-apiserver']}",
        f"--tls-cert-file={certs.serving_cert}", f"--tls-private-key-file={certs.serving_key}",
        f"--client-ca-file={certs.ca_cert}", f"--token-auth-file={launch.token_file}",
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc",
        f"--service-account-key-file={certs.service_account_public_key}",
        f"--service-account-signing-key-file={certs.service_account_key}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        # No endpoints for the `kubernetes` Service: no pod here can reach 127.0.0.1 anyway.
        "--endpoint-reconciler-type=none",
        f"--cert-dir={launch.paths.pki / 'kube-apiserver'}",
    ]


def _serving(launch: Launch, name: str) -> list[str]:
    """What the controller manager and the scheduler share: kubeconfig, port, certificate, no election."""
    return [
        f"--kubeconfig={launch.paths.kubeconfig}", "--leader-elect=false",
        "--bind-address=127.0.0.1", f"--secure-port={launch.ports[name]}",
        f"--tls-cert-file={launch.certs.serving_cert}", f"--tls-private-key-file={launch.certs.serving_key}",
    ]


def _controller_manager(launch: Launch) -> list[str]:
    certs = launch.certs
    return [
        *_serving(launch, "kube-controller-manager"),
        f"--service-account-private-key-file={certs.service_account_key}",
        f"--root-ca-file={certs.ca_cert}",
        f"--cluster-signing-cert-file={certs.ca_cert}", f"--cluster-signing-key-file={certs.ca_key}",
    ]


def _scheduler(launch: Launch) -> list[str]:
    return _serving(launch, "kube-scheduler")


def _kwok(launch: Launch) -> list[str]:
    key, value = FAKE_NODE_ANNOTATION
    return [
        f"--kubeconfig={launch.paths.kubeconfig}", f"--config={launch.kwok_stages}",
        "--manage-all-nodes=false", f"--manage-nodes-with-annotation-selector={key}={value}",
        "--node-ip=127.0.0.1", f"--cidr={POD_CIDR}",
        f"--server-address=127.0.0.1:{launch.ports['kwok']}",
    ]


ETCD = Component("etcd", ("etcd", "etcd-peer"), "http:/health", _etcd)
APISERVER = Component("kube-apiserver", ("kube-apiserver",), "https:/readyz", _apiserver)
CONTROLLER_MANAGER = Component("kube-controller-manager", ("kube-controller-manager",), "https:/healthz",
                               _controller_manager)
SCHEDULER = Component("kube-scheduler", ("kube-scheduler",), "https:/healthz", _scheduler)
KWOK = Component("kwok", ("kwok",), "http:/healthz", _kwok)

#: In start order: etcd, then the API server, then what talks to it.
COMPONENTS: tuple[Component, ...] = (ETCD, APISERVER, CONTROLLER_MANAGER, SCHEDULER, KWOK)
