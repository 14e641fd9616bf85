"""The cells of a loaded notebook that computing some of its variables needs, from marimo's dataflow graph.

marimo has no ``app.run(targets=...)``; its graph (``app._graph``, built by
``app._maybe_initialize()``) and ``transitive_closure`` tell which cells the targets depend on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import marimo


def disable_cells_not_needed(app: marimo.App, variables: set[str]) -> int:
    """Disable, in this copy of ``app``, every cell that computing ``variables`` does not need; how many.

    The setup cell always runs. A graph that does not build (a name defined by two cells, a cycle)
    raises marimo's own error, the one ``app.run`` would raise: marimo marks the app initialised
    even then, so a later ``app.run`` would only fail on a missing attribute.
    """
    from marimo._ast.names import SETUP_CELL_NAME
    from marimo._runtime.dataflow import transitive_closure

    app._maybe_initialize()
    graph = app._graph
    targets = {cid for name in variables for cid in graph.get_defining_cells(name)}
    needed = transitive_closure(graph.topology, targets, children=False) | {SETUP_CELL_NAME}
    skipped = [cell for cid, cell in graph.cells.items() if cid not in needed]
    for cell in skipped:
        cell.configure({"disabled": True})
    return len(skipped)
