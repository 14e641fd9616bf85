"""The deployment targets that Terraform can apply, by name; each is imported only when used."""

from __future__ import annotations

import importlib

from agentstrata.constructs.targets.base import Target
from agentstrata.errors import SpecError
from agentstrata.loader import LoadedStack

#: name -> (module, class). `local` runs without Terraform; `kubernetes` has no target yet.
TERRAFORM_TARGETS: dict[str, tuple[str, str]] = {
    "docker": ("agentstrata.constructs.targets.docker", "DockerTarget"),
}


def target_class(name: str) -> type[Target]:
    """The target called ``name``; its module (and its provider bindings) load now."""
    module, cls = TERRAFORM_TARGETS[name]
    return getattr(importlib.import_module(module), cls)


def terraform_target(loaded: LoadedStack, name: str | None) -> str:
    """The target a stack file is synthesized for: ``name``, else its ``deployment.target``; it must be one
    the file allows and one Terraform can apply."""
    deployment = loaded.spec.deployment
    chosen = name or deployment.target
    where = ("deployment",) if name else ("deployment", "target")
    if chosen == "local":
        problem = "the 'local' target runs without Terraform (strata runs it); synthesize another target"
    elif chosen not in deployment.allowed_targets:
        problem = (f"stack {loaded.stack.name!r} does not allow target {chosen!r} (allowed: "
                   f"{', '.join(deployment.allowed_targets)}); add a 'deployment.{chosen}' block")
    elif chosen not in TERRAFORM_TARGETS:
        problem = f"no Terraform target {chosen!r} yet (available: {', '.join(TERRAFORM_TARGETS)})"
    else:
        return chosen
    raise SpecError([loaded.diagnostic(where, problem)])
