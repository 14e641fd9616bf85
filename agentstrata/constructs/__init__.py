"""Strata's construct library: agent stacks as cdktf constructs, deployed by pluggable targets.

    from cdktf import App
    from agentstrata.constructs import AgentStack, DockerTarget

    app = App()
    stack = AgentStack(app, "kb", target=DockerTarget(workspace_path="stacks/sample-kb"))
    kb = stack.add_agent(name="kb_base", layer=0, notebook="agents/kb_base.py",
                         outputs={"session_log": "session_log"})
    debriefer = stack.add_agent(name="debriefer", layer=1, notebook="agents/debriefer.py",
                                outputs={"insights": "insights"})
    debriefer.consumes(kb, "session_log", as_="history", transform="parse_yaml_log")
    stack.render()          # validates like `strata validate`, then creates the resources
    debriefer.container     # escape hatch: the docker_container
    app.synth()

Names are imported on first use, so that importing this package stays cheap and only the
bindings of the target in use are ever loaded. Every registered target's class is exported under
its own name (``DockerTarget``, ``KubernetesTarget``...), straight from the target registry.
Importing it, or any module of it, changes no global state.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentstrata.constructs.agent_stack import AgentStack
    from agentstrata.constructs.marimo_agent import MarimoAgent
    from agentstrata.targets.base.target import Target
    from agentstrata.targets.docker import DockerTarget
    from agentstrata.targets.kubernetes import KubernetesTarget

_EXPORTS = {
    "AgentStack": "agentstrata.constructs.agent_stack",
    "MarimoAgent": "agentstrata.constructs.marimo_agent",
    "Target": "agentstrata.targets.base.target",
}

__all__ = ["AgentStack", "DockerTarget", "KubernetesTarget", "MarimoAgent", "Target"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    from agentstrata.targets import TARGETS

    for entry in TARGETS.values():
        module, cls = entry.split(":")
        if cls == name:
            return getattr(importlib.import_module(module), cls)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
