"""An agent's Service: a stable in-cluster name for its pod, on the agent's own port."""

from __future__ import annotations

from agentstrata.targets.kubernetes.kube_object import KubeObject
from agentstrata.targets.kubernetes.naming import agent_labels, object_name, selector

PORT_NAME = "http"


def service_object(stack: str, agent: str, namespace: str, port: int,
                   depends_on: tuple[tuple[str, str], ...]) -> KubeObject:
    manifest = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": object_name(stack, agent), "namespace": namespace, "labels": agent_labels(stack, agent)},
        "spec": {
            "type": "ClusterIP",
            "selector": selector(stack, agent),
            "ports": [{"name": PORT_NAME, "port": port, "targetPort": port, "protocol": "TCP"}],
        },
    }
    return KubeObject("service", agent, manifest, depends_on, agent=agent)
