"""What a synthesized cdktf stack declares, read from ``cdktf.out/stacks/<stack>/cdk.tf.json``.

Deploy needs a few facts before and after ``cdktf deploy`` without importing the construct
library: where the state lives, which fixed container and network names the stack owns, and
which of them Terraform already tracks.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentstrata.errors import StrataError

SYNTH_DIR = "cdktf.out"


@dataclass(frozen=True)
class SynthesizedStack:
    name: str
    directory: Path
    config: dict[str, Any]

    @classmethod
    def read(cls, root: Path, name: str) -> "SynthesizedStack":
        directory = root / SYNTH_DIR / "stacks" / name
        path = directory / "cdk.tf.json"
        try:
            config = json.loads(path.read_text())
        except FileNotFoundError:
            raise StrataError(f"{path}: not synthesized; run `strata synth` first", exit_code=1) from None
        except ValueError as exc:
            raise StrataError(f"{path}: not valid JSON ({exc}); run `strata synth` again", exit_code=1) from None
        return cls(name, directory, config)

    @property
    def state_path(self) -> Path:
        """The local backend's state file (relative paths resolve against the stack directory)."""
        backend = self.config.get("terraform", {}).get("backend", {})
        local = backend.get("local", {}) if isinstance(backend, dict) else {}
        path = Path(local.get("path", "terraform.tfstate"))
        return Path(os.path.normpath(path if path.is_absolute() else self.directory / path))

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Terraform id -> block of every resource of ``resource_type``."""
        return dict(self.config.get("resource", {}).get(resource_type, {}))

    def literal_names(self, resource_type: str) -> dict[str, str]:
        """Terraform id -> the literal ``name`` of each resource of ``resource_type`` (names computed at apply are left out)."""
        names = {}
        for tf_id, block in self.resources(resource_type).items():
            name = block.get("name")
            if isinstance(name, str) and "${" not in name:
                names[tf_id] = name
        return names


def tracked_ids(state_path: Path, resource_type: str) -> dict[str, str]:
    """Name -> id of each ``resource_type`` the Terraform state tracks (format v4)."""
    tracked = {}
    for resource in _managed(state_path):
        if resource.get("type") != resource_type:
            continue
        for instance in resource.get("instances", []):
            attributes = instance.get("attributes", {})
            if attributes.get("name") and attributes.get("id"):
                tracked[attributes["name"]] = attributes["id"]
    return tracked


def tracked_addresses(state_path: Path) -> set[str]:
    """``type.name`` of every managed resource the Terraform state tracks."""
    return {f"{r.get('type')}.{r.get('name')}" for r in _managed(state_path)}


def _managed(state_path: Path) -> list[dict[str, Any]]:
    try:
        text = state_path.read_text()
    except FileNotFoundError:
        return []
    # tofu creates the file empty when it first locks it: a run killed before its first write leaves it so,
    # and tofu reads an empty file as no state at all.
    if not text.strip():
        return []
    try:
        state = json.loads(text)
    except ValueError as exc:
        raise StrataError(
            f"{state_path}: the Terraform state is not valid JSON ({exc}). "
            f"Restore it from {state_path}.backup, or remove it and the stack's containers to start afresh.",
            exit_code=1,
        ) from None
    return [r for r in state.get("resources", []) if r.get("mode") == "managed"]
