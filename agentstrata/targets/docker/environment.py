"""The environment of an agent's container: the wire contract's variables, in container paths."""

from __future__ import annotations

from collections.abc import Mapping

from agentstrata.schema import AgentSpec
from agentstrata.wire import KB_DIR, KB_ROOT_ENV, STATE_DIR, STATE_DIR_ENV, env_lines, upstream_env
from agentstrata.workspace import uses_workspace

#: Variables the target sets in every container; an agent's own ``env`` may not redefine them.
#: ``HOME`` is the bounded ``/tmp`` tmpfs, where marimo keeps its config and caches.
TARGET_ENV = {STATE_DIR_ENV: str(STATE_DIR), "HOME": "/tmp"}
#: Set besides, for the agents that declare ``workspace: read`` (they alone get the mount).
WORKSPACE_ENV = {KB_ROOT_ENV: str(KB_DIR)}


def container_env(agent: AgentSpec, upstream_urls: Mapping[str, str]) -> list[str]:
    """``KEY=value`` lines, sorted (the provider reads them back sorted: no diff on the next plan)."""
    variables = dict(TARGET_ENV)
    if uses_workspace(agent):
        variables.update(WORKSPACE_ENV)
    variables.update(upstream_env(upstream_urls))
    variables.update(agent.env)
    return env_lines(variables)
