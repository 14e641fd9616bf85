"""``MarimoAgent``: one agent of a stack, a marimo notebook run as a service.

It holds the agent's spec (the model a stack file's ``agents`` entry loads into) and, once the
stack renders, whatever its target created for it (``agent.container`` for Docker; see
:mod:`agentstrata.constructs.escape_hatches`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from agentstrata.constructs.escape_hatches import EscapeHatches
from agentstrata.schema import AgentSpec

if TYPE_CHECKING:
    from agentstrata.constructs.agent_stack import AgentStack


class MarimoAgent(EscapeHatches, Construct):
    """One agent: its construct id is its name, so its resources get readable Terraform addresses.

    Created by :meth:`AgentStack.add_agent` or, for a stack file, by :meth:`AgentStack.from_file`.

    :param stack: the stack it belongs to.
    :param spec: the agent, as a stack file's ``agents`` entry loads.
    """

    def __init__(self, stack: "AgentStack", *, spec: AgentSpec) -> None:
        super().__init__(stack, spec.name)
        self.stack = stack
        #: The agent's spec; ``spec.port`` is assigned by the stack at render when not set.
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def layer(self) -> int:
        return self.spec.layer

    @property
    def port(self) -> int | None:
        """The port it serves on: as set, or assigned when the stack renders."""
        return self.spec.port

    def consumes(
        self, producer: "MarimoAgent", output: str, *, as_: str | None = None, transform: str = "identity"
    ) -> "MarimoAgent":
        """Read ``producer``'s ``output`` as an input: the input, the dependency and the data_flow edge at once.

        :param producer: an agent of the same stack, in a lower layer.
        :param output: one of ``producer``'s outputs; the input gets its type.
        :param as_: the input's name in this agent's notebook; default: ``output``.
        :param transform: applied in flight: ``identity``, ``json``, ``parse_yaml_log`` or a dotted path.
        :returns: this agent, so that calls chain.
        """
        self.stack._connect(self, producer, output, as_ or output, transform)
        return self
