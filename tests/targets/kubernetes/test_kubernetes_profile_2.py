"""Profile "2" writes only what hashicorp/kubernetes 2.38 takes: the same objects, built through the prebuilt
2.38 bindings (cdktf-cdktf-provider-kubernetes, generated from that provider's schema), synthesize to the
same JSON. The only test that imports those bindings (4 s, 300 MB): the target never does.
"""

from __future__ import annotations

import importlib
import json
import typing
from typing import Any

import cdktf

from tests.targets.kubernetes.conftest import resources

BINDINGS = "cdktf_cdktf_provider_kubernetes"
#: Meta-arguments and cdktf's own notes: not provider attributes.
_META = ("depends_on", "//")


def struct_class(hint: Any) -> type | None:
    """The jsii struct class a parameter's type hint takes (``Union[Struct, Dict]``, ``Sequence[...]``...)."""
    if isinstance(hint, type) and hasattr(hint, "__jsii_struct_bases__"):
        return hint
    for arg in typing.get_args(hint):
        found = struct_class(arg)
        if found is not None:
            return found
    return None


def build(cls: type, attributes: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``cls`` (a resource or struct of the bindings) from synthesized attributes: each
    block becomes the bindings' own struct, so that an attribute the bindings do not know is a TypeError."""
    hints = typing.get_type_hints(cls.__init__)
    kwargs = {}
    for attribute, value in attributes.items():
        # Python keywords get a trailing "_" in the bindings: ``from`` is ``from_``.
        name = attribute if attribute in hints else f"{attribute}_"
        struct = struct_class(hints[name])
        if struct is None:
            kwargs[name] = value
        elif isinstance(value, dict):  # a block of at most one
            kwargs[name] = struct(**build(struct, value))
        else:
            kwargs[name] = [struct(**build(struct, item)) for item in value]
    return kwargs


def through_bindings(config: dict[str, Any]) -> dict[str, Any]:
    """The resources and provider of ``config`` built again with the 2.38 bindings, and synthesized."""
    provider_module = importlib.import_module(f"{BINDINGS}.provider")
    app = cdktf.Testing.app()
    stack = cdktf.TerraformStack(app, "bindings")
    (settings,) = config["provider"]["kubernetes"]
    provider_module.KubernetesProvider(stack, "kubernetes", **settings)
    for resource_type, blocks in config["resource"].items():
        module_name = resource_type.removeprefix("kubernetes_")
        module = importlib.import_module(f"{BINDINGS}.{module_name}")
        cls = getattr(module, "".join(part.capitalize() for part in module_name.split("_")))
        for address, block in blocks.items():
            resource = cls(stack, f"{resource_type}.{address}", **build(cls, {k: v for k, v in block.items()
                                                                            if k not in _META}))
            resource.override_logical_id(address)
    return json.loads(cdktf.Testing.synth(stack))


def without_meta(section: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    return {kind: {name: {k: v for k, v in block.items() if k not in _META} for name, block in blocks.items()}
            for kind, blocks in section.items()}


def test_profile_2_synthesizes_what_the_2_38_bindings_synthesize(kb_conduit):  # noqa: ANN001
    ours = kb_conduit(provider_profile="2", state_claim_size="256Mi", storage_class="standard", context="lab",
                      ui_ingress_from={"namespace_labels": {"team": "ops"}, "pod_labels": {"app": "ui"}})
    assert resources(ours, "deployment", "2")  # the _v1 types
    theirs = through_bindings(ours)
    assert without_meta(ours["resource"]) == without_meta(theirs["resource"])
    assert ours["provider"] == theirs["provider"]
    # The bindings name the provider by its short source, "kubernetes": the registry resolves it to the same one.
    assert theirs["terraform"]["required_providers"]["kubernetes"] == {"source": "kubernetes", "version": "2.38.0"}
    assert ours["terraform"]["required_providers"]["kubernetes"] == {"source": "hashicorp/kubernetes",
                                                                     "version": "2.38.0"}
