"""``strata graph PATH``: draw a stack (SVG, PNG with Graphviz, and Mermaid text)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentstrata.cli.app import app, out
from agentstrata.graph import stack_graph, write_graph
from agentstrata.loader import load_stack

DEFAULT_OUT = Path(".strata") / "graph"


@app.command("graph")
def graph_command(
    path: Annotated[Path, typer.Argument(help="A stack file.", metavar="PATH", show_default=False)],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory. Default: .strata/graph/ under the project root."),
    ] = None,
) -> None:
    """Draw the stack: layers as bands (layer 0 at the bottom), agents, and their data flows."""
    loaded = load_stack(path)
    target = out_dir if out_dir is not None else loaded.root / DEFAULT_OUT
    for written in write_graph(stack_graph(loaded.stack), target):
        out.print(_display(written), markup=False, highlight=False)


def _display(path: Path) -> str:
    """Relative to the working directory when below it, else absolute: a path to paste into a viewer."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)
