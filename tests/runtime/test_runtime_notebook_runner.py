"""Loading and running a real marimo notebook, failures located (agentstrata.runtime.notebook_runner)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.runtime.conftest import write_notebook

from agentstrata.notebook_error import NotebookError
from agentstrata.runtime.notebook_runner import Notebook


def test_restricting_a_notebook_whose_graph_does_not_build_fails_as_its_run_does(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "twice.py",
        """
        @app.cell
        def _():
            x = 1
            return (x,)
        """,
        """
        @app.cell
        def _():
            x = 2
            return (x,)
        """,
    )
    with pytest.raises(NotebookError) as restricting:
        Notebook(path).restrict_to({"x"})
    with pytest.raises(NotebookError) as running:
        Notebook(path).run({})
    expected = ("twice.py: MultipleDefinitionError: "
                "This app can't be run because it has multiple definitions of the name x")
    assert restricting.value.message == running.value.message == expected
