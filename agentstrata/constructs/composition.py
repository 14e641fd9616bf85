"""A stack spec built by Python calls instead of a YAML file.

It becomes the same :class:`~agentstrata.schema.StackFile` a YAML file would load into, with the
file and line of each call as its marks, so validation, rendering and error locations are shared
with the YAML path.
"""

from __future__ import annotations

from pathlib import Path

from agentstrata.constructs.call_site import CallSite, build
from agentstrata.constructs.stack_source import StackSource
from agentstrata.errors import SpecError
from agentstrata.loader import LoadedStack
from agentstrata.schema import (
    AgentSpec,
    DataFlowEdge,
    Dependency,
    InputSpec,
    Policies,
    StackSpec,
)
from agentstrata.targets import deployment_model, stack_file_model
from agentstrata.yaml_source import Mark, Path_


class Composition:
    """Agents and connections declared one call at a time, each remembering where it was declared."""

    def __init__(self, name: str, policies: Policies, target: str, site: CallSite) -> None:
        self.name = name
        self.policies = policies
        self.target = target
        self.site = site
        self.agents: list[AgentSpec] = []
        self.data_flow: list[DataFlowEdge] = []
        self._marks: dict[Path_, Mark] = {}
        self._mark((), site)
        self._mark(("stack",), site)

    def _mark(self, loc: Path_, site: CallSite) -> None:
        self._marks.setdefault(loc, Mark(site.shown, site.line, 1, loc))

    def _index(self, name: str) -> int:
        return next(i for i, agent in enumerate(self.agents) if agent.name == name)

    def add(self, agent: AgentSpec, site: CallSite) -> None:
        """Append an agent; a name or an explicit port already taken is an error naming both calls."""
        for index, other in enumerate(self.agents):
            first = self._marks[("stack", "agents", index)]
            if other.name == agent.name:
                raise SpecError([site.diagnostic(f"duplicate agent name {agent.name!r}: first added at "
                                                 f"{first.file}:{first.line}", "name", "S002")])
            if agent.port is not None and other.port == agent.port:
                raise SpecError([site.diagnostic(f"agent {agent.name!r} asks for port {agent.port}, already "
                                                 f"used by agent {other.name!r} (added at {first.file}:{first.line})",
                                                 "port", "S003")])
        self._mark(("stack", "agents", len(self.agents)), site)
        self.agents.append(agent)

    def connect(self, consumer: str, producer: str, output: str, name: str, transform: str, site: CallSite) -> None:
        """``consumer`` reads ``producer.output`` as input ``name``: the input, the dependency's mapping and
        the data_flow edge, as a YAML author writes them."""
        agent = self.agents[self._index(consumer)]
        source = self.agents[self._index(producer)]
        produced = source.output(output)
        if produced is None:
            names = ", ".join(o.name for o in source.interface.outputs) or "none"
            raise SpecError([site.diagnostic(f"agent {producer!r} declares no output {output!r} "
                                             f"(it declares: {names})", "consumes", "S007")])
        if agent.input(name) is not None:
            raise SpecError([site.diagnostic(f"agent {consumer!r} already has an input {name!r} "
                                             f"(source {agent.input(name).source!r}); pick another name with as_=",
                                             "consumes")])
        dependency = next((d for d in agent.dependencies if d.agent_name == producer), None)
        if dependency is not None and output in dependency.inputs:
            raise SpecError([site.diagnostic(f"agent {consumer!r} already consumes {producer}.{output} as "
                                             f"{dependency.inputs[output]!r}", "consumes")])
        what = f"{consumer}.consumes"
        declared = build(InputSpec, {"name": name, "type": produced.type, "source": f"agent:{producer}.{output}"},
                         site, what)
        edge = build(DataFlowEdge, {"from": producer, "to": consumer, "data": output, "transform": transform},
                     site, what)
        here = ("stack", "agents", self._index(consumer))
        agent.interface.inputs.append(declared)
        self._mark(here + ("interface", "inputs", len(agent.interface.inputs) - 1), site)
        if dependency is None:
            dependency = Dependency(agent_name=producer)
            agent.dependencies.append(dependency)
            self._mark(here + ("dependencies", len(agent.dependencies) - 1), site)
        dependency.inputs[output] = name
        self._mark(("stack", "data_flow", len(self.data_flow)), site)
        self.data_flow.append(edge)

    def source(self, root: Path) -> StackSource:
        """The composed stack as loaded from a file: ports assigned, every part marked at its call."""
        stack = StackSpec(name=self.name, agents=list(self.agents), data_flow=list(self.data_flow),
                          policies=self.policies)
        spec = stack_file_model()(stack=stack, deployment=deployment_model()(target=self.target))
        return StackSource(LoadedStack(self.site.path, root, dict(self._marks), {}, {}, spec=spec))
