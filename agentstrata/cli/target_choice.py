"""How a command finds the stack and the target it acts on; the environment is read here, at the CLI edge."""

from __future__ import annotations

import os
from pathlib import Path

from agentstrata.errors import SpecError, StrataError
from agentstrata.loader import LoadedStack, load_stack
from agentstrata.targets import chosen_target, configured_target, target_class
from agentstrata.targets.base.target import Target

STACKS_DIR = Path("stacks")

STACK_HELP = "The stack file; default: the only stack file in ./stacks."
TARGET_HELP = "The target; default: the file's deployment.target."


def stack_file(given: Path | None) -> Path:
    """The stack file given, else the only one in ./stacks (a file with top-level ``stack:``)."""
    if given is not None:
        return given
    import yaml

    from agentstrata.yaml_source import load_plain, read_text

    found = []
    for path in sorted(STACKS_DIR.glob("*.y*ml")):
        try:
            document = load_plain(read_text(path, str(path)))
        except (SpecError, yaml.YAMLError):
            continue
        if isinstance(document, dict) and "stack" in document:
            found.append(path)
    if len(found) == 1:
        return found[0]
    if not found:
        raise StrataError(f"no stack file in {STACKS_DIR}/; give one: strata deploy path/to/stack.yaml")
    raise StrataError(f"several stack files in {STACKS_DIR}/ ({', '.join(map(str, found))}); give one of them")


def stack_and_target(stack: Path | None, name: str | None, *, default: str | None = None,
                     validate: bool = False) -> tuple[LoadedStack, Target]:
    """The loaded stack and its target ``name`` (else ``default``, else the file's ``deployment.target``),
    configured by the file and by the target's environment variables. ``validate``: the stack must
    pass `strata validate` first (a bad file fails in a second, before anything is set up)."""
    loaded = load_stack(stack_file(stack))
    target = _configured(loaded, chosen_target(loaded, name, default=default))
    if validate:
        from agentstrata.validate import validate as check

        errors = [d for d in check(loaded) if d.severity == "error"]
        if errors:
            raise SpecError(errors)
    return loaded, target


def deployed_target(stack: Path | None, name: str | None) -> tuple[LoadedStack, Target]:
    """For status and logs: the target ``name``, else the first allowed target where the stack is up
    (the file's ``deployment.target`` first), else the file's ``deployment.target``."""
    if name is not None:
        return stack_and_target(stack, name)
    loaded = load_stack(stack_file(stack))
    deployment = loaded.spec.deployment
    order = [deployment.target, *(t for t in deployment.allowed_targets if t != deployment.target)]
    for candidate in order:
        target = _configured(loaded, candidate)
        if target.unavailable is None and target.status(loaded).up:
            return loaded, target
    return loaded, _configured(loaded, deployment.target)


def _configured(loaded: LoadedStack, name: str) -> Target:
    """Target ``name`` configured by the file and by its environment variables (read here, at the edge)."""
    return configured_target(loaded, name, **target_class(name).props_from_environment(os.environ))
