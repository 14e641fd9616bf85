"""Static analysis of real marimo notebooks: the tutorials marimo ships, and purpose-built ones."""

from __future__ import annotations

import os
from pathlib import Path

import marimo
import pytest

from agentstrata.marimo_adapter.analysis import analyze
from agentstrata.notebook_error import NotebookError

TUTORIALS = sorted(p for p in (Path(marimo.__file__).parent / "_tutorials").glob("*.py") if p.name != "__init__.py")
FIXTURES = Path(__file__).parents[1] / "fixtures" / "notebooks"


def reference_cells(path: Path) -> list[tuple[str, frozenset[str], frozenset[str]]]:
    """Each cell's (kind, defs, refs) as marimo's own loader and compiler see them.

    The oracle the fast analysis is held against, so it uses marimo's private API as the analysis does.
    """
    from marimo._ast.compiler import compile_cell
    from marimo._ast.parse import parse_notebook
    from marimo._schemas.serialization import UnparsableCell

    notebook = parse_notebook(path.read_text(encoding="utf-8"), str(path))
    assert notebook is not None
    cells = []
    for cell in notebook.cells:
        if isinstance(cell, UnparsableCell):
            cells.append(("unparsable", frozenset(), frozenset()))
            continue
        compiled = compile_cell(cell.code, cell_id="reference")
        cells.append(("code", frozenset(compiled.defs), frozenset(compiled.refs)))
    return cells


def test_the_tutorials_are_found():
    assert {p.stem for p in TUTORIALS} >= {"intro", "dataflow", "ui", "sql", "fileformat", "plots"}


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_each_tutorial_matches_marimos_own_analysis(path: Path):
    info = analyze(path)
    mine = [
        ("unparsable", frozenset(), frozenset()) if c.kind == "unparsable"
        else ("code", c.defs | c.sql_defs, c.refs | c.sql_refs)
        for c in info.cells
    ]
    assert mine == reference_cells(path)
    # The tutorials are complete notebooks: everything they read, they define or import.
    assert info.free_names() == {}


@pytest.mark.parametrize("name", ["shapes.py", "alias.py", "unparsable.py"])
def test_purpose_built_notebooks_match_marimos_own_analysis(name: str):
    path = FIXTURES / name
    mine = [
        ("unparsable", frozenset(), frozenset()) if c.kind == "unparsable"
        else ("code", c.defs | c.sql_defs, c.refs | c.sql_refs)
        for c in analyze(path).cells
    ]
    assert mine == reference_cells(path)


def test_every_cell_shape_is_read():
    cells = analyze(FIXTURES / "shapes.py").cells
    assert [(c.name, c.kind, c.line) for c in cells] == [
        ("setup", "setup", 8),
        ("header", "cell", 15),
        ("_", "cell", 23),
        ("doubled", "function", 31),
        ("Box", "class", 36),
        ("fetch", "cell", 41),
        ("_", "cell", 48),
        ("_", "cell", 60),
    ]
    setup, header, ui, function, klass, fetch, sql, empty = cells
    assert setup.in_setup and setup.defs == {"functools", "scale"}
    assert header.defs == {"mo"}
    assert ui.defs == {"slider"} and ui.refs == {"mo"}
    assert function.defs == {"doubled"} and function.refs == {"functools", "scale", "int"}
    assert klass.defs == {"Box"} and klass.refs == {"scale", "int"}
    # `_private` is local to its cell: neither a definition nor a reference.
    assert fetch.defs == {"summary"} and fetch.refs == {"history", "slider", "doubled", "Box", "len"}
    assert empty.defs == set() and empty.refs == set()
    assert sql.defs == {"frame"} and sql.refs == {"mo", "summary"}


def test_sql_tables_are_sql_refs_not_python_names():
    pytest.importorskip("duckdb", reason="marimo finds SQL refs only with duckdb installed (marimo[sql])")
    pytest.importorskip("sqlglot", reason="marimo finds SQL refs only with sqlglot installed (marimo[sql])")
    info = analyze(FIXTURES / "shapes.py")
    sql = info.cells[6]
    assert sql.sql_defs == {"recent"}
    assert sql.sql_refs == {"frame", "warehouse_orders"}
    assert info.reads("warehouse_orders")
    # Only `history` is free: `warehouse_orders` may be a database table, not a Python name.
    assert list(info.free_names()) == ["history"]


def test_an_import_alias_is_followed():
    assert [c.defs for c in analyze(FIXTURES / "alias.py").cells] == [{"value"}]


def test_an_unparsable_cell_carries_its_syntax_error():
    cells = analyze(FIXTURES / "unparsable.py").cells
    assert [(c.kind, c.line, c.error) for c in cells] == [
        ("cell", 8, None),
        ("unparsable", 13, "line 1 of the cell: '(' was never closed"),
    ]


def test_a_python_script_is_not_a_notebook():
    with pytest.raises(NotebookError) as raised:
        analyze(FIXTURES / "plain_script.py")
    assert raised.value.message == f"{FIXTURES / 'plain_script.py'}:1: not a marimo notebook: it never imports marimo"


def test_a_marimo_import_without_an_app_is_not_a_notebook(tmp_path: Path):
    path = tmp_path / "half.py"
    path.write_text("import marimo\n\nprint(marimo.__version__)\n")
    with pytest.raises(NotebookError, match=r"half.py:1: not a marimo notebook: no `app = marimo.App\(\)`"):
        analyze(path)


def test_a_syntax_error_names_file_and_line():
    with pytest.raises(NotebookError) as raised:
        analyze(FIXTURES / "syntax_error.py")
    assert (raised.value.line, raised.value.reason) == (8, "invalid Python syntax: '(' was never closed")


def test_a_file_that_is_not_python_is_refused(tmp_path: Path):
    path = tmp_path / "notes.md"
    path.write_text("# notes\n")
    with pytest.raises(NotebookError, match="expected a Python file"):
        analyze(path)


def test_a_missing_notebook_is_an_error(tmp_path: Path):
    with pytest.raises(NotebookError, match="cannot read notebook: No such file or directory"):
        analyze(tmp_path / "gone.py")


def test_analyses_are_cached_until_the_file_changes(tmp_path: Path):
    path = tmp_path / "nb.py"
    path.write_text((FIXTURES / "alias.py").read_text())
    first = analyze(path)
    assert analyze(path) is first
    path.write_text((FIXTURES / "alias.py").read_text().replace("value = 1", "other = 22"))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert analyze(path).cells[0].defs == {"other"}


def test_a_directory_is_not_a_notebook(tmp_path: Path):
    (tmp_path / "dir.py").mkdir()
    with pytest.raises(NotebookError, match=r"dir\.py:1: is a directory, not a notebook"):
        analyze(tmp_path / "dir.py")


def test_a_notebook_that_is_not_utf8_is_refused(tmp_path: Path):
    path = tmp_path / "latin.py"
    path.write_bytes((FIXTURES / "alias.py").read_bytes().replace(b"value = 1", b"value = '\xe9'"))
    with pytest.raises(NotebookError, match=r"latin.py:1: not UTF-8: invalid byte at offset \d+"):
        analyze(path)


def test_a_cached_analysis_does_not_import_marimo(tmp_path):
    import subprocess
    import sys

    notebook = tmp_path / "nb.py"
    notebook.write_text(
        "import marimo\napp = marimo.App()\n\n@app.cell\ndef _(x):\n    y = len(x)\n    return (y,)\n"
    )
    probe = (
        "import sys; from agentstrata.marimo_adapter.analysis import analyze; "
        f"info = analyze({str(notebook)!r}); "
        "print(sorted(info.free_names()), 'marimo' in sys.modules)"
    )
    env = {**__import__("os").environ, "STRATA_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
            for _ in range(2)]
    assert [r.stdout.strip() for r in runs] == ["['x'] True", "['x'] False"]
