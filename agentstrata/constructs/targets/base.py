"""What a deployment target is: a strategy that turns a validated agent stack into resources.

The agent model (:class:`~agentstrata.constructs.marimo_agent.MarimoAgent`, the schema) knows no
target; a target reads it and attaches what it creates, so adding one touches nothing else:

- the stack-wide resources go on the stack (``stack.attach(network=...)``: then ``stack.network``);
- each agent's resources go on the agent (``agent.attach(container=...)``: then ``agent.container``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

from agentstrata.schema import Deployment

if TYPE_CHECKING:
    from agentstrata.constructs.agent_stack import AgentStack


class Target(Protocol):
    #: The target's name in stack files (``deployment.<name>``) and the suffix of its Terraform stacks.
    name: ClassVar[str]

    @classmethod
    def from_deployment(cls, deployment: Deployment) -> "Target":
        """This target configured by a stack file's ``deployment`` block (its own sub-block, or defaults)."""
        ...

    def render(self, stack: "AgentStack") -> None:
        """Create this target's resources for ``stack``, already validated, and attach them.

        Raises :class:`~agentstrata.errors.SpecError` for props that conflict with the stack,
        naming both sides (for instance one host port published for two agents).
        """
        ...
