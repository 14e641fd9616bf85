"""The ``deployment.kubernetes`` block of a stack file.

Every field has a default, so the seed's block (``namespace: "kb-conduit-agents"`` alone) stays
valid; ``image`` is the one a deploy cannot do without, and saying so is the deploy's job (a stack
file that only allows the target still validates).
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from agentstrata.schema import AGENT_NAME_PATTERN, MEMORY_PATTERN, StrictModel

#: A DNS label (RFC 1123): namespaces, and the claims and objects named after them.
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
#: A DNS subdomain (RFC 1123): PersistentVolumeClaim and StorageClass names.
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
#: A label key (optional DNS-subdomain prefix and '/') and a label value, as the API server checks them.
LABEL_KEY_PATTERN = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
LABEL_VALUE_PATTERN = r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"

ProviderProfileName = Literal["1.13", "2"]
#: The kubeconfig the provider and Strata read when neither KUBECONFIG nor the ``kubeconfig`` prop names one.
DEFAULT_KUBECONFIG = "~/.kube/config"
Labels = dict[
    Annotated[str, Field(pattern=LABEL_KEY_PATTERN, max_length=317)],
    Annotated[str, Field(pattern=LABEL_VALUE_PATTERN, max_length=63)],
]


class UiIngress(StrictModel):
    """Who may open the agents' marimo UI: pods matching a namespace and/or pod selector."""

    namespace_labels: Labels | None = Field(
        default=None, description="Namespaces whose pods may connect (matchLabels); with pod_labels, both must match."
    )
    pod_labels: Labels | None = Field(
        default=None, description="Pods that may connect (matchLabels); alone: pods of the agents' own namespace."
    )
    agents: list[Annotated[str, Field(pattern=AGENT_NAME_PATTERN)]] | None = Field(
        default=None, description="The agents whose UI port they may reach; default: every agent."
    )

    @model_validator(mode="after")
    def _a_selector(self) -> "UiIngress":
        if not self.namespace_labels and not self.pod_labels:
            raise ValueError("name the peer: namespace_labels, pod_labels or both")
        return self


class KubernetesDeployment(StrictModel):
    namespace: str = Field(
        default="strata-agents",
        pattern=DNS_LABEL_PATTERN,
        max_length=63,
        description="Namespace the agents run in.",
    )
    create_namespace: bool = Field(
        default=True,
        description="Create the namespace, labelled for Pod Security; false: deploy into an existing one.",
    )
    image: str | None = Field(
        default=None,
        min_length=1,
        pattern=r"^\S+$",
        description="The runtime image in your registry, e.g. registry.example.com/strata-runtime:1.0; "
        "a deploy needs it (STRATA_KUBERNETES_IMAGE sets it from the environment).",
    )
    provider_profile: ProviderProfileName = Field(
        default="1.13",
        description="'1.13': hashicorp/kubernetes 1.13.4, the version `strata setup` builds; the namespace "
        "enforces Pod Security 'baseline' and warns about 'restricted'. '2': 2.38.0 from a registry; pods set "
        "seccomp RuntimeDefault and the namespace enforces 'restricted'.",
    )
    context: str | None = Field(default=None, min_length=1, description="Kubeconfig context; default: its current one.")
    wait_for_rollout: bool = Field(
        default=True, description="Terraform waits for each Deployment's rollout (bounded by rollout_timeout)."
    )
    rollout_timeout: int = Field(
        default=300, ge=10, le=3600, description="Seconds a Deployment may take to roll out before the deploy fails."
    )
    kb_claim: str | None = Field(
        default=None,
        pattern=DNS_SUBDOMAIN_PATTERN,
        max_length=253,
        description="An existing PersistentVolumeClaim holding the KB, mounted read-only at /kb-conduit by "
        "the agents that read it; default: one is created (kept by destroy unless --purge).",
    )
    kb_claim_size: str = Field(default="1Gi", pattern=MEMORY_PATTERN, description="Size of the KB claim created.")
    state_claim_size: str | None = Field(
        default=None,
        pattern=MEMORY_PATTERN,
        description="Give each agent a PersistentVolumeClaim of this size for its state (kept by destroy "
        "unless --purge); default: an emptyDir, lost with the pod.",
    )
    storage_class: str | None = Field(
        default=None,
        pattern=DNS_SUBDOMAIN_PATTERN,
        max_length=253,
        description="StorageClass of the claims created; default: the cluster's default class.",
    )
    ui_ingress_from: UiIngress | None = Field(
        default=None, description="A peer allowed to reach the agents' UI port; default: none."
    )
    manifests_dir: str = Field(
        default="k8s", min_length=1, description="Where `strata export k8s` writes, relative to the project root."
    )

    @field_validator("provider_profile", mode="before")
    @classmethod
    def _profile_number(cls, value: Any) -> Any:
        # `provider_profile: 2` is as natural in YAML as `provider_profile: "2"`.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{value:g}"
        return value


class KubernetesProps(KubernetesDeployment):
    """Everything ``KubernetesTarget`` takes: the file's settings, plus what belongs to the machine deploying."""

    kubeconfig: str = Field(
        default=DEFAULT_KUBECONFIG, min_length=1,
        description="The kubeconfig file (one: the provider reads one); the CLI takes KUBECONFIG.",
    )

    @field_validator("kubeconfig")
    @classmethod
    def _one_file(cls, value: str) -> str:
        if os.pathsep in value:
            raise ValueError(f"names several files ({value!r}); the provider reads one: name the one to use")
        return value
