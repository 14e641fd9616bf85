"""Loading a marimo notebook and running it with injected inputs (``app.run(defs=...)``).

The notebook is imported as a module registered in ``sys.modules``: marimo then compiles its
cells against the real file, so a failing cell's traceback points at the notebook's own lines.
A failure names the notebook by its file name (it is shown to anyone reading /health); its
traceback, with full paths, is kept for the log.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import marimo

from agentstrata.marimo_adapter.run_graph import disable_cells_not_needed
from agentstrata.notebook_error import NotebookError

_module_ids = itertools.count()


class Notebook:
    """A marimo notebook file, loaded once (and again on :meth:`reload`), run many times."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        self._app: marimo.App | None = None
        self._module_name = ""

    def reload(self) -> None:
        """(Re)import the notebook; NotebookError if it does not load or defines no ``app``."""
        if not self.path.is_file():
            raise NotebookError(self.path.name, None, "the notebook file does not exist")
        name = f"strata_notebook_{next(_module_ids)}"
        spec = importlib.util.spec_from_file_location(name, self.path)
        if spec is None or spec.loader is None:
            raise NotebookError(self.path.name, None, "cannot load it as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:  # noqa: BLE001 - user code (even sys.exit()) becomes a report
            sys.modules.pop(name, None)
            raise self.locate(exc) from None
        app = getattr(module, "app", None)
        if not isinstance(app, marimo.App):
            sys.modules.pop(name, None)
            raise NotebookError(self.path.name, None,
                                "the file defines no marimo app (expected `app = marimo.App()`)")
        sys.modules.pop(self._module_name, None)
        self._module_name = name
        self._app = app

    def restrict_to(self, variables: set[str]) -> int:
        """From now on run only the cells that ``variables`` need (marimo has no ``app.run(targets=)``).

        The other cells (display, side effects) are disabled in this process's copy of the app;
        UI sessions load their own copy and still run everything. Returns how many were disabled;
        NotebookError, as from :meth:`run`, when the notebook's cells do not form a runnable graph.
        """
        if self._app is None:
            self.reload()
        assert self._app is not None
        try:
            return disable_cells_not_needed(self._app, variables)
        except Exception as exc:  # noqa: BLE001 - marimo's error for a graph that does not build
            raise self.locate(exc) from None

    def run(self, defs: Mapping[str, Any]) -> Mapping[str, Any]:
        """Run every cell not overridden by ``defs``; returns the notebook's definitions."""
        if self._app is None:
            self.reload()
        assert self._app is not None
        try:
            _, definitions = self._app.run(defs=dict(defs))
        except BaseException as exc:  # noqa: BLE001 - user code (even sys.exit()) becomes a report
            raise self.locate(exc) from None
        return definitions

    def locate(self, exc: BaseException) -> NotebookError:
        """``exc`` located: the innermost traceback frame inside the notebook file names the line; the cell holds it."""
        line: int | None = None
        if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == self.path:
            line = exc.lineno
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename and Path(frame.filename).resolve() == self.path:
                line = frame.lineno
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return NotebookError(self.path.name, line, _exception_text(exc), cell=self._cell_at(line), traceback=text)

    def _cell_at(self, line: int | None) -> str | None:
        if line is None:
            return None
        try:
            tree = ast.parse(self.path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            return None
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= (
                node.end_lineno or node.lineno
            ):
                return node.name
            if isinstance(node, ast.With) and node.lineno <= line <= (node.end_lineno or node.lineno):
                return "setup"
        return None


def _exception_text(exc: BaseException) -> str:
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
