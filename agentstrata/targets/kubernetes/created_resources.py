"""What the Kubernetes target creates, as typed escape hatches (see :mod:`agentstrata.constructs.escape_hatches`).

``stack.agents["debriefer"].deployment`` is the agent's Deployment resource; ``stack.namespace`` the
stack's Namespace (None when the stack deploys into an existing one). The lean resource classes
are imported for type checkers only: this module loads no cdktf.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentstrata.constructs.target_resources import TargetResources

if TYPE_CHECKING:
    from cdktf import TerraformOutput

    from agentstrata.targets.kubernetes.lean_resources import (
        ConfigMap,
        Deployment,
        KubernetesProvider,
        Namespace,
        NetworkPolicy,
        PersistentVolumeClaim,
        Service,
    )


@dataclass(frozen=True)
class KubernetesAgentResources(TargetResources):
    """One agent's: its ConfigMap (notebook and spec), Deployment, Service, NetworkPolicy, the output with its
    in-cluster URL, and its state claim (None: its state is an emptyDir)."""

    config_map: ConfigMap
    deployment: Deployment
    service: Service
    network_policy: NetworkPolicy
    url: TerraformOutput
    state_claim: PersistentVolumeClaim | None


@dataclass(frozen=True)
class KubernetesStackResources(TargetResources):
    """The stack's: the provider, its Namespace (None: brought by the user) and the KB claim it created
    (None: no agent reads the KB, or the stack brings its claim)."""

    provider: KubernetesProvider
    namespace: Namespace | None
    kb_claim: PersistentVolumeClaim | None
