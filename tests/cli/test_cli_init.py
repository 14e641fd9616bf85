"""``strata init DIR``: a new project that validates, synthesizes and passes its own snapshot test as made."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.constructs.conftest import ROOT

STRATA = ROOT / ".venv" / "bin" / "strata"
FILES = [".gitignore", "agents/numbers.py", "agents/summary.py", "cdktf.json", "main.py", "pyproject.toml",
         "stacks/my-agents.yaml",
         "tests/__snapshots__/test_stack_snapshot/test_the_stack_synthesizes_as_the_snapshot_says.json",
         "tests/test_stack_snapshot.py"]


def strata(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(STRATA), *args], capture_output=True, text=True, timeout=300, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("init")
    made = strata("init", "my-agents", cwd=parent)
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines() == [str(parent / "my-agents" / name) for name in FILES]
    return parent / "my-agents"


def test_init_writes_the_project_layout_and_nothing_else(project: Path):
    assert sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()) == sorted(FILES)


def test_the_example_stack_is_valid_has_no_ports_and_no_workspace(project: Path):
    stack = (project / "stacks" / "my-agents.yaml").read_text()
    assert "port:" not in stack and "workspace" not in stack
    checked = strata("validate", "stacks/my-agents.yaml", cwd=project)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "valid: 1 file checked, 0 invalid, 0 errors, 0 warnings"


def test_the_generated_snapshot_test_passes_as_generated(project: Path):
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "1 passed" in run.stdout


def test_the_generated_pyproject_declares_strata_and_the_test_tools(project: Path):
    import importlib.metadata
    import tomllib

    declared = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert declared["dependencies"] == [f"agentstrata[iac]=={importlib.metadata.version('agentstrata')}"]
    assert declared["optional-dependencies"]["test"] == ["pytest", "syrupy"]


def test_init_over_a_project_refuses_names_what_it_would_overwrite_and_writes_nothing(tmp_path: Path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "main.py").write_text("print('my own')\n")
    refused = strata("init", "mine", cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (f"{tmp_path / 'mine'}: already holds main.py; `strata init` writes a new "
                                      "project and overwrites nothing: pick a new or empty directory")
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["main.py"]


def test_a_directory_name_that_cannot_name_a_stack_is_refused(tmp_path: Path):
    refused = strata("init", "2024", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (f"{tmp_path / '2024'}: the directory's name must start with a letter: "
                                      "it names the stack (and its containers)")
    assert not (tmp_path / "2024").exists()
