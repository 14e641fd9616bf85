"""Escape hatches: the resources a target created, reachable as attributes of what they serve.

A target attaches its typed record (``agent.attach(DockerAgentResources(container=..., ...))``)
when the stack renders; users reach each resource by name (``agent.container``), or the record
itself as ``agent.resources``. Neither the stack nor the agent knows which target that was.

For static types, narrow the record: ``assert isinstance(agent.resources, DockerAgentResources)``,
then ``agent.resources.container`` is a ``Container``.
"""

from __future__ import annotations

from typing import Any

from agentstrata.constructs.target_resources import TargetResources


class EscapeHatches:
    """Mixin for the stack and its agents: :meth:`attach`, :attr:`resources`, and attribute access to them."""

    _target_resources: TargetResources | None = None

    def attach(self, resources: TargetResources) -> None:
        """Record what the target created for this construct (once, when the stack renders)."""
        if not isinstance(resources, TargetResources):
            raise TypeError(f"a target attaches a TargetResources dataclass, not {type(resources).__name__}")
        if self._target_resources is not None:
            raise TypeError(f"{type(self).__name__} already has its target's resources")
        hidden = [name for name in resources if hasattr(type(self), name) or name in vars(self)]
        if hidden:
            raise TypeError(f"{type(resources).__name__} fields {hidden} are {type(self).__name__} attributes "
                            "already: rename them, or they cannot be reached")
        self._target_resources = resources

    @property
    def resources(self) -> TargetResources:
        """What the target created for this construct: its typed record, also a mapping by name
        (empty until the stack is rendered)."""
        return self._target_resources if self._target_resources is not None else TargetResources()

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails; jsii probes private and dunder names, leave those alone.
        if name.startswith("_"):
            raise AttributeError(name)
        created = self._target_resources
        if created is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r} yet: target resources are "
                                 "created when the stack renders (call stack.render() once every agent and "
                                 "connection is declared)", name=name, obj=self)
        if name in created:
            return created[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}; its target created "
                             f"{', '.join(created) or 'nothing'} ({type(created).__name__})", name=name, obj=self)
