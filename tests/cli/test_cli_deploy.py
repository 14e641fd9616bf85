"""`strata deploy` / `strata destroy`: which stack, and bad input stopping before any setup work."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRATA = str(Path(sys.executable).parent / "strata")


def _strata(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STRATA, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", ["deploy", "destroy"])
def test_without_a_stack_file_in_stacks_it_asks_for_one(tmp_path: Path, command: str) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "notes.yaml").write_text("agent: {}\n")
    done = _strata(tmp_path, command)
    assert (done.returncode, done.stderr.strip()) == (
        2, "no stack file in stacks/; give one: strata deploy path/to/stack.yaml")


def test_with_several_stack_files_it_asks_which(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    for name in ("a", "b"):
        (tmp_path / "stacks" / f"{name}.yaml").write_text(f"stack:\n  name: {name}\n")
    done = _strata(tmp_path, "deploy")
    assert (done.returncode, done.stderr.strip()) == (
        2, "several stack files in stacks/ (stacks/a.yaml, stacks/b.yaml); give one of them")


def test_an_invalid_stack_file_fails_located_before_any_setup(tmp_path: Path) -> None:
    (tmp_path / "cdktf.json").write_text("{}")
    (tmp_path / "stack.yaml").write_text("stack:\n  name: s\n  agents:\n    - name: a\n      layer: zero\n")
    done = _strata(tmp_path, "deploy", "stack.yaml")
    assert done.returncode == 1
    assert done.stderr.startswith("stack.yaml:5:14: stack.agents[0].layer:")
    assert "Docker engine" not in done.stderr


def test_a_stack_that_does_not_allow_docker_is_refused(tmp_path: Path) -> None:
    (tmp_path / "cdktf.json").write_text("{}")
    (tmp_path / "stack.yaml").write_text("stack:\n  name: s\ndeployment:\n  target: local\n")
    done = _strata(tmp_path, "deploy", "stack.yaml", "--target", "docker")
    assert (done.returncode, done.stderr.strip()) == (
        1, "stack.yaml:4:3: deployment: stack 's' does not allow target 'docker' (allowed: local); "
           "add a 'deployment.docker' block")


def test_a_stack_outside_a_cdktf_project_is_refused(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "stacks" / "sample-kb", tmp_path / "kb")
    (tmp_path / "nb.py").write_text("import marimo\n\napp = marimo.App()\n\n\n@app.cell\ndef _():\n    x = 1\n"
                                    "    return (x,)\n")
    (tmp_path / "stack.yaml").write_text("stack:\n  name: s\n  agents:\n    - name: a\n      layer: 0\n"
                                         "      implementation: {path: nb.py}\ndeployment:\n  target: docker\n")
    done = _strata(tmp_path, "deploy", "stack.yaml")
    assert (done.returncode, done.stderr.strip()) == (
        2, f"stack.yaml: no cdktf.json in {tmp_path} or above; a deployable stack lives in a cdktf project "
           "(`strata init DIR` makes one)")
