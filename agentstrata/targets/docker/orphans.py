"""Containers and networks a stack owns by name but its Terraform state does not track.

A deploy killed after Docker created a container but before tofu saved it in the state leaves
such an orphan; the next apply would fail on the name conflict (containers) or create a second
network of the same name (networks: Docker allows duplicates). The stack's names are fixed, so
an orphan is recognised by name and removed: containers hold no state of their own (read-only
root filesystem, state in named volumes, which are never touched here).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Mapping

from agentstrata.deploy.synthesized_stack import SynthesizedStack, tracked_ids
from agentstrata.errors import StrataError

#: Terraform resource type -> the docker CLI object kind it manages.
KINDS = {"docker_container": "container", "docker_network": "network"}


@dataclass(frozen=True)
class Orphan:
    kind: str
    name: str
    id: str


def find_orphans(stack: SynthesizedStack, env: Mapping[str, str] | None = None) -> list[Orphan]:
    """Every container or network named by ``stack`` that exists in Docker but not in the state."""
    orphans = []
    for resource_type, kind in KINDS.items():
        tracked = tracked_ids(stack.state_path, resource_type)
        for name in stack.literal_names(resource_type).values():
            for object_id in _ids_named(kind, name, env):
                if tracked.get(name) != object_id:
                    orphans.append(Orphan(kind, name, object_id))
    return orphans


def remove_orphans(orphans: list[Orphan], env: Mapping[str, str] | None = None) -> None:
    """Containers first: a network with a container attached cannot be removed."""
    for orphan in sorted(orphans, key=lambda o: o.kind != "container"):
        args = ["rm", "-f", orphan.id] if orphan.kind == "container" else ["network", "rm", orphan.id]
        _docker(args, env)


def _ids_named(kind: str, name: str, env: Mapping[str, str] | None) -> list[str]:
    # `--filter name=` matches substrings; keep exact matches only.
    if kind == "container":
        listing = ["ps", "-a", "--format", "{{.ID}} {{.Names}}"]
    else:
        listing = ["network", "ls", "--format", "{{.ID}} {{.Name}}"]
    output = _docker([*listing, "--no-trunc", "--filter", f"name={name}"], env)
    ids = []
    for line in output.splitlines():
        object_id, _, names = line.partition(" ")
        if name in names.split(","):
            ids.append(object_id)
    return ids


def _docker(args: list[str], env: Mapping[str, str] | None) -> str:
    try:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, env=env, timeout=60)
    except FileNotFoundError:
        raise StrataError("the docker CLI is not installed; run `strata setup`", exit_code=1) from None
    except subprocess.TimeoutExpired:
        raise StrataError(f"`docker {' '.join(args)}` did not answer in 60 s; is the engine running?", exit_code=1) from None
    if done.returncode != 0:
        raise StrataError(f"`docker {' '.join(args)}` failed: {done.stderr.strip()}", exit_code=1)
    return done.stdout
