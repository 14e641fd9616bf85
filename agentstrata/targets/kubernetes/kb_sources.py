"""Which agents read the KB, and which ``file:`` inputs a pod could not read.

A pod holds its notebook, its spec, its state and, if it reads the KB, the KB claim at
``/kb-conduit``. So a ``file:`` input works in the cluster only when it points into the KB:
``file:${KB_CONDUIT_ROOT}...`` (the target sets that variable to the mount) or ``file:/kb-conduit...``.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from agentstrata.schema import AgentSpec, InputSpec
from agentstrata.wire import KB_DIR, KB_ROOT_ENV

_KB_FORMS = (f"${{{KB_ROOT_ENV}}}", f"${KB_ROOT_ENV}")


def reads_kb(source: InputSpec) -> bool:
    if source.source_kind != "file":
        return False
    path = source.source_target
    for form in _KB_FORMS:
        if path == form or path.startswith(form + "/"):
            return True
    return PurePosixPath(path).is_relative_to(KB_DIR)


def agent_reads_kb(agent: AgentSpec) -> bool:
    return any(reads_kb(source) for source in agent.interface.inputs)


def unreadable_file_inputs(agent: AgentSpec) -> list[tuple[int, InputSpec]]:
    """``(index, input)`` of each ``file:`` input outside the KB."""
    return [(index, source) for index, source in enumerate(agent.interface.inputs)
            if source.source_kind == "file" and not reads_kb(source)]
