"""What a marimo notebook defines and reads, found statically: no cell is ever run.

It uses marimo's private ``marimo._ast`` internals, hence its place in the adapter: marimo's
notebook-shape predicates and its ``ScopedVisitor``, the visitor marimo itself runs on every cell
to build its dataflow graph. We classify the top-level statements of one parse of the file with
marimo's predicates and visit each cell's statements directly, rather than calling
``parse_notebook``: that recovers exact cell source text through ``tokenize`` and costs ~7x
more, which matters for stacks of a thousand notebooks.

Analyses are also kept on disk, by content hash and marimo version, in one SQLite file
(``STRATA_CACHE_DIR``, default ``~/.cache/strata``): importing marimo alone costs ~0.7 s, which a validation or a
synth of unchanged notebooks then never pays. marimo is imported only on a cache miss.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import sqlite3
import stat
import textwrap
import warnings
from dataclasses import asdict, dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, Literal

from agentstrata.notebook_error import NotebookError

CellKind = Literal["setup", "cell", "function", "class", "unparsable"]
#: Variable kinds that name SQL objects (tables...), not Python values.
_SQL_KINDS = {"table", "view", "schema", "catalog"}
_DECORATOR_KINDS: dict[str, CellKind] = {"cell": "cell", "function": "function", "class_definition": "class"}


@dataclass(frozen=True)
class CellInfo:
    """One cell: the names it defines for other cells and the names it reads from them."""

    name: str
    kind: CellKind
    #: 1-based line of the cell's ``def``/``class``/``with`` statement.
    line: int
    #: Python names the cell defines (cell-local ``_names`` excluded, as marimo does).
    defs: frozenset[str]
    #: Python names the cell reads but does not define itself.
    refs: frozenset[str]
    #: SQL tables/views the cell creates (in ``mo.sql``); marimo counts them as definitions.
    sql_defs: frozenset[str] = frozenset()
    #: Tables a ``mo.sql`` query reads: a Python dataframe of that name, or a database table.
    sql_refs: frozenset[str] = frozenset()
    #: Why marimo cannot compile this cell, for ``app._unparsable_cell`` and the like.
    error: str | None = None
    #: Python names read that are builtins (marimo's list), kept apart so no caller needs marimo.
    builtin_refs: frozenset[str] = frozenset()

    @property
    def in_setup(self) -> bool:
        return self.kind == "setup"


@dataclass(frozen=True)
class NotebookInfo:
    path: Path
    cells: tuple[CellInfo, ...]

    def defining_cells(self, name: str) -> list[CellInfo]:
        """The cells whose definitions (Python or SQL) include ``name``."""
        return [c for c in self.cells if name in c.defs or name in c.sql_defs]

    def reads(self, name: str) -> bool:
        """Whether some cell reads ``name``, in Python or as a table in SQL."""
        return any(name in c.refs or name in c.sql_refs for c in self.cells)

    @property
    def defs(self) -> frozenset[str]:
        return frozenset().union(*(c.defs for c in self.cells))

    def free_names(self) -> dict[str, CellInfo]:
        """Python names read but defined by no cell and not builtins, with the first cell reading each.

        Names a query reads only in SQL are left out: they may be database tables.
        """
        defined = frozenset().union(*(c.defs | c.sql_defs for c in self.cells))
        free: dict[str, CellInfo] = {}
        for cell in self.cells:
            for name in sorted(cell.refs - defined - cell.builtin_refs):
                free.setdefault(name, cell)
        return free


#: By absolute path: (mtime, size, outcome). One entry per file, replaced when the file changes.
_cache: dict[str, tuple[int, int, NotebookInfo | NotebookError]] = {}


def analyze(path: str | Path) -> NotebookInfo:
    """Analyse the notebook at ``path``; NotebookError for a file that is not one or does not parse.

    Results are cached by (path, mtime, size): one notebook may serve several agents.
    """
    path = Path(path)
    shown = str(path)
    try:
        status = path.stat()
    except (OSError, ValueError) as exc:
        raise NotebookError(shown, 1, f"cannot read notebook: {getattr(exc, 'strerror', None) or exc}") from None
    key, version = os.path.abspath(path), (status.st_mtime_ns, status.st_size)
    if _cache.get(key, (None, None))[:2] != version:
        try:
            outcome: NotebookInfo | NotebookError = _analyze_cached(path, shown, status)
        except NotebookError as exc:
            outcome = exc
        _cache[key] = (*version, outcome)
    result = _cache[key][2]
    if isinstance(result, NotebookError):
        raise result
    return result


#: Bumped when CellInfo or the analysis changes, so older cache entries are ignored.
_CACHE_FORMAT = 1


@functools.cache
def _cache_salt() -> bytes:
    return b"%d\0%s\0" % (_CACHE_FORMAT, package_version("marimo").encode())


@functools.cache
def _cache_db() -> sqlite3.Connection | None:
    """One SQLite file rather than a file per notebook: creating small files costs ~1 ms each here."""
    root = Path(os.environ.get("STRATA_CACHE_DIR") or Path.home() / ".cache" / "strata")
    try:
        root.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(root / "notebooks.sqlite3", timeout=5, isolation_level=None, check_same_thread=False)
        # A lost entry is only re-analysed: durability is not worth an fsync per notebook.
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE IF NOT EXISTS analyses (key TEXT PRIMARY KEY, cells TEXT NOT NULL)")
        return db
    except (OSError, sqlite3.Error):
        return None  # a read-only or broken cache only loses the speed-up


def _analyze_cached(path: Path, shown: str, status: os.stat_result) -> NotebookInfo:
    """The analysis from the disk cache when this content was analysed before, else fresh (and stored)."""
    if stat.S_ISDIR(status.st_mode):
        raise NotebookError(shown, 1, "is a directory, not a notebook")
    if path.suffix != ".py":
        raise NotebookError(shown, 1, "not a marimo notebook: expected a Python file (.py)")
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise NotebookError(shown, 1, f"cannot read notebook: {exc.strerror or exc}") from None
    key = hashlib.sha256(_cache_salt() + source).hexdigest()
    db = _cache_db()
    try:
        row = db.execute("SELECT cells FROM analyses WHERE key = ?", (key,)).fetchone() if db else None
        if row:
            return NotebookInfo(path, tuple(_cell_from_json(c) for c in json.loads(row[0])))
    except (sqlite3.Error, ValueError, TypeError, KeyError):
        pass  # an unreadable entry: analyse again
    info = _analyze_source(path, shown, source)
    try:
        if db:
            cells = json.dumps([_cell_to_json(c) for c in info.cells])
            db.execute("INSERT OR REPLACE INTO analyses VALUES (?, ?)", (key, cells))
    except sqlite3.Error:
        pass
    return info


def _cell_to_json(cell: CellInfo) -> dict[str, Any]:
    return {k: sorted(v) if isinstance(v, frozenset) else v for k, v in asdict(cell).items()}


def _cell_from_json(data: dict[str, Any]) -> CellInfo:
    return CellInfo(**{k: frozenset(v) if isinstance(v, list) else v for k, v in data.items()})


def _analyze_source(path: Path, shown: str, source: bytes) -> NotebookInfo:
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(shown, 1, f"not UTF-8: invalid byte at offset {exc.start}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            module = ast.parse(text, filename=shown)
    except SyntaxError as exc:
        raise NotebookError(shown, exc.lineno or 1, f"invalid Python syntax: {exc.msg}") from None
    except ValueError as exc:  # NUL bytes in the source
        raise NotebookError(shown, 1, f"invalid Python source: {exc}") from None
    return NotebookInfo(path, tuple(_cells(module, shown)))


def _cells(module: ast.Module, shown: str) -> list[CellInfo]:
    """Mirror marimo's file grammar: header, ``import marimo``, ``app = marimo.App()``, cells, run guard."""
    from marimo._ast.parse import is_app_def, is_body_cell, is_marimo_import, is_run_guard, is_setup_cell
    from marimo._ast.parse import is_unparsable_cell

    body = iter(module.body)
    alias = next(
        (n.names[0].asname or "marimo" for n in body if isinstance(n, ast.Import) and is_marimo_import(n)), None
    )
    if alias is None:
        raise NotebookError(shown, 1, "not a marimo notebook: it never imports marimo")
    if next((n for n in body if is_app_def(n, import_alias=alias)), None) is None:
        raise NotebookError(shown, 1, f"not a marimo notebook: no `app = {alias}.App()` after `import {alias}`")
    cells: list[CellInfo] = []
    for node in body:
        if is_setup_cell(node) and not cells:
            cells.append(_analyze_cell("setup", "setup", node.lineno, node.body))  # type: ignore[attr-defined]
        elif is_unparsable_cell(node):
            cells.append(_unparsable(node))
        elif is_body_cell(node):
            cells.append(_body_cell(node))  # type: ignore[arg-type]
        elif isinstance(node, ast.If) and is_run_guard(node):
            break
        # Anything else is not part of the notebook: marimo ignores it, and so do we.
    return cells


def _body_cell(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> CellInfo:
    from marimo._ast.parse import get_valid_decorator

    decorator = get_valid_decorator(node)
    attribute = decorator.func.attr if isinstance(decorator, ast.Call) else decorator.attr  # type: ignore[union-attr]
    kind = _DECORATOR_KINDS[attribute]
    if kind == "cell":
        # A cell's code is its function body without the final `return`, which only lists its defs.
        statements = node.body[:-1] if isinstance(node.body[-1], ast.Return) else node.body
        return _analyze_cell(node.name, kind, node.lineno, statements)
    # A function or class cell is the definition itself, minus the decorators up to @app.<kind>.
    node.decorator_list = node.decorator_list[node.decorator_list.index(decorator) + 1:]  # type: ignore[arg-type]
    return _analyze_cell(node.name, kind, node.lineno, [node])


def _unparsable(node: ast.stmt) -> CellInfo:
    source = node.value.args[0]  # type: ignore[attr-defined]
    code = source.value if isinstance(source, ast.Constant) and isinstance(source.value, str) else ""
    try:
        ast.parse(textwrap.dedent(code).strip())
        reason = "marimo saved this cell as unparsable"
    except SyntaxError as exc:
        reason = f"line {exc.lineno or 1} of the cell: {exc.msg}"
    return CellInfo("_", "unparsable", node.lineno, frozenset(), frozenset(), error=reason)


def _analyze_cell(name: str, kind: CellKind, line: int, statements: list[ast.stmt]) -> CellInfo:
    from marimo._ast.errors import ImportStarError
    from marimo._ast.variables import BUILTINS, is_local
    from marimo._ast.visitor import ScopedVisitor

    visitor = ScopedVisitor(f"cell_{line}")
    try:
        visitor.visit(ast.Module(body=list(statements), type_ignores=[]))
    except ImportStarError as exc:
        return CellInfo(name, kind, line, frozenset(), frozenset(), error=str(exc).split("SyntaxError: ")[-1])
    sql_defs = {
        n for n, data in visitor.variable_data.items() if data and data[-1].kind in _SQL_KINDS and not is_local(n)
    }
    python_refs = {n for n, uses in visitor._refs.items() if any(use.sql_ref is None for use in uses)}
    return CellInfo(
        name=name,
        kind=kind,
        line=line,
        defs=frozenset(n for n in visitor.defs if not is_local(n)) - sql_defs,
        refs=frozenset(python_refs),
        sql_defs=frozenset(sql_defs),
        sql_refs=frozenset(visitor.sql_refs),
        builtin_refs=frozenset(python_refs & BUILTINS),
    )
