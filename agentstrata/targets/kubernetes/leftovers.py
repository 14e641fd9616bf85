"""Objects of a stack that exist in the cluster but not in its Terraform state, and what to do with each.

They come from a deploy killed after the API server created an object but before tofu saved it,
and from ``destroy`` itself, which keeps the claims (and the namespace holding them) out of the
state. The next apply would fail on "already exists", so before it:

- the namespace and the claims the stack declares are imported into the state: they hold data;
- other objects labelled ``strata.stack=<stack>`` are deleted: the apply makes them again (their
  content is all in the stack); a claim the stack no longer declares is left alone, and said.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from agentstrata.deploy.synthesized_stack import SynthesizedStack, tracked_addresses
from agentstrata.errors import StrataError
from agentstrata.schema import dns_label
from agentstrata.targets.kubernetes.kube_client import api_error, object_path
from agentstrata.targets.kubernetes.kube_object import API_KINDS, KINDS
from agentstrata.targets.kubernetes.naming import STACK_LABEL

#: Kinds whose objects hold data: imported, never deleted.
KEPT_KINDS = ("namespace", "persistent_volume_claim")
_GONE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Declared:
    """An object the synthesized stack declares: its Terraform address and where it is in the cluster."""

    kind: str
    address: str
    namespace: str | None
    name: str

    @property
    def import_id(self) -> str:
        """The id the provider imports it by: ``namespace/name``, or the name of a namespace."""
        return self.name if self.namespace is None else f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Leftovers:
    """What to import (address -> id) and what to delete (kind, namespace, name)."""

    imports: list[Declared]
    deletions: list[tuple[str, str, str]]
    untouched: list[str]


def declared_objects(stack: SynthesizedStack, kind_of: dict[str, str]) -> list[Declared]:
    """Every object the synthesized stack declares; ``kind_of`` maps its resource types to kinds."""
    found = []
    for resource_type, kind in kind_of.items():
        for address, block in stack.resources(resource_type).items():
            metadata = block["metadata"]
            found.append(Declared(kind, f"{resource_type}.{address}", metadata.get("namespace"), metadata["name"]))
    return found


def find_leftovers(api: httpx.Client, stack_name: str, namespace: str, declared: list[Declared],
                   state_path: Path) -> Leftovers:
    tracked = tracked_addresses(state_path)
    by_object = {(d.kind, d.namespace, d.name): d for d in declared}
    imports: list[Declared] = []
    deletions: list[tuple[str, str, str]] = []
    untouched: list[str] = []
    for item in declared:
        if item.kind == "namespace" and item.address not in tracked:
            path = object_path("namespace", None, item.name)
            metadata = _metadata(api, path)
            if metadata is not None and metadata.get("deletionTimestamp"):
                # Still being deleted (by a destroy a moment ago): the apply creates it again once it is gone.
                wait_until_gone(api, path, f"Namespace {item.name}")
                continue
            if metadata is None:
                continue
            if (metadata.get("labels") or {}).get(STACK_LABEL) != dns_label(stack_name):
                raise StrataError(
                    f"namespace {item.name} exists and this stack did not create it; deploy into it with the "
                    "target's create_namespace: false, or choose another namespace", exit_code=1)
            imports.append(item)
    for kind in KINDS:
        if kind == "namespace":
            continue
        for name in _labelled(api, kind, namespace, stack_name):
            mine = by_object.get((kind, namespace, name))
            if mine is not None and mine.address in tracked:
                continue
            if kind in KEPT_KINDS:
                if mine is not None:
                    imports.append(mine)
                else:
                    untouched.append(f"{API_KINDS[kind]} {namespace}/{name}")
            else:
                deletions.append((kind, namespace, name))
    return Leftovers(imports, deletions, untouched)


def delete_objects(api: httpx.Client, objects: list[tuple[str, str, str]]) -> None:
    """Delete each (its dependants in the background) and wait until the API server has let go of its name."""
    for kind, namespace, name in objects:
        response = api.delete(object_path(kind, namespace, name), params={"propagationPolicy": "Background"})
        if response.status_code not in (200, 202, 404):
            raise api_error(response, f"deleting {API_KINDS[kind]} {namespace}/{name}")
    for kind, namespace, name in objects:
        wait_until_gone(api, object_path(kind, namespace, name), f"{API_KINDS[kind]} {namespace}/{name}")


def wait_until_gone(api: httpx.Client, path: str, what: str) -> None:
    deadline = time.monotonic() + _GONE_TIMEOUT_S
    while _metadata(api, path) is not None:
        if time.monotonic() > deadline:
            raise StrataError(f"{what} was deleted but still exists after {_GONE_TIMEOUT_S:.0f} s", exit_code=1)
        time.sleep(0.5)


def _labelled(api: httpx.Client, kind: str, namespace: str, stack_name: str) -> list[str]:
    response = api.get(object_path(kind, namespace), params={"labelSelector": f"{STACK_LABEL}={dns_label(stack_name)}"})
    if response.status_code != 200:
        raise api_error(response, f"listing the {API_KINDS[kind]} objects of namespace {namespace}")
    return [item["metadata"]["name"] for item in response.json().get("items", [])]


def _metadata(api: httpx.Client, path: str) -> dict[str, Any] | None:
    """An object's metadata, or None when it does not exist."""
    response = api.get(path)
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise api_error(response, f"reading {path}")
    return response.json()["metadata"]

