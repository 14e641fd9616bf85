"""``TargetResources``: what a target created for one construct, as a typed record.

Each Terraform target declares, in its own package, one dataclass per kind of construct it serves
(for Docker: ``DockerAgentResources`` with ``container: Container``...), its fields typed with the
provider's bindings (imported under ``TYPE_CHECKING``, so declaring them loads no bindings). Its
``render`` attaches an instance to the stack and to each agent. Nothing in
:mod:`agentstrata.constructs` names a target or a resource type.

A record is also a read-only mapping from field name to resource, so that
``agent.resources["container"]`` and ``set(agent.resources)`` work whatever the target.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class TargetResources(Mapping[str, Any]):
    """Base of a target's records; itself the empty record of a construct not rendered yet.

    Subclasses are frozen dataclasses; name fields as users reach them (``agent.container``) and
    unlike the mapping's own methods (``keys``, ``get``...).
    """

    def __getitem__(self, name: str) -> Any:
        if name not in self._names():
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def _names(self) -> list[str]:
        return [field.name for field in dataclasses.fields(self)]
