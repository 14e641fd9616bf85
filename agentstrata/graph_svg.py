"""A built-in SVG layout of a stack graph, for machines without Graphviz.

A small layered (Sugiyama-style) drawing: layers are full-width bands, layer 0 at the bottom.
A flow that skips layers passes through a slot in each band between, so it never crosses an
agent; agents and slots are ordered by where their producers sit (barycentre), which keeps
most flows from crossing. Labels sit in the gap below their consumer's band, stacked so that
none overlaps another.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentstrata.graph import GraphEdge, GraphNode, StackGraph

CHAR_WIDTH = 7.0  # px per character at 12px sans-serif
BOLD_WIDTH = 8.2  # px per character at 14px bold sans-serif
SMALL_WIDTH = 6.0  # px per character at 10-11px
LINE_HEIGHT = 15
NODE_GAP = 36
SLOT_WIDTH = 16  # a skipped band's room for one passing flow
BAND_PADDING = 16
MIN_GAP = 44
LEFT = 86  # room for the band's "Layer N" label
TITLE = 44


@dataclass
class _Item:
    """One thing in a band's row: an agent, or a slot a longer flow passes through."""

    key: str
    width: float
    height: float
    node: GraphNode | None = None
    preds: list[str] = field(default_factory=list)
    x: float = 0.0


@dataclass
class _Route:
    edge: GraphEdge
    #: Item keys from the producer to the consumer, one per band crossed.
    keys: list[str]


@dataclass
class _Label:
    texts: tuple[str, ...]
    x: float
    width: float
    slot: int = 0


def render_svg(graph: StackGraph) -> str:
    layers = graph.layers
    band_of = {node.name: layers.index(node.layer) for node in graph.nodes}
    rows: list[list[_Item]] = [[] for _ in layers]
    items: dict[str, _Item] = {}
    for node in graph.nodes:
        width, height = _node_size(node)
        item = _Item(node.name, width, height, node)
        rows[band_of[node.name]].append(item)
        items[item.key] = item
    routes = []
    for edge in graph.edges:
        keys = [edge.source]
        for band in range(band_of[edge.source] + 1, band_of[edge.target]):  # upward flows only skip bands
            slot = _Item(f"{edge.source}->{edge.target}@{band}", SLOT_WIDTH, 0, preds=[keys[-1]])
            band_of[slot.key] = band
            rows[band].append(slot)
            items[slot.key] = slot
            keys.append(slot.key)
        items[edge.target].preds.append(keys[-1])
        keys.append(edge.target)
        routes.append(_Route(edge, keys))
    _order(rows)
    width = LEFT + max((_row_width(row) for row in rows), default=0) + 2 * NODE_GAP
    for row in rows:
        x = LEFT + NODE_GAP + (width - LEFT - 2 * NODE_GAP - _row_width(row)) / 2
        for item in row:
            item.x = x
            x += item.width + NODE_GAP
    starts, ends = _ends(routes, items)
    labels = _place_labels(routes, ends, band_of)
    band_height = [max((i.height for i in row if i.node), default=0) + 2 * BAND_PADDING for row in rows]
    gaps = [max(MIN_GAP, _gap_height(labels.get(band, []))) for band in range(1, len(rows))]
    height = TITLE + sum(band_height) + sum(gaps) + 16
    band_top = [0.0] * len(rows)
    y = TITLE
    for band in reversed(range(len(rows))):
        band_top[band] = y
        y += band_height[band] + (gaps[band - 1] if band else 0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#4a6a8a"/></marker></defs>',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
        f'<text x="{width / 2:.0f}" y="28" text-anchor="middle" font-size="18">{escape(graph.name)}</text>',
    ]
    for band, layer in enumerate(layers):
        parts.append(f'<rect x="8" y="{band_top[band]:.0f}" width="{width - 16:.0f}" height="{band_height[band]:.0f}" '
                     'rx="8" fill="#eef3f9" stroke="#c9d7e6"/>')
        parts.append(f'<text x="18" y="{band_top[band] + 20:.0f}" fill="#4a6a8a">Layer {layer}</text>')
    box = {}
    for key, item in items.items():
        top, full = band_top[band_of[key]], band_height[band_of[key]]
        # An agent's box is its own; a slot spans its whole band, for the flow passing through.
        box[key] = (item.x, top + (full - item.height) / 2, item.width, item.height) if item.node else (
            item.x, top, item.width, full)
    parts += _routes(routes, box, starts, ends)
    parts += [_node(item.node, box[item.key]) for item in items.values() if item.node]
    for band, placed in labels.items():
        top = band_top[band] + band_height[band]  # the gap just below the consumers' band
        parts += [_label(label, top, placed) for label in placed]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _order(rows: list[list[_Item]]) -> None:
    """Band 0 keeps file order; each band above sorts by its items' predecessors' mean position."""
    position: dict[str, float] = {}
    for row in rows:
        keyed = []
        for index, item in enumerate(row):
            placed = [position[p] for p in item.preds if p in position]
            keyed.append((sum(placed) / len(placed) if placed else index, index, item))
        row[:] = [item for _, _, item in sorted(keyed, key=lambda k: (k[0], k[1]))]
        position.update({item.key: float(i) for i, item in enumerate(row)})


def _row_width(row: list[_Item]) -> float:
    return sum(item.width for item in row) + NODE_GAP * max(0, len(row) - 1)


def _place_labels(routes: list[_Route], ends: dict[int, float],
                  band_of: dict[str, int]) -> dict[int, list[_Label]]:
    """Labels by the band of their consumer, under the arrow's end, stacked so none overlaps another."""
    labels: dict[int, list[_Label]] = {}
    for route in routes:
        band = band_of[route.keys[-1]]
        if not route.edge.labels or band_of[route.keys[-2]] >= band:
            continue  # a flow that is not upward has no gap below its consumer to hold a label
        x = ends[id(route)]
        width = max(len(t) for t in route.edge.labels) * SMALL_WIDTH + 10
        labels.setdefault(band, []).append(_Label(route.edge.labels, x, width))
    for placed in labels.values():
        placed.sort(key=lambda label: label.x)
        taken: list[list[_Label]] = []
        for label in placed:
            label.slot = next((i for i, slot in enumerate(taken) if all(
                abs(label.x - other.x) * 2 >= label.width + other.width + 6 for other in slot)), len(taken))
            if label.slot == len(taken):
                taken.append([])
            taken[label.slot].append(label)
    return labels


def _center(item: _Item) -> float:
    return item.x + item.width / 2


def _slot_height(placed: list[_Label], slot: int) -> float:
    return max(len(label.texts) for label in placed if label.slot == slot) * LINE_HEIGHT + 6


def _gap_height(placed: list[_Label]) -> float:
    slots = {label.slot for label in placed}
    return sum(_slot_height(placed, slot) for slot in slots) + 24


def _ends(routes: list[_Route], items: dict[str, _Item]) -> tuple[dict[int, float], dict[int, float]]:
    """Where each flow leaves its producer and enters its consumer (x, by ``id(route)``).

    The ends spread along the box, ordered by where the other end sits, so lines leave untangled.
    """
    outgoing: dict[str, list[_Route]] = {}
    incoming: dict[str, list[_Route]] = {}
    for route in routes:
        outgoing.setdefault(route.keys[0], []).append(route)
        incoming.setdefault(route.keys[-1], []).append(route)
    start: dict[int, float] = {}
    end: dict[int, float] = {}
    for key, group in outgoing.items():
        group.sort(key=lambda r: _center(items[r.keys[1]]))
        for index, route in enumerate(group):
            start[id(route)] = items[key].x + items[key].width * (index + 1) / (len(group) + 1)
    for key, group in incoming.items():
        group.sort(key=lambda r: _center(items[r.keys[-2]]))
        for index, route in enumerate(group):
            end[id(route)] = items[key].x + items[key].width * (index + 1) / (len(group) + 1)
    return start, end


def _routes(routes: list[_Route], box: dict[str, tuple[float, float, float, float]],
            start: dict[int, float], end: dict[int, float]) -> list[str]:
    """Each flow as a path: out of its producer's top, through its slots, into its consumer's bottom."""
    paths = []
    for route in routes:
        source, target = box[route.keys[0]], box[route.keys[-1]]
        upward = source[1] > target[1]
        points = [(start[id(route)], source[1] if upward else source[1] + source[3])]
        for key in route.keys[1:-1]:
            x, y, _, h = box[key]
            points += [(x + SLOT_WIDTH / 2, y + h), (x + SLOT_WIDTH / 2, y)]
        points.append((end[id(route)], target[1] + target[3] if upward else target[1]))
        d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            if x0 == x1:
                d += f" L{x1:.1f},{y1:.1f}"
            else:
                mid = (y0 + y1) / 2
                d += f" C{x0:.1f},{mid:.1f} {x1:.1f},{mid:.1f} {x1:.1f},{y1:.1f}"
        style = 'stroke="#4a6a8a"' if route.edge.declared else 'stroke="#9aa7b4" stroke-dasharray="6 4"'
        paths.append(f'<path d="{d}" fill="none" {style} stroke-width="1.3" marker-end="url(#arrow)"/>')
    return paths


def _node_size(node: GraphNode) -> tuple[float, float]:
    title = len(node.name) * BOLD_WIDTH + (len(f" :{node.port}") * SMALL_WIDTH if node.port else 0)
    body = max((len(o) for o in node.outputs), default=len("no outputs")) * CHAR_WIDTH
    return max(title, body) + 28, LINE_HEIGHT * (1 + max(1, len(node.outputs))) + 18


def _node(node: GraphNode, box: tuple[float, float, float, float]) -> str:
    x, y, w, h = box
    port = f'<tspan dx="5" fill="#7b8793" font-size="10" font-weight="normal">:{node.port}</tspan>' if node.port else ""
    lines = [f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" fill="#ffffff" stroke="#4a6a8a"/>',
             f'<text x="{x + w / 2:.1f}" y="{y + 21:.1f}" text-anchor="middle" font-size="14" font-weight="bold">'
             f"{escape(node.name)}{port}</text>"]
    outputs = node.outputs or ("no outputs",)
    for index, output in enumerate(outputs):
        lines.append(f'<text x="{x + w / 2:.1f}" y="{y + 22 + LINE_HEIGHT * (index + 1):.1f}" text-anchor="middle" '
                     f'font-size="11" fill="#2d3e50">{escape(output)}</text>')
    return "\n".join(lines)


def _label(label: _Label, gap_top: float, placed: list[_Label]) -> str:
    y = gap_top + 12 + sum(_slot_height(placed, slot) for slot in range(label.slot))
    h = len(label.texts) * LINE_HEIGHT + 4
    parts = [f'<rect x="{label.x - label.width / 2:.1f}" y="{y:.1f}" width="{label.width:.1f}" height="{h:.1f}" '
             'rx="3" fill="#ffffff" fill-opacity="0.92"/>']
    for index, text in enumerate(label.texts):
        parts.append(f'<text x="{label.x:.1f}" y="{y + LINE_HEIGHT * (index + 1) - 2:.1f}" text-anchor="middle" '
                     f'font-size="10" fill="#2d3e50">{escape(text)}</text>')
    return "\n".join(parts)
