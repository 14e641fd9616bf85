"""Escape hatches: the resources a target created, reachable as attributes of what they serve.

A target attaches them (``agent.attach(container=...)``) and users reach them by name
(``agent.container``); neither the stack nor the agent needs to know which target that was.
"""

from __future__ import annotations

from typing import Any


class TargetResources:
    """Mixin for the stack and its agents: ``attach(**resources)`` and a clear error before rendering."""

    def attach(self, **resources: Any) -> None:
        """Make each resource reachable as an attribute, and list it in :attr:`resources`."""
        self.__dict__.setdefault("_resources", {}).update(resources)
        self.__dict__.update(resources)

    @property
    def resources(self) -> dict[str, Any]:
        """What the target created for this object, by attribute name (empty until the stack is rendered)."""
        return dict(self.__dict__.get("_resources", {}))

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails; jsii probes private and dunder names, leave those alone.
        if name.startswith("_") or "_resources" in self.__dict__:
            raise AttributeError(name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r} yet: target resources are "
                             "created when the stack renders (call stack.render() once every agent and "
                             "connection is declared)")
