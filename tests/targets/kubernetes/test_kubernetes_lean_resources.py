"""The lean resource classes against the real provider: ``tofu providers schema -json`` of the mirrored 1.13.4.

An upgrade of the provider that renames, retypes or re-nests an attribute the target writes fails here,
instead of at someone's apply.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentstrata.deploy.layout import Layout
from agentstrata.targets.kubernetes.lean_resources import SCHEMA_1_13, Attr, Block, attributes
from agentstrata.targets.kubernetes.profiles import PROFILES
from tests.targets.kubernetes.conftest import edit_stack, tofu


def differences(declared: Block, actual: dict[str, Any], where: str) -> list[str]:
    """Where ``declared`` disagrees with a block of the provider's schema, and required attributes it lacks."""
    found = []
    for name, field in declared.fields.items():
        here = f"{where}.{name}"
        if isinstance(field, Attr):
            attribute = actual.get("attributes", {}).get(name)
            if attribute is None:
                found.append(f"{here}: no such attribute")
            elif attribute["type"] != field.type:
                found.append(f"{here}: the provider's type is {attribute['type']}, declared {field.type}")
            elif not (attribute.get("optional") or attribute.get("required")):
                found.append(f"{here}: computed only, cannot be set")
            continue
        block = actual.get("block_types", {}).get(name)
        if block is None:
            found.append(f"{here}: no such block")
            continue
        nesting = {"one": ("list", 1), "many": ("list", None), "single": ("single", None)}[field.nesting]
        if (block["nesting_mode"], block.get("max_items")) != nesting:
            found.append(f"{here}: the provider nests it {block['nesting_mode']} max {block.get('max_items')}, "
                         f"declared {field.nesting}")
        found += differences(field, block["block"], here)
    for name, attribute in actual.get("attributes", {}).items():
        if attribute.get("required") and name not in declared.fields:
            found.append(f"{where}.{name}: required by the provider, not declared")
    return found


@pytest.mark.parametrize("kind", sorted(SCHEMA_1_13))
def test_each_declared_attribute_has_the_providers_name_type_and_nesting(kind: str, provider_schema: dict):
    resource_type = PROFILES["1.13"].resource_type(kind)
    assert differences(SCHEMA_1_13[kind], provider_schema["resource_schemas"][resource_type]["block"],
                       resource_type) == []


def test_the_provider_settings_the_target_writes_exist(provider_schema: dict):
    declared = {"config_path": "string", "config_context": "string", "load_config_file": "bool"}
    actual = provider_schema["provider"]["block"]["attributes"]
    assert {name: actual[name]["type"] for name in declared} == declared


def test_a_manifest_field_the_schema_does_not_declare_is_an_error():
    with pytest.raises(ValueError, match=r"^ConfigMap: no provider attribute is declared for binaryData$"):
        attributes(SCHEMA_1_13["config_map"], {"metadata": {"name": "x"}, "binaryData": {}}, "ConfigMap")


def test_tofu_validates_the_synthesized_stack_with_every_option(project: Path, kb_conduit, mirrored_provider: Layout,
                                                                tmp_path: Path):  # noqa: ANN001
    edit_stack(project, lambda d: d["stack"]["agents"][0].update(resources={"memory": "1.5Gi", "cpu": "1.5"}))
    config = kb_conduit(state_claim_size="256Mi", storage_class="standard",
                        ui_ingress_from={"namespace_labels": {"team": "ops"}, "pod_labels": {"app": "ui"}})
    config["terraform"].pop("backend")
    (tmp_path / "main.tf.json").write_text(json.dumps(config))
    init = tofu(mirrored_provider, tmp_path, "init", "-input=false")
    assert init.returncode == 0, init.stdout + init.stderr
    done = tofu(mirrored_provider, tmp_path, "validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success! The configuration is valid." in done.stdout
