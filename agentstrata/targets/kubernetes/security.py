"""How an agent's pod is locked down, and what its namespace admits (Pod Security admission).

Every profile: a fixed non-root uid and gid, no privilege escalation, every capability dropped,
a read-only root filesystem, no service-account token. Profile "2" adds seccomp ``RuntimeDefault``,
which is what Pod Security "restricted" still needs; see :mod:`.profiles`.
"""

from __future__ import annotations

from typing import Any

from agentstrata.targets.kubernetes.profiles import ProviderProfile
from agentstrata.wire import AGENT_UID

_POD_SECURITY = "pod-security.kubernetes.io"


def pod_security_labels(profile: ProviderProfile) -> dict[str, str]:
    """The namespace labels of Pod Security admission: enforce the profile's level, warn and audit its goal."""
    return {f"{_POD_SECURITY}/enforce": profile.enforce, f"{_POD_SECURITY}/warn": profile.warn,
            f"{_POD_SECURITY}/audit": profile.warn}


def pod_security_context(profile: ProviderProfile) -> dict[str, Any]:
    """The pod's: its uid and gid, and the group that owns its volumes (so the agent can write its state claim)."""
    context: dict[str, Any] = {"runAsNonRoot": True, "runAsUser": AGENT_UID, "runAsGroup": AGENT_UID,
                               "fsGroup": AGENT_UID}
    if profile.seccomp:
        context["seccompProfile"] = {"type": "RuntimeDefault"}
    return context


def container_security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": AGENT_UID,
        "capabilities": {"drop": ["ALL"]},
    }
