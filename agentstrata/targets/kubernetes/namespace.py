"""The stack's Namespace, when the target creates it: labelled for Pod Security admission."""

from __future__ import annotations

from agentstrata.targets.kubernetes.kube_object import KubeObject
from agentstrata.targets.kubernetes.naming import stack_labels
from agentstrata.targets.kubernetes.profiles import ProviderProfile
from agentstrata.targets.kubernetes.security import pod_security_labels

ADDRESS = "namespace"


def namespace_object(stack: str, namespace: str, profile: ProviderProfile, *, keeps_state: bool) -> KubeObject:
    """``keeps_state``: the namespace holds claims destroy keeps, so it stays with them."""
    manifest = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": {**stack_labels(stack), **pod_security_labels(profile)}},
    }
    return KubeObject("namespace", ADDRESS, manifest, keeps_state=keeps_state)
