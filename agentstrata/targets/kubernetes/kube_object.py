"""One Kubernetes object of a stack: the in-memory model both the Terraform resources and the manifests come from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Kinds, by the provider's name for them (``kubernetes_<kind>``), in the order they are applied.
KINDS = ("namespace", "persistent_volume_claim", "config_map", "service", "network_policy", "deployment")
#: The provider's name of a kind -> the API's (what messages call it).
API_KINDS = {"namespace": "Namespace", "persistent_volume_claim": "PersistentVolumeClaim", "config_map": "ConfigMap",
             "service": "Service", "network_policy": "NetworkPolicy", "deployment": "Deployment"}


@dataclass(frozen=True)
class KubeObject:
    #: The provider's name of its kind (``deployment`` for ``kubernetes_deployment``).
    kind: str
    #: Its Terraform id within its type: ``namespace``, ``kb_claim``, ``debriefer``, ``debriefer_state``.
    address: str
    #: The object as the API server takes it: ``apiVersion``, ``kind``, ``metadata``, ``spec``...
    manifest: dict[str, Any]
    #: ``(kind, address)`` of the objects that must exist before it.
    depends_on: tuple[tuple[str, str], ...] = ()
    #: Whether it holds agents' data: destroy keeps it unless purging.
    keeps_state: bool = False
    #: The agent it belongs to, if any.
    agent: str | None = field(default=None)

    @property
    def name(self) -> str:
        return self.manifest["metadata"]["name"]

    @property
    def namespace(self) -> str | None:
        return self.manifest["metadata"].get("namespace")
