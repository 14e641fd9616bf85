"""The notebook contract holds against what marimo really does: each case is checked, then run.

The runtime computes outputs with ``app.run(defs=inputs)``; these tests run the same call on
the same notebook, so the checker's claims about marimo 0.25.2 stay true.
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from typing import Any

import pytest

from agentstrata.contract import check_implementation
from agentstrata.loader import LoadedAgent, load

AGENT = """\
agent:
  name: "top"
  layer: 1
  implementation:
    path: "top.py"
  dependencies:
    - agent_name: "reader"
      inputs:
        summary: "summary"
  interface:
    inputs:
      - name: "summary"
        type: "summary"
        source: "agent:reader.summary"
    outputs:
      - name: "report"
        type: "report"
        exposed_as: "reactive_cell:report"
"""
_ids = itertools.count()


def write_notebook(folder: Path, cells: list[str], setup: str = "") -> None:
    lines = ["import marimo", "", "app = marimo.App()", ""]
    if setup:
        lines += ["with app.setup:", f"    {setup}", ""]
    for body in cells:
        lines += ["", "@app.cell", "def _():", *(f"    {line}" for line in body.splitlines()), "    return", ""]
    (folder / "top.py").write_text("\n".join(lines) + "\n")


def contract_codes(folder: Path) -> list[str]:
    (folder / "cdktf.json").write_text("{}")
    (folder / "agent.yaml").write_text(AGENT)
    loaded = load(folder / "agent.yaml")
    assert isinstance(loaded, LoadedAgent)
    return [d.code for d in check_implementation(loaded, loaded.agent, ("agent",))]


def run_with_inputs(folder: Path, inputs: dict[str, Any]) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location(f"contract_notebook_{next(_ids)}", folder / "top.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _, defs = module.app.run(defs=inputs)
    return dict(defs)


def test_an_input_read_and_not_defined_passes_and_runs(tmp_path: Path):
    write_notebook(tmp_path, ["report = f\"{summary['entries']} entries\""])
    assert contract_codes(tmp_path) == []
    assert run_with_inputs(tmp_path, {"summary": {"entries": 3}})["report"] == "3 entries"


def test_a_standalone_fallback_cell_passes_and_is_overridden(tmp_path: Path):
    write_notebook(tmp_path, ["summary = {'entries': 0}", "report = f\"{summary['entries']} entries\""])
    assert contract_codes(tmp_path) == []
    assert run_with_inputs(tmp_path, {"summary": {"entries": 5}})["report"] == "5 entries"


def test_an_input_defined_in_setup_fails_and_marimo_raises_type_error(tmp_path: Path):
    write_notebook(tmp_path, ["report = str(summary)"], setup="summary = {}")
    assert contract_codes(tmp_path) == ["S018"]
    with pytest.raises(TypeError, match="cannot override setup cell definitions"):
        run_with_inputs(tmp_path, {"summary": {"entries": 5}})


def test_a_fallback_cell_with_other_names_fails_and_marimo_raises(tmp_path: Path):
    write_notebook(tmp_path, ["summary = {}\nunused = 1", "report = str(summary)"])
    assert contract_codes(tmp_path) == ["S019"]
    # Raised even though nothing reads `unused`: marimo wants every definition of a skipped cell.
    with pytest.raises(Exception, match=r"Missing: \['unused'\]") as raised:
        run_with_inputs(tmp_path, {"summary": {"entries": 5}})
    assert type(raised.value).__name__ == "IncompleteRefsError"


def test_a_private_name_cannot_be_an_output(tmp_path: Path):
    write_notebook(tmp_path, ["_report = str(summary)"])
    assert contract_codes(tmp_path) == ["S017"]
    assert "report" not in run_with_inputs(tmp_path, {"summary": {}})


def test_sql_tables_are_not_free_python_names(tmp_path: Path):
    pytest.importorskip("duckdb", reason="marimo finds SQL refs only with duckdb installed (marimo[sql])")
    pytest.importorskip("sqlglot", reason="marimo finds SQL refs only with sqlglot installed (marimo[sql])")
    write_notebook(tmp_path, [
        "import marimo as mo",
        "report = mo.sql(f\"SELECT * FROM warehouse_orders LIMIT {len(summary)}\")",
    ])
    assert contract_codes(tmp_path) == []
