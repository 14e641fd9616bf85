"""Every deployment target, by name: the one list of target names in Strata.

Adding a target is one package beside these (``<name>/target.py`` with a
:class:`~agentstrata.targets.base.target.Target` subclass) and one line here. Each is imported
when first used; its module loads no cdktf or provider bindings until it renders.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, create_model

from agentstrata.errors import SpecError, StrataError
from agentstrata.schema import Deployment, StackFile, StackSpec

if TYPE_CHECKING:
    from agentstrata.loader import LoadedStack
    from agentstrata.targets.base.target import Target

#: name -> "module:Class".
TARGETS: dict[str, str] = {
    "local": "agentstrata.targets.local.target:LocalTarget",
    "docker": "agentstrata.targets.docker.target:DockerTarget",
    "kubernetes": "agentstrata.targets.kubernetes.target:KubernetesTarget",
}
#: ``deployment.target`` when a stack file does not say; the target `strata up` starts.
DEFAULT_TARGET = "local"


def target_names() -> list[str]:
    return list(TARGETS)


def target_class(name: str) -> "type[Target]":
    """The target called ``name``; its module loads now."""
    try:
        module, cls = TARGETS[name].split(":")
    except KeyError:
        raise StrataError(f"no target {name!r} (targets: {', '.join(TARGETS)})", 2) from None
    return getattr(importlib.import_module(module), cls)


def configured_target(loaded: "LoadedStack", name: str, **props: object) -> "Target":
    """Target ``name`` configured by ``loaded``'s ``deployment.<name>`` block and ``props``."""
    return target_class(name).from_settings(loaded.spec.deployment.settings(name), **props)


def chosen_target(loaded: "LoadedStack", name: str | None, *, default: str | None = None) -> str:
    """The target a command acts on: ``name``, else ``default``, else the file's ``deployment.target``;
    it must be one the file allows."""
    deployment = loaded.spec.deployment
    chosen = name or default or deployment.target
    if chosen not in TARGETS:
        where = ("deployment",) if name or default else ("deployment", "target")
        raise SpecError([loaded.diagnostic(where, f"no target {chosen!r} (targets: {', '.join(TARGETS)})")], 2)
    if chosen not in deployment.allowed_targets:
        raise SpecError([loaded.diagnostic(("deployment",), (
            f"stack {loaded.stack.name!r} does not allow target {chosen!r} (allowed: "
            f"{', '.join(deployment.allowed_targets)}); add a 'deployment.{chosen}' block"))])
    return chosen


def _registry_key() -> tuple[tuple[str, str], ...]:
    return tuple(TARGETS.items())


def deployment_model() -> type[Deployment]:
    """The ``deployment`` block: ``target`` plus one optional sub-block per registered target."""
    return _deployment_model(_registry_key())


def stack_file_model() -> type[StackFile]:
    """A stack file (``stack:`` and ``deployment:``) with the registered targets' settings."""
    return _stack_file_model(_registry_key())


@functools.cache
def _deployment_model(registry: tuple[tuple[str, str], ...]) -> type[Deployment]:
    names = tuple(name for name, _ in registry)
    fields: dict[str, Any] = {
        "target": (Literal[names], Field(default=DEFAULT_TARGET, description="The default target of this stack.")),
    }
    for name in names:
        fields[name] = (target_class(name).settings_model | None, None)
    return create_model("Deployment", __base__=Deployment, **fields)


@functools.cache
def _stack_file_model(registry: tuple[tuple[str, str], ...]) -> type[StackFile]:
    deployment = _deployment_model(registry)
    return create_model("StackFile", __base__=StackFile, __doc__=StackFile.__doc__, stack=(StackSpec, ...),
                        deployment=(deployment, Field(default_factory=deployment)))
