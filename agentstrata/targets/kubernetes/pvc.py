"""The PersistentVolumeClaims the target creates: the KB's (unless the stack brings one) and, on request,
one per agent for its state. Both hold data, so destroy keeps them unless purging."""

from __future__ import annotations

from typing import Any

from agentstrata.targets.kubernetes.kube_object import KubeObject
from agentstrata.targets.kubernetes.naming import agent_labels, kb_claim_name, stack_labels, state_claim_name
from agentstrata.targets.kubernetes.quantities import canonical_memory

KB_ADDRESS = "kb_claim"
#: One node mounts it at a time: what every storage provisioner offers.
ACCESS_MODES = ["ReadWriteOnce"]


def state_address(agent: str) -> str:
    return f"{agent}_state"


def kb_claim_object(stack: str, namespace: str, size: str, storage_class: str | None,
                    depends_on: tuple[tuple[str, str], ...]) -> KubeObject:
    manifest = _claim(kb_claim_name(stack), namespace, stack_labels(stack), size, storage_class)
    return KubeObject("persistent_volume_claim", KB_ADDRESS, manifest, depends_on, keeps_state=True)


def state_claim_object(stack: str, agent: str, namespace: str, size: str, storage_class: str | None,
                       depends_on: tuple[tuple[str, str], ...]) -> KubeObject:
    manifest = _claim(state_claim_name(stack, agent), namespace, agent_labels(stack, agent), size, storage_class)
    return KubeObject("persistent_volume_claim", state_address(agent), manifest, depends_on, keeps_state=True,
                      agent=agent)


def _claim(name: str, namespace: str, labels: dict[str, str], size: str, storage_class: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": list(ACCESS_MODES), "resources": {"requests": {"storage": canonical_memory(size)}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
    }
