"""The environment of an agent's container: the wire contract's variables, in container paths."""

from __future__ import annotations

from collections.abc import Mapping

from agentstrata.schema import AgentSpec
from agentstrata.wire import KB_DIR, KB_ROOT_ENV, STATE_DIR, STATE_DIR_ENV, upstream_env
from agentstrata.workspace import uses_workspace

#: An emptyDir: the one writable place besides the state (the root filesystem is read-only).
TMP_DIR = "/tmp"
#: Variables the target sets in every container; an agent's own ``env`` may not redefine them.
#: ``HOME`` is the ``/tmp`` emptyDir, where marimo keeps its config and caches.
TARGET_ENV = {STATE_DIR_ENV: str(STATE_DIR), "HOME": TMP_DIR}
#: Set besides, for the agents that declare ``workspace: read`` (they alone mount the KB claim).
WORKSPACE_ENV = {KB_ROOT_ENV: str(KB_DIR)}


def container_env(agent: AgentSpec, upstream_urls: Mapping[str, str]) -> list[dict[str, str]]:
    """``[{name, value}]`` sorted by name: the order the API keeps, so a second plan shows no change."""
    variables = dict(TARGET_ENV)
    if uses_workspace(agent):
        variables.update(WORKSPACE_ENV)
    variables.update(upstream_env(upstream_urls))
    variables.update(agent.env)
    return [{"name": name, "value": value} for name, value in sorted(variables.items())]
