"""An agent's interface held against its notebook: the file exists, and it defines and reads what it says.

The runtime computes an agent's outputs with ``app.run(defs=inputs)``. In marimo 0.25.2 that
skips every cell defining an injected name, so a cell may define an input as a standalone
fallback; but marimo raises TypeError when an input is defined in ``app.setup``, and
IncompleteRefsError when a skipped cell also defines names that are not injected. Both are
errors here, found before anything runs.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING

from agentstrata.errors import Diagnostic
from agentstrata.loader import LoadedSpec, shown_path
from agentstrata.schema import AgentSpec
from agentstrata.yaml_source import Path_

if TYPE_CHECKING:
    from agentstrata.marimo_adapter.analysis import CellInfo, NotebookInfo


def check_implementation(spec: LoadedSpec, agent: AgentSpec, loc: Path_) -> list[Diagnostic]:
    """S015-S022 for one agent (``loc`` is where it stands in ``spec``)."""
    # Imported on first use: marimo takes most of a second to import, and only notebooks need it.
    from agentstrata.marimo_adapter.analysis import analyze
    from agentstrata.notebook_error import NotebookError

    here = loc + ("implementation", "path")
    path = spec.resolve(agent.implementation.path)
    try:
        is_file = stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return [spec.diagnostic(here, f"implementation file not found: {shown_path(path)}", "S015")]
    if not is_file:
        return [spec.diagnostic(here, f"implementation is not a file: {shown_path(path)}", "S015")]
    try:
        notebook = analyze(path)
    except NotebookError as exc:
        return [spec.diagnostic(here, f"{shown_path(Path(exc.file))}:{exc.line}: {exc.reason}", "S016")]
    return _contract(spec, agent, loc, notebook)


def _contract(spec: LoadedSpec, agent: AgentSpec, loc: Path_, notebook: NotebookInfo) -> list[Diagnostic]:
    here = loc + ("implementation", "path")
    findings = [
        spec.diagnostic(here, f"{_shown(notebook)}:{cell.line}: cell cannot be compiled: {cell.error}", "S016")
        for cell in notebook.cells
        if cell.error
    ]
    findings += _multiply_defined(spec, here, notebook)
    for index, output in enumerate(agent.interface.outputs):
        variable = output.cell_variable
        if not notebook.defining_cells(variable):
            hint = " (a name starting with '_' is local to its cell)" if variable.startswith("_") else ""
            findings.append(spec.diagnostic(loc + ("interface", "outputs", index, "exposed_as"),
                                            f"no cell of {_shown(notebook)} defines {variable!r}{hint}", "S017"))
    inputs = {i.name for i in agent.interface.inputs}
    for index, declared in enumerate(agent.interface.inputs):
        findings += _input(spec, loc + ("interface", "inputs", index, "name"), declared.name, inputs, notebook)
    for name, cell in notebook.free_names().items():
        if name not in inputs:
            findings.append(spec.diagnostic(
                here, f"{_shown(notebook)}:{cell.line}: {_cell(cell)} reads {name!r}, which no cell defines and the "
                "interface does not declare as an input", "S021", severity="warning"))
    return findings


def _shown(notebook: NotebookInfo) -> str:
    """The notebook's path as messages show it; worked out only when there is something to say."""
    return shown_path(notebook.path)


def _input(spec: LoadedSpec, here: Path_, name: str, inputs: set[str], notebook: NotebookInfo) -> list[Diagnostic]:
    definers = notebook.defining_cells(name)
    findings = []
    for cell in definers:
        if cell.in_setup:
            findings.append(spec.diagnostic(
                here, f"input {name!r} is defined in app.setup ({_shown(notebook)}:{cell.line}): marimo cannot "
                "override setup definitions with injected inputs (TypeError at run time)", "S018"))
            continue
        extra = sorted((cell.defs | cell.sql_defs) - inputs)
        if extra:
            findings.append(spec.diagnostic(
                here, f"{_cell(cell)} at {_shown(notebook)}:{cell.line} defines input {name!r} and also "
                f"{', '.join(map(repr, extra))}: injecting the input skips that cell, and marimo then fails "
                "for the names it no longer defines (IncompleteRefsError); define them in another cell", "S019"))
    if not definers and not notebook.reads(name):
        findings.append(spec.diagnostic(here, f"input {name!r} is never read by {_shown(notebook)}", "S020",
                                        severity="warning"))
    return findings


def _multiply_defined(spec: LoadedSpec, here: Path_, notebook: NotebookInfo) -> list[Diagnostic]:
    definers: dict[str, list[CellInfo]] = {}
    for cell in notebook.cells:
        for name in cell.defs:
            definers.setdefault(name, []).append(cell)
    return [
        spec.diagnostic(here, f"{_shown(notebook)}: {name!r} is defined by more than one cell (lines "
                        f"{', '.join(str(c.line) for c in cells)}): marimo refuses to run the notebook", "S022")
        for name, cells in sorted(definers.items())
        if len(cells) > 1
    ]


def _cell(cell: CellInfo) -> str:
    return "app.setup" if cell.in_setup else ("cell" if cell.name == "_" else f"cell {cell.name!r}")
