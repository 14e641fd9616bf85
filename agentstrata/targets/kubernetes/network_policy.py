"""Layer isolation on the wire: one NetworkPolicy per agent, drawn from the dependency graph.

An agent's pods accept connections only from the agents that read from it (and, on request, from
a UI peer the user names), on the agent's port; they connect only to the agents they read from,
each on its port, and to the cluster DNS. "Each layer only knows about layers below it" then holds
in the cluster, wherever a network plugin enforces NetworkPolicies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentstrata.targets.kubernetes.kube_object import KubeObject
from agentstrata.targets.kubernetes.naming import agent_labels, object_name, selector
from agentstrata.targets.kubernetes.settings import UiIngress

#: Cluster DNS as kubeadm, kind, k3s and the managed clusters run it: kube-dns pods in kube-system.
DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
DNS_PORTS = [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]


def network_policy_object(stack: str, agent: str, namespace: str, port: int, consumers: list[str],
                          upstream_ports: Mapping[str, int], ui: UiIngress | None,
                          depends_on: tuple[tuple[str, str], ...]) -> KubeObject:
    """``consumers``: the agents that read from ``agent``; ``upstream_ports``: those it reads from, with their
    ports; ``ui``: the UI peer, if it may reach this agent."""
    ingress: list[dict[str, Any]] = []
    if consumers:
        ingress.append({"from": [{"podSelector": {"matchLabels": selector(stack, c)}} for c in consumers],
                        "ports": [_tcp(port)]})
    if ui is not None:
        peer: dict[str, Any] = {}
        if ui.namespace_labels:
            peer["namespaceSelector"] = {"matchLabels": dict(ui.namespace_labels)}
        if ui.pod_labels:
            peer["podSelector"] = {"matchLabels": dict(ui.pod_labels)}
        ingress.append({"from": [peer], "ports": [_tcp(port)]})
    egress: list[dict[str, Any]] = [
        {"to": [{"podSelector": {"matchLabels": selector(stack, upstream)}}], "ports": [_tcp(upstream_port)]}
        for upstream, upstream_port in upstream_ports.items()
    ]
    egress.append({"to": [dict(DNS_PEER)], "ports": [dict(p) for p in DNS_PORTS]})
    manifest = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": object_name(stack, agent), "namespace": namespace, "labels": agent_labels(stack, agent)},
        "spec": {
            "podSelector": {"matchLabels": selector(stack, agent)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }
    return KubeObject("network_policy", agent, manifest, depends_on, agent=agent)


def _tcp(port: int) -> dict[str, Any]:
    return {"port": port, "protocol": "TCP"}
