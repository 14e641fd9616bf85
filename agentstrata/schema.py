"""Typed model of Strata's Agent and Stack YAML, as in the seed design.

Every default lives here, once, so that it shows up in the JSON Schema that editors read.
Paths stay as written; :mod:`agentstrata.loader` resolves them against the project root.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)

AGENT_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]*$"
IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
SOURCE_PATTERN = (
    r"^(agent:[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_]*"
    r"|file:.+"
    r"|env:[A-Za-z_][A-Za-z0-9_]*)$"
)
EXPOSED_AS_PATTERN = r"^reactive_cell:[A-Za-z_][A-Za-z0-9_]*$"
MEMORY_PATTERN = r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$"
CPU_PATTERN = r"^[0-9]+(\.[0-9]+)?m?$"
TRANSFORM_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_]*)?$"

#: The first port handed out to agents that do not set one (marimo's own default port).
DEFAULT_BASE_PORT = 2718

AgentName = Annotated[
    str,
    Field(
        pattern=AGENT_NAME_PATTERN,
        max_length=63,
        description="Letters, digits, '_' and '-', starting with a letter.",
    ),
]
Identifier = Annotated[
    str, Field(pattern=IDENTIFIER_PATTERN, description="A Python identifier: a notebook variable.")
]


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Implementation(StrictModel):
    path: str = Field(
        min_length=1,
        description="The marimo notebook, relative to the project root (the nearest ancestor "
        "of the stack file holding cdktf.json, else the stack file's directory).",
    )


class Dependency(StrictModel):
    agent_name: AgentName = Field(description="The agent this one depends on.")
    inputs: dict[Identifier, Identifier] = Field(
        default_factory=dict,
        description="Maps an output of the dependency to an input of this agent.",
    )


class InputSpec(StrictModel):
    name: Identifier = Field(description="The notebook variable the value is injected as.")
    type: str = Field(min_length=1, description="Contract type; must match the producer's output type.")
    source: str = Field(
        pattern=SOURCE_PATTERN,
        description="'agent:<agent>.<output>', 'file:<path>' (may use ${VAR}) or 'env:<VAR>'.",
    )

    @property
    def source_kind(self) -> Literal["agent", "file", "env"]:
        return self.source.split(":", 1)[0]  # type: ignore[return-value]

    @property
    def source_target(self) -> str:
        """What follows the scheme: ``agent.output``, a path or a variable name."""
        return self.source.split(":", 1)[1]

    @property
    def source_agent(self) -> tuple[str, str] | None:
        """``(agent, output)`` for an ``agent:`` source, else None."""
        if self.source_kind != "agent":
            return None
        agent, output = self.source_target.split(".", 1)
        return agent, output


class OutputSpec(StrictModel):
    name: Identifier = Field(description="The output's name in the agent's API.")
    type: str = Field(min_length=1, description="Contract type; consumers must declare the same.")
    exposed_as: str = Field(
        pattern=EXPOSED_AS_PATTERN,
        description="'reactive_cell:<variable>': the notebook variable holding the value.",
    )

    @property
    def cell_variable(self) -> str:
        return self.exposed_as.split(":", 1)[1]


class Interface(StrictModel):
    inputs: list[InputSpec] = Field(default_factory=list)
    outputs: list[OutputSpec] = Field(default_factory=list)


class Resources(StrictModel):
    memory: str | None = Field(
        default=None, pattern=MEMORY_PATTERN, description="Memory limit, Kubernetes style: '1Gi', '512Mi'."
    )
    cpu: str | None = Field(
        default=None, pattern=CPU_PATTERN, description="CPU limit in cores: '1.5' or '500m'."
    )

    @field_validator("cpu", mode="before")
    @classmethod
    def _cpu_number(cls, value: Any) -> Any:
        # `cpu: 1.5` is as natural in YAML as `cpu: "1.5"`.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return value

    @property
    def memory_bytes(self) -> int | None:
        if self.memory is None:
            return None
        match = re.fullmatch(MEMORY_PATTERN, self.memory)
        assert match is not None
        number = float(self.memory[: match.start(2)] if match.group(2) else self.memory)
        unit = match.group(2) or ""
        factors = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                   "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
        return int(number * factors[unit])

    @property
    def cpu_cores(self) -> float | None:
        if self.cpu is None:
            return None
        return float(self.cpu[:-1]) / 1000 if self.cpu.endswith("m") else float(self.cpu)


class AgentSpec(StrictModel):
    """One agent: a marimo notebook run as a service (the fields under the seed's ``agent:``)."""

    name: AgentName
    type: Literal["marimo_notebook"] = Field(default="marimo_notebook", description="Execution model.")
    layer: int = Field(ge=0, description="Position in the stack; an agent depends only on lower layers.")
    implementation: Implementation
    dependencies: list[Dependency] = Field(default_factory=list)
    interface: Interface = Field(default_factory=Interface)
    port: int | None = Field(
        default=None,
        ge=1024,
        le=65535,
        description="Port the agent serves on. Unset: the stack assigns the next free port from 2718 "
        "(the docker target then publishes it on a host port free on the engine).",
    )
    resources: Resources = Field(default_factory=Resources)
    env: dict[Annotated[str, Field(pattern=ENV_VAR_PATTERN)], str] = Field(
        default_factory=dict, description="Extra environment variables for the agent's process."
    )
    edit: bool = Field(
        default=False, description="Serve the marimo UI in edit mode (token-protected) instead of app mode."
    )
    workspace: Literal["read"] | None = Field(
        default=None,
        description="'read': the agent reads the KB Conduit workspace (its `file:` and `env:` inputs name it): "
        "targets mount it read-only and point the workspace variable at it, for this agent only. "
        "Unset: the agent gets no workspace.",
    )

    @property
    def dns_name(self) -> str:
        """The name as a DNS label (RFC 1123), for targets that need one."""
        return dns_label(self.name)

    def output(self, name: str) -> OutputSpec | None:
        return next((o for o in self.interface.outputs if o.name == name), None)

    def input(self, name: str) -> InputSpec | None:
        return next((i for i in self.interface.inputs if i.name == name), None)


def dns_label(name: str) -> str:
    """``debriefing_agent`` -> ``debriefing-agent``: lower case, '_' to '-', 63 chars at most."""
    label = re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-")
    return label[:63].rstrip("-") or "agent"


class AgentRef(StrictModel):
    """``ref: agents/debriefer.yaml``: an agent defined in its own file (top-level ``agent:``)."""

    ref: str = Field(min_length=1, description="Path to an agent file, relative to the project root.")


def _agent_item_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "AgentRef" if "ref" in value else "AgentSpec"
    return "AgentRef" if isinstance(value, AgentRef) else "AgentSpec"


AgentItem = Annotated[
    Union[Annotated[AgentSpec, Tag("AgentSpec")], Annotated[AgentRef, Tag("AgentRef")]],
    Discriminator(_agent_item_kind),
]


class DataFlowEdge(StrictModel):
    from_: AgentName = Field(alias="from", description="The producing agent.")
    to: AgentName = Field(description="The consuming agent.")
    data: Identifier = Field(description="The output of `from` that flows.")
    transform: str = Field(
        default="identity",
        pattern=TRANSFORM_PATTERN,
        description="Applied in flight: identity, json, parse_yaml_log, or a dotted path "
        "'package.module:function' / 'package.module.function'.",
    )


class Policies(StrictModel):
    auto_restart: bool = Field(default=True, description="Restart an agent that crashes.")
    cascade_stop: bool = Field(default=True, description="Stop dependants when a dependency stops.")
    parallel_init: bool = Field(default=True, description="Start the agents of one layer together.")


class StackSpec(StrictModel):
    """The seed's ``stack:`` block."""

    name: AgentName
    agents: list[AgentItem] = Field(
        default_factory=list, description="Inline agent definitions, or {ref: path} to an agent file."
    )
    data_flow: list[DataFlowEdge] = Field(default_factory=list)
    policies: Policies = Field(default_factory=Policies)
    #: The agents whose port the stack assigned: the file (or the code composing it) left it unset.
    _assigned_ports: set[str] = PrivateAttr(default_factory=set)

    @model_validator(mode="after")
    def _assign_ports(self) -> "StackSpec":
        # Resolved once, here, so every target and the validator see the same ports.
        taken = {a.port for a in self.agents if isinstance(a, AgentSpec) and a.port is not None}
        candidate = DEFAULT_BASE_PORT
        for agent in self.agents:
            if isinstance(agent, AgentSpec) and agent.port is None:
                while candidate in taken:
                    candidate += 1
                agent.port = candidate
                self._assigned_ports.add(agent.name)
                taken.add(candidate)
        return self

    @property
    def agent_specs(self) -> list[AgentSpec]:
        """The agents, once the loader has replaced every ``ref`` with its file's agent."""
        unresolved = [a.ref for a in self.agents if isinstance(a, AgentRef)]
        if unresolved:
            raise ValueError(f"unresolved agent refs: {', '.join(unresolved)} (load the stack with agentstrata.loader)")
        return [a for a in self.agents if isinstance(a, AgentSpec)]

    def agent(self, name: str) -> AgentSpec | None:
        return next((a for a in self.agent_specs if a.name == name), None)

    def port_fixed(self, name: str) -> bool:
        """Whether agent ``name``'s port was set where it is defined, rather than assigned by the stack."""
        return name not in self._assigned_ports


class Deployment(StrictModel):
    """The ``deployment:`` block: ``target`` and one optional sub-block per target.

    The target registry (:func:`agentstrata.targets.deployment_model`) adds the sub-blocks, each
    target's own settings model: this module knows no target by name.
    """

    target: str = Field(description="The default target of this stack.")

    def _blocks(self) -> list[str]:
        return [name for name in type(self).model_fields if name != "target"]

    @property
    def allowed_targets(self) -> list[str]:
        """The default target plus every target with a sub-block, in registry order."""
        return [name for name in self._blocks() if name == self.target or getattr(self, name) is not None]

    def settings(self, target: str) -> BaseModel:
        """The target's sub-block, or its defaults where the file has none."""
        block = getattr(self, target)
        if block is not None:
            return block
        annotation = type(self).model_fields[target].annotation
        model = next(a for a in getattr(annotation, "__args__", (annotation,)) if a is not type(None))
        return model()


class StackFile(StrictModel):
    """A stack file: top-level ``stack:`` and optionally ``deployment:``."""

    # The model users get is :func:`agentstrata.targets.stack_file_model`, with every target's settings.

    stack: StackSpec
    deployment: Deployment


class AgentFile(StrictModel):
    """An agent file: top-level ``agent:``, as in the seed's Agent Definition."""

    agent: AgentSpec


def json_schema() -> dict[str, Any]:
    """One schema for both file kinds: a stack file or an agent file."""
    from pydantic.json_schema import models_json_schema

    from agentstrata.targets import stack_file_model

    _, defs = models_json_schema(
        [(stack_file_model(), "validation"), (AgentFile, "validation")], ref_template="#/$defs/{model}"
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Strata stack or agent file",
        "oneOf": [{"$ref": "#/$defs/StackFile"}, {"$ref": "#/$defs/AgentFile"}],
        "$defs": defs["$defs"],
    }
