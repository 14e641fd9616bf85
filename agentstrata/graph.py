"""A stack as a picture: layers as bands from layer 0 at the bottom, agents as nodes, data flows as edges.

Graphviz ``dot`` draws it when installed (SVG and PNG); otherwise :mod:`agentstrata.graph_svg`
lays it out itself, so there is always an SVG. Mermaid text goes alongside, for Markdown.
"""

from __future__ import annotations

import html
import itertools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from agentstrata.errors import StrataError
from agentstrata.graph_svg import render_svg
from agentstrata.schema import StackSpec

#: Seconds Graphviz may take; a stack is small, so this only guards against a hung process.
DOT_TIMEOUT = 60


@dataclass(frozen=True)
class GraphNode:
    name: str
    layer: int
    port: int | None
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class GraphEdge:
    """All flows from one agent to another; ``declared`` is False for a dependency without data_flow."""

    source: str
    target: str
    labels: tuple[str, ...]
    declared: bool = True


@dataclass(frozen=True)
class StackGraph:
    name: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]

    @property
    def layers(self) -> list[int]:
        return sorted({n.layer for n in self.nodes})

    def in_layer(self, layer: int) -> list[GraphNode]:
        return [n for n in self.nodes if n.layer == layer]


def stack_graph(stack: StackSpec) -> StackGraph:
    """The picture's content. Flows between agents the stack does not hold are left out."""
    agents = stack.agent_specs
    nodes = tuple(GraphNode(a.name, a.layer, a.port, tuple(o.name for o in a.interface.outputs)) for a in agents)
    known = {a.name for a in agents}
    flows: dict[tuple[str, str], list[str]] = {}
    for edge in stack.data_flow:
        if edge.from_ in known and edge.to in known:
            label = edge.data if edge.transform == "identity" else f"{edge.data} ({edge.transform})"
            flows.setdefault((edge.from_, edge.to), []).append(label)
    edges = [GraphEdge(source, target, tuple(labels)) for (source, target), labels in flows.items()]
    for agent in agents:
        for dependency in agent.dependencies:
            pair = (dependency.agent_name, agent.name)
            if dependency.agent_name in known and pair not in flows:
                flows[pair] = []
                edges.append(GraphEdge(*pair, labels=(), declared=False))
    return StackGraph(stack.name, nodes, tuple(edges))


def to_dot(graph: StackGraph) -> str:
    """Graphviz source: one cluster per layer, ranked bottom to top."""
    ids = {node.name: f"n{i}" for i, node in enumerate(graph.nodes)}
    lines = [
        f"digraph {_quote(graph.name)} {{",
        "  rankdir=BT; newrank=true; nodesep=0.45; ranksep=0.85;",
        f'  graph [fontname="Helvetica", fontsize=18, labelloc=t, label={_quote(graph.name)}];',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#4a6a8a", fontname="Helvetica", '
        "margin=\"0.15,0.06\"];",
        '  edge [fontname="Helvetica", fontsize=10, color="#4a6a8a", fontcolor="#2d3e50", arrowsize=0.8];',
    ]
    for layer in graph.layers:
        members = graph.in_layer(layer)
        lines += [
            f"  subgraph cluster_layer_{layer} {{",
            f'    label="Layer {layer}"; labeljust=l; labelloc=b; fontsize=12; fontcolor="#4a6a8a";',
            '    style="filled,rounded"; fillcolor="#eef3f9"; color="#c9d7e6";',
            f"    {{ rank=same; {' '.join(ids[n.name] for n in members)} }}",
        ]
        lines += [f"    {ids[n.name]} [label=<{_node_label(n)}>];" for n in members]
        lines.append("  }")
    layers = graph.layers
    for lower, upper in itertools.pairwise(layers):
        # Keeps the bands stacked even where no edge joins two layers.
        lines.append(f"  {ids[graph.in_layer(lower)[0].name]} -> {ids[graph.in_layer(upper)[0].name]} [style=invis];")
    for edge in graph.edges:
        if edge.declared:
            label = "<br/>".join(html.escape(text) for text in edge.labels)
            lines.append(f"  {ids[edge.source]} -> {ids[edge.target]} [label=<{label}>];")
        else:
            lines.append(f'  {ids[edge.source]} -> {ids[edge.target]} [style=dashed, color="#9aa7b4", '
                         'label=<<i>dependency, no data_flow</i>>, fontcolor="#7b8793"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_label(node: GraphNode) -> str:
    port = f' <font color="#7b8793" point-size="10">:{node.port}</font>' if node.port else ""
    outputs = "<br/>".join(html.escape(o) for o in node.outputs) or "<i>no outputs</i>"
    return (
        '<table border="0" cellborder="0" cellspacing="1">'
        f"<tr><td><b>{html.escape(node.name)}</b>{port}</td></tr>"
        f'<tr><td><font point-size="10" color="#2d3e50">{outputs}</font></td></tr></table>'
    )


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_mermaid(graph: StackGraph) -> str:
    """Mermaid flowchart text, for Markdown viewers."""
    ids = {node.name: f"n{i}" for i, node in enumerate(graph.nodes)}
    lines = ["flowchart BT"]
    for layer in reversed(graph.layers):
        lines.append(f'  subgraph layer{layer}["Layer {layer}"]')
        for node in graph.in_layer(layer):
            outputs = "<br/>".join(node.outputs)
            text = f"<b>{node.name}</b>" + (f"<br/>{outputs}" if outputs else "")
            lines.append(f'    {ids[node.name]}["{_mermaid_text(text)}"]')
        lines.append("  end")
    for edge in graph.edges:
        if edge.declared:
            lines.append(f'  {ids[edge.source]} -->|"{_mermaid_text("<br/>".join(edge.labels))}"| {ids[edge.target]}')
        else:
            lines.append(f"  {ids[edge.source]} -.-> {ids[edge.target]}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def write_graph(graph: StackGraph, out_dir: Path, dot: str | None = None) -> list[Path]:
    """Write ``<stack>.svg``, ``<stack>.png`` (with Graphviz) and ``<stack>.mmd``; return their paths.

    ``dot`` is the Graphviz binary, found on PATH when not given; without it the SVG comes from
    the built-in layout.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StrataError(f"{out_dir}: cannot create output directory: {exc.strerror or exc}") from None
    stem = out_dir / graph.name
    written: list[Path] = []
    dot = dot if dot is not None else shutil.which("dot")
    source = to_dot(graph)
    if dot:
        for suffix in ("svg", "png"):
            target = stem.with_suffix(f".{suffix}")
            _run_dot(dot, suffix, source, target)
            written.append(target)
    else:
        target = stem.with_suffix(".svg")
        target.write_text(render_svg(graph), encoding="utf-8")
        written.append(target)
    mermaid = stem.with_suffix(".mmd")
    mermaid.write_text(to_mermaid(graph), encoding="utf-8")
    written.append(mermaid)
    return written


def _run_dot(dot: str, fmt: str, source: str, target: Path) -> None:
    try:
        result = subprocess.run([dot, f"-T{fmt}", "-o", str(target)], input=source.encode(), capture_output=True,
                                timeout=DOT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StrataError(f"graphviz ({dot}) failed: {exc}") from None
    if result.returncode != 0:
        raise StrataError(f"graphviz ({dot}) failed: {result.stderr.decode(errors='replace').strip()}")
