"""The two provider profiles: which hashicorp/kubernetes a stack pins, and the Pod Security level it reaches.

Pod Security "restricted" needs ``securityContext.seccompProfile.type: RuntimeDefault`` (kube-apiserver
1.34 no longer reads the old seccomp annotations). hashicorp/kubernetes 1.13.4, the only version the
Go module proxy serves and so the one `strata setup` builds into the mirror, has no field for it;
2.x, from a registry, has. Hence:

- ``"1.13"`` (default): pins 1.13.4; pods have every other "restricted" control, and the namespace
  enforces "baseline" while warning about and auditing "restricted" (the warning names the seccomp gap);
- ``"2"``: pins 2.38.0 (the version of the prebuilt bindings the JSON is checked against); pods set
  seccomp RuntimeDefault and the namespace enforces "restricted". Its resources are the ``_v1`` types,
  2.x's current names.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentstrata.targets.kubernetes.settings import ProviderProfileName
from agentstrata.targets.kubernetes.toolchain import KUBERNETES_PROVIDER

BASELINE = "baseline"
RESTRICTED = "restricted"


@dataclass(frozen=True)
class ProviderProfile:
    name: ProviderProfileName
    #: What ``terraform.required_providers.kubernetes.version`` pins.
    provider_version: str
    #: The Pod Security level the namespace enforces, and the one it warns about and audits.
    enforce: str
    warn: str
    #: Whether pods set ``seccompProfile: RuntimeDefault`` (the provider has the field).
    seccomp: bool
    #: Appended to each resource type: 2.x names the current types ``kubernetes_deployment_v1``...
    type_suffix: str
    #: 1.x reads ``~/.kube/config`` only when told to (its default silently ignores ``config_path``);
    #: 2.x has no such switch.
    load_config_file: bool

    def resource_type(self, kind: str) -> str:
        """``deployment`` -> ``kubernetes_deployment`` (1.13) or ``kubernetes_deployment_v1`` (2)."""
        return f"kubernetes_{kind}{self.type_suffix}"


PROFILES: dict[str, ProviderProfile] = {
    "1.13": ProviderProfile("1.13", KUBERNETES_PROVIDER.version, BASELINE, RESTRICTED, seccomp=False, type_suffix="",
                            load_config_file=True),
    "2": ProviderProfile("2", "2.38.0", RESTRICTED, RESTRICTED, seccomp=True, type_suffix="_v1",
                         load_config_file=False),
}
