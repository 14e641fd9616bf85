"""Which agents read the KB Conduit workspace: the one place every target and the validator ask.

An agent declares ``workspace: read`` to get the workspace: the target mounts it read-only (or
points ``KB_CONDUIT_ROOT`` at it) for that agent only. An input reads the workspace when its
source names it the way every target can resolve: ``file:${KB_CONDUIT_ROOT}...``,
``file:/kb-conduit...`` (its mount in a container) or ``env:KB_CONDUIT_ROOT``.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from agentstrata.schema import AgentSpec, InputSpec
from agentstrata.wire import KB_DIR, KB_ROOT_ENV

_VARIABLE_FORMS = (f"${{{KB_ROOT_ENV}}}", f"${KB_ROOT_ENV}")


def uses_workspace(agent: AgentSpec) -> bool:
    """Whether ``agent`` declared ``workspace: read``: it gets the mount and ``KB_CONDUIT_ROOT``."""
    return agent.workspace is not None


def stack_uses_workspace(agents: list[AgentSpec]) -> bool:
    return any(uses_workspace(agent) for agent in agents)


def reads_workspace(source: InputSpec) -> bool:
    """Whether ``source`` reads the workspace by its variable or its mount path."""
    if source.source_kind == "env":
        return source.source_target == KB_ROOT_ENV
    if source.source_kind != "file":
        return False
    path = source.source_target
    if any(path == form or path.startswith(form + "/") for form in _VARIABLE_FORMS):
        return True
    return PurePosixPath(path).is_relative_to(KB_DIR)


def workspace_inputs(agent: AgentSpec) -> list[tuple[int, InputSpec]]:
    """``(index, input)`` of each of ``agent``'s inputs that reads the workspace."""
    return [(index, source) for index, source in enumerate(agent.interface.inputs) if reads_workspace(source)]


def workspace_dir(workspace_path: str, root: Path) -> Path:
    """The host KB directory a target's ``workspace_path`` names (``~`` and ``$VARS`` expanded), from the project root."""
    path = Path(os.path.expandvars(os.path.expanduser(workspace_path)))
    return Path(os.path.abspath(path if path.is_absolute() else root / path))
