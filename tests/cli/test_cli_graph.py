"""``strata graph``: the picture files it writes, through the real command."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRATA = ROOT / ".venv" / "bin" / "strata"
STACK = ROOT / "stacks" / "kb-conduit.yaml"


def strata(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(STRATA), *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


def test_graph_writes_svg_png_and_mermaid_and_prints_their_paths(tmp_path: Path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed: PNG needs it (the SVG fallback is tested in test_graph.py)")
    result = strata("graph", str(STACK), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    names = [Path(line).name for line in result.stdout.splitlines()]
    assert names == ["kb-conduit.svg", "kb-conduit.png", "kb-conduit.mmd"]
    assert (tmp_path / "kb-conduit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "kb-conduit.svg").read_text()
    for text in ("Layer 0", "Layer 3", "kb_base", "session_log (parse_yaml_log)", "recommendations"):
        assert text in svg
    assert (tmp_path / "kb-conduit.mmd").read_text().startswith("flowchart BT\n")


def test_graph_defaults_to_dot_strata_under_the_project_root(tmp_path: Path):
    (tmp_path / "cdktf.json").write_text("{}")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "one.yaml").write_text(
        'stack:\n  name: "one"\n  agents:\n    - name: "solo"\n      layer: 0\n      implementation:\n'
        '        path: "solo.py"\n'
    )
    result = strata("graph", "one.yaml", cwd=tmp_path / "stacks")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == str(tmp_path.resolve() / ".strata" / "graph" / "one.svg")
    assert (tmp_path / ".strata" / "graph" / "one.mmd").is_file()


def test_graph_of_an_unusable_file_is_an_error_without_traceback(tmp_path: Path):
    (tmp_path / "bad.yaml").write_text("- not a stack\n")
    result = strata("graph", str(tmp_path / "bad.yaml"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "bad.yaml:1:1: expected a mapping with 'stack:' or 'agent:', got a list"
