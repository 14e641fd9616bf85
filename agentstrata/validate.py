"""Rules a loaded stack or agent file must satisfy beyond its schema, each with a stable code.

Every finding comes back at once, located in the file (and line) where it stands: an agent
pulled in by ``ref`` is reported in its own file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Union

from agentstrata.contract import check_implementation
from agentstrata.errors import Diagnostic
from agentstrata.loader import LoadedAgent, LoadedSpec, LoadedStack
from agentstrata.schema import AgentSpec
from agentstrata.targets.base.start_order import upstreams
from agentstrata.transforms import TransformError, check_transform, resolve_transform
from agentstrata.wire import KB_ROOT_ENV, RESERVED_ENV, UPSTREAM_ENV_FORM, is_upstream_env_var, upstream_env_var
from agentstrata.workspace import uses_workspace, workspace_inputs
from agentstrata.yaml_source import Path_

#: Every rule, by code. Codes are stable: a retired rule keeps its code unused.
RULES: dict[str, str] = {
    "S001": "the stack has at least one agent",
    "S002": "agent names are unique",
    "S003": "agent ports are unique",
    "S004": "every dependency names an agent of the stack",
    "S005": "layer isolation: an agent depends only on agents in strictly lower layers",
    "S006": "dependencies form no cycle",
    "S007": "an 'agent:X.out' input source names an agent X that declares output 'out'",
    "S008": "an 'agent:' input has the same type as the output it reads",
    "S009": "a dependency's 'inputs' maps an output the dependency declares to an input declared with that source",
    "S010": "every 'agent:' input source has a dependency that maps it",
    "S011": "an agent 'ref' names a loadable agent file (reported by the loader)",
    "S012": "a data_flow edge joins two agents of the stack along a declared dependency",
    "S013": "a data_flow edge carries an output its 'from' agent declares",
    "S014": "a data_flow transform is built in or a function its module's source defines (read, never run)",
    "S015": "the implementation file exists and is a file",
    "S016": "the implementation is a marimo notebook whose cells all compile",
    "S017": "every declared output is defined by a cell of the notebook",
    "S018": "no declared input is defined in the notebook's app.setup",
    "S019": "a cell defining a declared input defines nothing but declared inputs",
    "S020": "warning: every declared input is read or defined by the notebook",
    "S021": "warning: every name the notebook reads is defined by it, built in, or a declared input",
    "S022": "no name is defined by more than one cell of the notebook",
    "S023": "an agent's env does not redefine a variable of the runtime's wire contract",
    "S024": f"the upstream agents of an agent map to distinct {UPSTREAM_ENV_FORM} variables",
    "S025": f"an agent with an input that reads the KB workspace (file:${{{KB_ROOT_ENV}}}..., env:{KB_ROOT_ENV}) "
            "declares 'workspace: read'",
    "S026": "warning: an agent that declares 'workspace: read' has an input that can read it (a 'file:' input, "
            f"env:{KB_ROOT_ENV})",
}


def all_rules() -> dict[str, str]:
    """The validator's rules and every target's, by code."""
    from agentstrata.targets import target_class, target_names

    rules = dict(RULES)
    for name in target_names():
        rules.update(target_class(name).rules)
    return rules

Site = tuple[AgentSpec, Path_]


def validate(loaded: Union[LoadedStack, LoadedAgent], *, import_transforms: bool = False) -> list[Diagnostic]:
    """All findings for a loaded stack or agent file: errors first, then warnings, by file and line.

    Nothing from the files runs, unless ``import_transforms`` imports user transforms (S014).
    """
    if isinstance(loaded, LoadedStack):
        findings = validate_stack(loaded, import_transforms=import_transforms)
    else:
        findings = _agent_rules(loaded, loaded.agent, ("agent",), None)
    return sort_diagnostics(findings)


def validate_stack(loaded: LoadedStack, *, import_transforms: bool = False) -> list[Diagnostic]:
    """All findings for a stack, unsorted."""
    sites: list[Site] = [(agent, ("stack", "agents", i)) for i, agent in enumerate(loaded.stack.agent_specs)]
    if not sites:
        return [loaded.diagnostic(("stack", "agents"), "the stack has no agents", "S001")]
    agents: dict[str, Site] = {}
    findings = list(_unique(loaded, sites, agents))
    findings += _cycles(loaded, agents)
    findings += _data_flow(loaded, agents, import_transforms)
    for agent, loc in sites:
        findings += _agent_rules(loaded, agent, loc, agents)
        findings += _wire_env(loaded, agent, loc)
    findings += _target_checks(loaded)
    return findings


def _wire_env(loaded: LoadedStack, agent: AgentSpec, loc: Path_) -> Iterator[Diagnostic]:
    """S023, S024: what every target sets for an agent, it must be able to set."""
    for key in agent.env:
        if key in RESERVED_ENV or is_upstream_env_var(key):
            what = "the agent's state directory or KB" if key in RESERVED_ENV else "an upstream agent's URL"
            yield loaded.diagnostic(loc + ("env", key), f"env {key!r} of agent {agent.name!r} is set by every "
                                    f"target ({what}); remove it", "S023", key=True)
    variables: dict[str, str] = {}
    for upstream in upstreams(agent):
        variable = upstream_env_var(upstream)
        if variable in variables:
            yield loaded.diagnostic(loc + ("name",), f"upstream agents {variables[variable]!r} and {upstream!r} of "
                                    f"agent {agent.name!r} both map to {variable}; rename one", "S024")
        variables[variable] = upstream


def _target_checks(loaded: LoadedStack) -> list[Diagnostic]:
    """Each allowed target's own checks, with its settings from the file (its module loads no bindings)."""
    from agentstrata.targets import configured_target

    found: list[Diagnostic] = []
    for name in loaded.spec.deployment.allowed_targets:
        found += configured_target(loaded, name).checks(loaded)
    return found


def sort_diagnostics(findings: list[Diagnostic]) -> list[Diagnostic]:
    """Errors first, then warnings, each by file, line and column; duplicates dropped."""
    unique = dict.fromkeys(findings)
    return sorted(unique, key=lambda d: (d.severity != "error", d.file, d.line, d.col, d.code, d.loc, d.message))


def _unique(loaded: LoadedStack, sites: list[Site], agents: dict[str, Site]) -> Iterator[Diagnostic]:
    """S002, S003; fills ``agents`` with the first agent of each name."""
    ports: dict[int, str] = {}
    for agent, loc in sites:
        if agent.name in agents:
            first = loaded.mark(agents[agent.name][1] + ("name",))
            yield loaded.diagnostic(loc + ("name",), f"duplicate agent name {agent.name!r}: first defined at "
                                    f"{first.file}:{first.line}:{first.col}", "S002")
        else:
            agents[agent.name] = (agent, loc)
        if agent.port is not None:
            if agent.port in ports:
                yield loaded.diagnostic(loc + ("port",), f"port {agent.port} is already used by agent "
                                        f"{ports[agent.port]!r}", "S003")
            else:
                ports[agent.port] = agent.name


def _agent_rules(spec: LoadedSpec, agent: AgentSpec, loc: Path_, agents: dict[str, Site] | None) -> list[Diagnostic]:
    """Rules about one agent; those that look at other agents need ``agents`` (None for an agent file)."""
    findings: list[Diagnostic] = []
    if agents is not None:
        findings += _dependencies_exist(spec, agent, loc, agents)
        findings += _input_sources(spec, agent, loc, agents)
    findings += _mappings(spec, agent, loc, agents)
    findings += _workspace(spec, agent, loc)
    findings += check_implementation(spec, agent, loc)
    return findings


def _workspace(spec: LoadedSpec, agent: AgentSpec, loc: Path_) -> Iterator[Diagnostic]:
    """S025, S026: the workspace is mounted only for the agents that say they read it."""
    reading = workspace_inputs(agent)
    if uses_workspace(agent):
        # A plain 'file:' path may lie under a target's workspace_path: only the targets can tell (D007).
        if not reading and all(declared.source_kind != "file" for declared in agent.interface.inputs):
            yield spec.diagnostic(loc + ("workspace",), f"agent {agent.name!r} declares 'workspace: read' but no "
                                  f"input can read it (file:${{{KB_ROOT_ENV}}}/..., env:{KB_ROOT_ENV}); remove it "
                                  f"unless the notebook reads {KB_ROOT_ENV} itself", "S026", severity="warning")
        return
    for index, declared in reading:
        yield spec.diagnostic(loc + ("interface", "inputs", index, "source"), f"input {declared.name!r} reads the KB "
                              f"workspace ({declared.source}), which agent {agent.name!r} does not declare: add "
                              "'workspace: read' to the agent", "S025")


def _dependencies_exist(
    spec: LoadedSpec, agent: AgentSpec, loc: Path_, agents: dict[str, Site]
) -> Iterator[Diagnostic]:
    """S004, S005."""
    for index, dependency in enumerate(agent.dependencies):
        here = loc + ("dependencies", index, "agent_name")
        target = agents.get(dependency.agent_name)
        if target is None:
            hint = _did_you_mean(dependency.agent_name, agents)
            yield spec.diagnostic(here, f"unknown agent {dependency.agent_name!r}{hint}", "S004")
        elif target[0].layer >= agent.layer:
            yield spec.diagnostic(here, f"{dependency.agent_name!r} is in layer {target[0].layer}, not below this "
                                  f"agent's layer {agent.layer}: an agent depends only on lower layers", "S005")


def _input_sources(spec: LoadedSpec, agent: AgentSpec, loc: Path_, agents: dict[str, Site]) -> Iterator[Diagnostic]:
    """S007, S008."""
    for index, declared in enumerate(agent.interface.inputs):
        source = declared.source_agent
        if source is None:
            continue
        producer_name, output_name = source
        here = loc + ("interface", "inputs", index)
        producer = agents.get(producer_name)
        if producer is None:
            yield spec.diagnostic(here + ("source",), f"source names unknown agent {producer_name!r}"
                                  f"{_did_you_mean(producer_name, agents)}", "S007")
            continue
        output = producer[0].output(output_name)
        if output is None:
            yield spec.diagnostic(here + ("source",), f"agent {producer_name!r} declares no output {output_name!r}"
                                  f"{_declared(producer[0])}", "S007")
        elif output.type != declared.type:
            yield spec.diagnostic(here + ("type",), f"type {declared.type!r} differs from {producer_name}."
                                  f"{output_name}'s type {output.type!r}", "S008")


def _mappings(spec: LoadedSpec, agent: AgentSpec, loc: Path_, agents: dict[str, Site] | None) -> Iterator[Diagnostic]:
    """S009, S010: ``dependencies[].inputs`` and ``agent:`` sources say the same thing."""
    mapped: set[tuple[str, str, str]] = set()
    for index, dependency in enumerate(agent.dependencies):
        producer = agents.get(dependency.agent_name) if agents is not None else None
        for output_name, input_name in dependency.inputs.items():
            here = loc + ("dependencies", index, "inputs", output_name)
            mapped.add((dependency.agent_name, output_name, input_name))
            if producer is not None and producer[0].output(output_name) is None:
                yield spec.diagnostic(here, f"agent {dependency.agent_name!r} declares no output {output_name!r}"
                                      f"{_declared(producer[0])}", "S009", key=True)
            declared = agent.input(input_name)
            expected = f"agent:{dependency.agent_name}.{output_name}"
            if declared is None:
                yield spec.diagnostic(here, f"maps {output_name!r} to input {input_name!r}, which the interface "
                                      f"does not declare (add an input with source {expected!r})", "S009")
            elif declared.source != expected:
                yield spec.diagnostic(here, f"maps {output_name!r} to input {input_name!r}, whose source is "
                                      f"{declared.source!r}, not {expected!r}", "S009")
    depends_on = {d.agent_name for d in agent.dependencies}
    for index, declared in enumerate(agent.interface.inputs):
        source = declared.source_agent
        if source is None or (source[0], source[1], declared.name) in mapped:
            continue
        here = loc + ("interface", "inputs", index, "source")
        if source[0] not in depends_on:
            yield spec.diagnostic(here, f"{source[0]!r} is not among this agent's dependencies (add it, with "
                                  f"inputs {{{source[1]}: {declared.name}}})", "S010")
        else:
            yield spec.diagnostic(here, f"dependency {source[0]!r} does not map {source[1]!r} to this input "
                                  f"(add {source[1]}: {declared.name} to its inputs)", "S010")


def _cycles(loaded: LoadedStack, agents: dict[str, Site]) -> Iterator[Diagnostic]:
    """S006: one finding per cycle, at the dependency entry of its first agent (in file order) that closes it."""
    graph = {name: [d.agent_name for d in site[0].dependencies if d.agent_name in agents]
             for name, site in agents.items()}
    order = {name: i for i, name in enumerate(agents)}
    for component in _strongly_connected(graph):
        if len(component) == 1 and component[0] not in graph[component[0]]:
            continue
        members = set(component)
        start = min(members, key=order.__getitem__)
        path = _cycle_path(graph, start, members)
        agent, loc = agents[start]
        index = next(i for i, d in enumerate(agent.dependencies) if d.agent_name == path[1])
        yield loaded.diagnostic(loc + ("dependencies", index, "agent_name"),
                                f"dependency cycle: {' -> '.join(path)}", "S006")


def _strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (a thousand-agent chain must not exhaust the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(graph[successor])))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _cycle_path(graph: dict[str, list[str]], start: str, members: set[str]) -> list[str]:
    """A shortest cycle through ``start`` within one strongly connected component."""
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in graph[node]:
                if successor == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if successor in members and successor not in parents:
                    parents[successor] = node
                    following.append(successor)
        frontier = following
    raise AssertionError("a strongly connected component always has a cycle")


def _data_flow(loaded: LoadedStack, agents: dict[str, Site], import_transforms: bool) -> Iterator[Diagnostic]:
    """S012, S013, S014."""
    checked: dict[str, str | None] = {}
    for index, edge in enumerate(loaded.stack.data_flow):
        here: Path_ = ("stack", "data_flow", index)
        producer, consumer = agents.get(edge.from_), agents.get(edge.to)
        for field, name, site in (("from", edge.from_, producer), ("to", edge.to, consumer)):
            if site is None:
                yield loaded.diagnostic(here + (field,), f"unknown agent {name!r}{_did_you_mean(name, agents)}", "S012")
        if producer and consumer and all(d.agent_name != edge.from_ for d in consumer[0].dependencies):
            yield loaded.diagnostic(here, f"{edge.to!r} does not depend on {edge.from_!r}: declare the "
                                    "dependency on the consuming agent", "S012")
        if producer is not None and producer[0].output(edge.data) is None:
            yield loaded.diagnostic(here + ("data",), f"agent {edge.from_!r} declares no output {edge.data!r}"
                                    f"{_declared(producer[0])}", "S013")
        if edge.transform not in checked:
            checked[edge.transform] = _transform_problem(edge.transform, loaded.root, import_transforms)
        if checked[edge.transform]:
            yield loaded.diagnostic(here + ("transform",), checked[edge.transform] or "", "S014")


def _transform_problem(name: str, root: Path, import_transforms: bool) -> str | None:
    """Why ``name`` cannot be resolved, or None: from its source alone, or by importing it when asked."""
    try:
        if import_transforms:
            resolve_transform(name, root)
        else:
            check_transform(name, root)
    except TransformError as exc:
        return str(exc)
    return None


def _did_you_mean(name: str, agents: dict[str, Site]) -> str:
    close = difflib.get_close_matches(name, list(agents), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _declared(agent: AgentSpec) -> str:
    names = [o.name for o in agent.interface.outputs]
    return f" (it declares: {', '.join(names)})" if names else " (it declares no outputs)"
