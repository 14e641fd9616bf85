"""marimo's private API is used only inside agentstrata/marimo_adapter/, so a marimo upgrade is checked there alone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("agentstrata", "agents")
ADAPTER = Path("agentstrata", "marimo_adapter")
#: A private marimo module (``marimo._ast``, ``from marimo import _server``), or a private attribute of
#: a marimo object Strata reaches for: the ASGI builder's app cache, the app's graph and its initialisation.
PRIVATE = re.compile(r"\bmarimo\._|\bfrom\s+marimo\s+import\s+_|\b_app_cache\b|\._graph\b|\._maybe_initialize\b")


def private_uses(root: Path) -> list[str]:
    """``file:line: code`` for each private marimo use in the Python files under ``root``, outside the adapter."""
    found = []
    for top in SCANNED:
        for path in sorted((root / top).rglob("*.py")):
            relative = path.relative_to(root)
            if relative.is_relative_to(ADAPTER):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if PRIVATE.search(line):
                    found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_private_marimo_api_outside_the_adapter() -> None:
    assert private_uses(ROOT) == []


def test_each_private_use_is_named_by_file_and_line(tmp_path: Path) -> None:
    files = {
        "agentstrata/marimo_adapter/graph.py": "from marimo._runtime import dataflow\n",
        "agentstrata/runtime/runner.py": "import marimo\n\nfrom marimo._ast.names import SETUP_CELL_NAME\n",
        "agentstrata/runtime/ui.py": 'apps = getattr(builder, "_app_cache", {})\n',
        "agents/notebook.py": "from marimo import _server\ngraph = app._graph\napp._maybe_initialize()\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert private_uses(tmp_path) == [
        "agentstrata/runtime/runner.py:3: from marimo._ast.names import SETUP_CELL_NAME",
        'agentstrata/runtime/ui.py:1: apps = getattr(builder, "_app_cache", {})',
        "agents/notebook.py:1: from marimo import _server",
        "agents/notebook.py:2: graph = app._graph",
        "agents/notebook.py:3: app._maybe_initialize()",
    ]
