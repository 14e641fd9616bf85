"""The stack picture: its content, the Graphviz and Mermaid texts, and the built-in SVG layout."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agentstrata.graph import GraphEdge, stack_graph, to_dot, to_mermaid, write_graph
from agentstrata.graph_svg import render_svg
from agentstrata.loader import load_stack
from agentstrata.schema import StackSpec

ROOT = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"


def example():
    return stack_graph(load_stack(ROOT / "stacks" / "kb-conduit.yaml").stack)


def small_stack() -> StackSpec:
    def agent(name: str, layer: int, deps: tuple[str, ...] = (), outputs: tuple[str, ...] = ("out",)) -> dict:
        return {
            "name": name, "layer": layer, "implementation": {"path": f"{name}.py"},
            "dependencies": [{"agent_name": d} for d in deps],
            "interface": {"outputs": [{"name": o, "type": o, "exposed_as": f"reactive_cell:{o}"} for o in outputs]},
        }

    return StackSpec.model_validate({
        "name": "small",
        "agents": [agent("low", 0), agent("mid", 1, ("low",)), agent("high", 4, ("low", "mid"), ())],
        "data_flow": [{"from": "low", "to": "high", "data": "out", "transform": "json"},
                      {"from": "ghost", "to": "high", "data": "out"}],
    })


def test_flows_between_two_agents_share_one_edge_and_identity_is_not_shown():
    edges = {(e.source, e.target): e for e in example().edges}
    assert edges[("kb_base", "validator")] == GraphEdge("kb_base", "validator", ("workspace_context", "session_log"))
    assert edges[("kb_base", "debriefer")].labels == ("session_log (parse_yaml_log)",)
    assert len(edges) == 8


def test_a_dependency_without_data_flow_is_a_dashed_edge_and_unknown_agents_are_left_out():
    graph = stack_graph(small_stack())
    assert graph.edges == (
        GraphEdge("low", "high", ("out (json)",)),
        GraphEdge("low", "mid", (), declared=False),
        GraphEdge("mid", "high", (), declared=False),
    )
    assert graph.layers == [0, 1, 4]


def test_dot_has_one_cluster_per_layer_ranked_bottom_to_top():
    dot = to_dot(example())
    assert "rankdir=BT" in dot
    assert [line.strip() for line in dot.splitlines() if "subgraph cluster_layer_" in line] == [
        f"subgraph cluster_layer_{layer} {{" for layer in range(4)
    ]
    assert 'n0 [label=<<table border="0" cellborder="0" cellspacing="1"><tr><td><b>kb_base</b>' in dot
    assert "n0 -> n2 [label=<workspace_context<br/>session_log>];" in dot
    assert "style=dashed" in to_dot(stack_graph(small_stack()))


def test_mermaid_lists_layers_top_down_and_labels_flows():
    mermaid = to_mermaid(example()).splitlines()
    assert mermaid[0] == "flowchart BT"
    assert [line.strip() for line in mermaid if line.strip().startswith("subgraph")] == [
        f'subgraph layer{layer}["Layer {layer}"]' for layer in (3, 2, 1, 0)
    ]
    assert '  n0 -->|"session_log (parse_yaml_log)"| n3' in mermaid
    assert "  n0 -.-> n1" in to_mermaid(stack_graph(small_stack())).splitlines()


def _texts(root: ET.Element) -> list[tuple[str, float]]:
    return [("".join(t.itertext()), float(t.get("y", 0))) for t in root.iter(f"{SVG}text")]


def test_the_builtin_svg_stacks_layers_bottom_up_with_every_agent_and_flow():
    root = ET.fromstring(render_svg(example()))
    texts = _texts(root)
    layer_y = {text: y for text, y in texts if text.startswith("Layer ")}
    assert sorted(layer_y, key=layer_y.__getitem__) == ["Layer 3", "Layer 2", "Layer 1", "Layer 0"]
    shown = {text for text, _ in texts}
    assert {"kb_base:2717", "concierge:2722", "recommendations", "session_log (parse_yaml_log)"} <= shown
    assert len(list(root.iter(f"{SVG}path"))) == 8 + 1  # eight flows, and the arrowhead marker


def test_the_builtin_svg_keeps_labels_apart():
    root = ET.fromstring(render_svg(example()))
    boxes = [tuple(float(r.get(k)) for k in ("x", "y", "width", "height"))
             for r in root.iter(f"{SVG}rect") if r.get("fill-opacity")]
    assert len(boxes) == 8
    for i, (x1, y1, w1, h1) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[i + 1:]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1


def test_the_builtin_svg_routes_a_flow_that_skips_layers():
    root = ET.fromstring(render_svg(stack_graph(small_stack())))
    assert {"Layer 0", "Layer 1", "Layer 4", "out (json)"} <= {text for text, _ in _texts(root)}


def test_without_graphviz_the_svg_is_built_in(tmp_path: Path):
    written = write_graph(example(), tmp_path, dot="")
    assert [p.name for p in written] == ["kb-conduit.svg", "kb-conduit.mmd"]
    assert (tmp_path / "kb-conduit.svg").read_text() == render_svg(example())


def test_with_graphviz_there_is_a_png_too(tmp_path: Path):
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("Graphviz dot is not installed")
    written = write_graph(example(), tmp_path / "out", dot=dot)
    assert [p.name for p in written] == ["kb-conduit.svg", "kb-conduit.png", "kb-conduit.mmd"]
    assert "Layer 0" in (tmp_path / "out" / "kb-conduit.svg").read_text()
