"""Lean cdktf classes for the six hashicorp/kubernetes resource kinds the target writes, and its provider.

The prebuilt bindings (cdktf-cdktf-provider-kubernetes) take about 4 s and 300 MB to import, for
hundreds of resource types; a stack uses six. These classes are ``TerraformResource`` subclasses
whose ``synthesize_attributes`` returns the attributes directly, converted from the object's
manifest (:class:`~.kube_object.KubeObject`) by the declared schema below: which attribute of the
provider holds which field of the API object, with its Terraform type and nesting.

The declaration is the subset of the provider's schema the target writes. A test checks it,
attribute by attribute, against ``tofu providers schema -json`` of the mirrored 1.13.4 provider;
profile "2"'s changes are checked by synthesizing the same objects through the 2.38 bindings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union

from cdktf import ITerraformDependable, TerraformProvider, TerraformProviderGeneratorMetadata, TerraformResource
from constructs import Construct

from agentstrata.targets.kubernetes.kube_object import KubeObject
from agentstrata.targets.kubernetes.profiles import ProviderProfile
from agentstrata.targets.kubernetes.toolchain import KUBERNETES_PROVIDER

MAP = ["map", "string"]
LIST = ["list", "string"]
SET = ["set", "string"]


@dataclass(frozen=True)
class Attr:
    """An attribute: its type as ``tofu providers schema -json`` writes it."""

    type: Any
    #: Not in the manifest: set from the target's props (``wait_for_rollout``...).
    provider_only: bool = False


@dataclass(frozen=True)
class Block:
    """A nested block. ``one``: the API holds one object, the provider's schema a list of at most one;
    ``many``: a list in both; ``single``: one object in both (the provider's ``timeouts``)."""

    fields: Mapping[str, "Field"]
    nesting: Literal["one", "many", "single"] = "one"
    #: The API's name for it when it is not the camelCase of the attribute's (``container`` -> ``containers``).
    api: str | None = None
    provider_only: bool = False


Field = Union[Attr, Block]

_STRING, _NUMBER, _BOOL = Attr("string"), Attr("number"), Attr("bool")

_METADATA = Block({"name": _STRING, "namespace": _STRING, "labels": Attr(MAP), "annotations": Attr(MAP)})
_SELECTOR = Block({"match_labels": Attr(MAP)})
_NETWORK_PEER = Block({"namespace_selector": _SELECTOR, "pod_selector": _SELECTOR}, "many")
_NETWORK_PORTS = Block({"port": _STRING, "protocol": _STRING}, "many")
_PROBE = Block({
    "http_get": Block({"path": _STRING, "port": _STRING, "scheme": _STRING}),
    "initial_delay_seconds": _NUMBER, "period_seconds": _NUMBER, "timeout_seconds": _NUMBER,
    "success_threshold": _NUMBER, "failure_threshold": _NUMBER,
})
_QUANTITIES = Block({"cpu": _STRING, "memory": _STRING})
_CONTAINER = Block({
    "name": _STRING,
    "image": _STRING,
    "args": Attr(LIST),
    "port": Block({"name": _STRING, "container_port": _NUMBER, "protocol": _STRING}, "many", api="ports"),
    "env": Block({"name": _STRING, "value": _STRING}, "many"),
    "readiness_probe": _PROBE,
    "liveness_probe": _PROBE,
    "resources": Block({"limits": _QUANTITIES, "requests": _QUANTITIES}),
    "security_context": Block({
        "allow_privilege_escalation": _BOOL, "read_only_root_filesystem": _BOOL, "run_as_non_root": _BOOL,
        "run_as_user": _NUMBER, "capabilities": Block({"drop": Attr(LIST)}),
    }),
    "volume_mount": Block({"name": _STRING, "mount_path": _STRING, "sub_path": _STRING, "read_only": _BOOL}, "many",
                          api="volumeMounts"),
}, "many", api="containers")
_POD_SPEC = Block({
    "automount_service_account_token": _BOOL,
    "security_context": Block({"run_as_non_root": _BOOL, "run_as_user": _NUMBER, "run_as_group": _NUMBER,
                               "fs_group": _NUMBER}),
    "container": _CONTAINER,
    "volume": Block({
        "name": _STRING,
        "config_map": Block({"name": _STRING}),
        "empty_dir": Block({"size_limit": _STRING}),
        "persistent_volume_claim": Block({"claim_name": _STRING, "read_only": _BOOL}),
    }, "many", api="volumes"),
})

#: The 1.13.4 schema of what the target writes, by kind.
SCHEMA_1_13: dict[str, Block] = {
    "namespace": Block({"metadata": Block({"name": _STRING, "labels": Attr(MAP)})}),
    "config_map": Block({"metadata": _METADATA, "data": Attr(MAP)}),
    "service": Block({
        "metadata": _METADATA,
        "spec": Block({
            "type": _STRING,
            "selector": Attr(MAP),
            "port": Block({"name": _STRING, "port": _NUMBER, "target_port": _STRING, "protocol": _STRING}, "many",
                          api="ports"),
        }),
    }),
    "network_policy": Block({
        "metadata": _METADATA,
        "spec": Block({
            "pod_selector": _SELECTOR,
            "policy_types": Attr(LIST),
            "ingress": Block({"from": _NETWORK_PEER, "ports": _NETWORK_PORTS}, "many"),
            "egress": Block({"to": _NETWORK_PEER, "ports": _NETWORK_PORTS}, "many"),
        }),
    }),
    "persistent_volume_claim": Block({
        "metadata": _METADATA,
        "spec": Block({
            "access_modes": Attr(SET),
            "storage_class_name": _STRING,
            "resources": Block({"requests": Attr(MAP)}),
        }),
        "wait_until_bound": Attr("bool", provider_only=True),
    }),
    "deployment": Block({
        "metadata": _METADATA,
        "spec": Block({
            "replicas": _NUMBER,
            "progress_deadline_seconds": _NUMBER,
            "selector": _SELECTOR,
            "strategy": Block({"type": _STRING,
                               "rolling_update": Block({"max_surge": _STRING, "max_unavailable": _STRING})}),
            "template": Block({"metadata": Block({"labels": Attr(MAP), "annotations": Attr(MAP)}),
                               "spec": _POD_SPEC}),
        }),
        "wait_for_rollout": Attr("bool", provider_only=True),
        "timeouts": Block({"create": _STRING, "update": _STRING, "delete": _STRING}, "single", provider_only=True),
    }),
}


def _with(block: Block, path: Sequence[str], field: Field) -> Block:
    """``block`` with the field at ``path`` set to ``field``."""
    head, *rest = path
    inner = field if not rest else _with(block.fields[head], rest, field)  # type: ignore[arg-type]
    return dataclasses.replace(block, fields={**block.fields, head: inner})


def _changed(block: Block, changes: Mapping[tuple[str, ...], Field]) -> Block:
    for path, field in changes.items():
        block = _with(block, path, field)
    return block


_POD_PATH = ("spec", "template", "spec")
_POD_SECURITY_PATH = (*_POD_PATH, "security_context")
_CONTAINER_PATH = (*_POD_PATH, "container")
#: 2.x: ``replicas`` and the uids and gids are strings, limits and requests are maps, and the pod can set its
#: seccomp profile.
SCHEMA_2: dict[str, Block] = {
    **SCHEMA_1_13,
    "deployment": _changed(SCHEMA_1_13["deployment"], {
        ("spec", "replicas"): _STRING,
        (*_POD_SECURITY_PATH, "run_as_user"): _STRING,
        (*_POD_SECURITY_PATH, "run_as_group"): _STRING,
        (*_POD_SECURITY_PATH, "fs_group"): _STRING,
        (*_POD_SECURITY_PATH, "seccomp_profile"): Block({"type": _STRING}),
        (*_CONTAINER_PATH, "security_context", "run_as_user"): _STRING,
        (*_CONTAINER_PATH, "resources", "limits"): Attr(MAP),
        (*_CONTAINER_PATH, "resources", "requests"): Attr(MAP),
    }),
}

#: Profile -> kind -> what the target writes.
SCHEMAS: dict[str, dict[str, Block]] = {"1.13": SCHEMA_1_13, "2": SCHEMA_2}


def attributes(block: Block, manifest: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """The provider's attributes for ``manifest`` (an API object, or a part of one), by ``block``'s schema.

    A field of the manifest the schema does not declare is an error: the declaration must cover
    everything the target writes, or the Terraform resources would silently lack it.
    """
    result: dict[str, Any] = {}
    known = set()
    for name, field in block.fields.items():
        if field.provider_only:
            continue
        key = (field.api if isinstance(field, Block) else None) or _camel(name)
        known.add(key)
        if key in manifest:
            result[name] = _convert(field, manifest[key], f"{where}.{key}" if where else key)
    unknown = sorted(set(manifest) - known)
    if unknown:
        raise ValueError(f"{where or 'the object'}: no provider attribute is declared for {', '.join(unknown)}")
    return result


def _convert(field: Field, value: Any, where: str) -> Any:
    if isinstance(field, Block):
        if field.nesting == "many":
            return [attributes(field, item, f"{where}[{index}]") for index, item in enumerate(value)]
        # A block of at most one is written as one object, as the generated bindings write it: Terraform's
        # JSON syntax takes an object or a list of them for any block.
        return attributes(field, value, where)
    if field.type == "string":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(f"{where}: {value!r} is not a string")
        return _literal(str(value))  # ports and replicas: numbers in the API, strings in the provider
    if field.type == "number" or field.type == "bool":
        return value
    if field.type == MAP:
        return {str(key): _literal(str(item)) for key, item in value.items()}
    return [_literal(str(item)) for item in value]


def _literal(text: str) -> str:
    """``text`` as a Terraform string that means exactly it: its ``${`` and ``%{`` escaped (a notebook or
    spec holding ``file:${KB_CONDUIT_ROOT}`` is text, not an interpolation)."""
    return text.replace("${", "$${").replace("%{", "%%{")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _provider_extras(block: Block, extras: Mapping[str, Any]) -> dict[str, Any]:
    undeclared = sorted(name for name in extras
                        if name not in block.fields or not block.fields[name].provider_only)
    if undeclared:
        raise ValueError(f"no provider-only attribute is declared for {', '.join(undeclared)}")
    return dict(extras)


class KubernetesProvider(TerraformProvider):
    """``provider "kubernetes"``, pinned per profile, reading one kubeconfig (path and context)."""

    def __init__(self, scope: Construct, id: str, *, profile: ProviderProfile, config_path: str,
                 config_context: str | None = None) -> None:
        super().__init__(scope, id, terraform_resource_type="kubernetes",
                         terraform_generator_metadata=TerraformProviderGeneratorMetadata(
                             provider_name="kubernetes", provider_version=profile.provider_version),
                         terraform_provider_source=KUBERNETES_PROVIDER.source)
        self._config: dict[str, Any] = {"config_path": config_path}
        if config_context is not None:
            self._config["config_context"] = config_context
        if profile.load_config_file:
            self._config["load_config_file"] = True

    def _synthesize_attributes(self) -> Mapping[str, Any]:
        return self._config


class KubernetesResource(TerraformResource):
    """A resource of the kind :attr:`kind`, made of a :class:`KubeObject`: ``kubernetes_<kind>`` (1.13) or
    ``kubernetes_<kind>_v1`` (2), its Terraform id the object's address."""

    kind: str

    def __init__(self, scope: Construct, id: str, obj: KubeObject, *, profile: ProviderProfile,
                 extras: Mapping[str, Any] | None = None,
                 depends_on: Sequence[ITerraformDependable] | None = None) -> None:
        assert obj.kind == self.kind, (obj.kind, self.kind)
        super().__init__(scope, id, terraform_resource_type=profile.resource_type(obj.kind),
                         depends_on=list(depends_on) if depends_on else None)
        schema = SCHEMAS[profile.name][obj.kind]
        body = {key: value for key, value in obj.manifest.items() if key not in ("apiVersion", "kind")}
        self._attributes = {**attributes(schema, body, obj.manifest["kind"]),
                            **_provider_extras(schema, extras or {})}
        self.override_logical_id(obj.address)

    def _synthesize_attributes(self) -> Mapping[str, Any]:
        return self._attributes


class Namespace(KubernetesResource):
    kind = "namespace"


class ConfigMap(KubernetesResource):
    kind = "config_map"


class Service(KubernetesResource):
    kind = "service"


class NetworkPolicy(KubernetesResource):
    kind = "network_policy"


class PersistentVolumeClaim(KubernetesResource):
    kind = "persistent_volume_claim"


class Deployment(KubernetesResource):
    kind = "deployment"


#: The class of each kind.
CLASSES: dict[str, type[KubernetesResource]] = {
    cls.kind: cls for cls in (Namespace, ConfigMap, Service, NetworkPolicy, PersistentVolumeClaim, Deployment)
}
