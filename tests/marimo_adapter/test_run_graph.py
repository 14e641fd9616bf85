"""The cells computing some variables needs, from a real notebook's marimo graph (marimo_adapter.run_graph)."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path

import marimo
import pytest

from agentstrata.marimo_adapter.run_graph import disable_cells_not_needed


def load_app(path: Path, cells: str) -> marimo.App:
    """The ``app`` of a notebook made of ``cells`` (``@app.cell`` functions as source text), imported."""
    path.write_text(f"import marimo\n\napp = marimo.App()\n\n{textwrap.dedent(cells)}")
    spec = importlib.util.spec_from_file_location(f"run_graph_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def test_only_the_cells_the_variables_depend_on_stay_enabled(tmp_path: Path) -> None:
    app = load_app(tmp_path / "chain.py", """
        @app.cell
        def _():
            base = 2
            return (base,)

        @app.cell
        def _(base):
            doubled = base * 2
            return (doubled,)

        @app.cell
        def _(doubled):
            shown = doubled + 1
            return (shown,)

        @app.cell
        def _():
            unrelated = 7
            return (unrelated,)
    """)
    assert disable_cells_not_needed(app, {"doubled"}) == 2
    _, definitions = app.run()
    assert set(definitions) == {"base", "doubled"}


def test_a_graph_that_does_not_build_raises_marimos_own_error(tmp_path: Path) -> None:
    app = load_app(tmp_path / "twice.py", """
        @app.cell
        def _():
            x = 1
            return (x,)

        @app.cell
        def _():
            x = 2
            return (x,)
    """)
    # marimo's MultipleDefinitionError is private: its message is what the host reports.
    with pytest.raises(Exception, match="^This app can't be run because it has multiple definitions of the name x$"):
        disable_cells_not_needed(app, {"x"})
