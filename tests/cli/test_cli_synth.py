"""``strata synth``: one stack file to Terraform JSON, through the real command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.constructs.conftest import ROOT, write_notebooks

STRATA = ROOT / ".venv" / "bin" / "strata"


def strata(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(STRATA), *args], capture_output=True, text=True, timeout=300, cwd=cwd, check=False)


@pytest.fixture
def stack_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("KB_CONDUIT_ROOT", raising=False)
    (tmp_path / "cdktf.json").write_text("{}\n")
    (tmp_path / "stacks" / "sample-kb").mkdir(parents=True)
    path = tmp_path / "stacks" / "kb-conduit.yaml"
    path.write_text((ROOT / "stacks" / "kb-conduit.yaml").read_text())
    write_notebooks(tmp_path, path)
    return path


def test_synth_writes_one_terraform_stack_and_prints_its_path(stack_file: Path, tmp_path: Path):
    result = strata("synth", "stacks/kb-conduit.yaml", "--target", "docker", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = tmp_path / "out" / "stacks" / "kb-conduit-docker" / "cdk.tf.json"
    assert result.stdout.splitlines() == ["out/stacks/kb-conduit-docker/cdk.tf.json"]
    config = json.loads(written.read_text())
    assert len(config["resource"]["docker_container"]) == 6


def test_synth_defaults_to_the_files_target_and_the_projects_cdktf_out(stack_file: Path, tmp_path: Path):
    result = strata("synth", str(stack_file), cwd=tmp_path / "stacks")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cdktf.out" / "stacks" / "kb-conduit-docker" / "cdk.tf.json").is_file()


def test_an_invalid_stack_exits_1_with_the_validators_errors_and_no_traceback(stack_file: Path, tmp_path: Path):
    (tmp_path / "agents" / "debriefer.py").write_text("this is not python(\n")
    result = strata("synth", "stacks/kb-conduit.yaml", "--out", "out", cwd=tmp_path)
    assert result.returncode == 1
    validated = strata("validate", "stacks/kb-conduit.yaml", cwd=tmp_path)
    errors = [line for line in validated.stdout.splitlines() if "[S0" in line]
    assert result.stderr.splitlines() == errors and errors
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists()


def test_a_target_that_terraform_cannot_apply_exits_1(stack_file: Path, tmp_path: Path):
    result = strata("synth", "stacks/kb-conduit.yaml", "--target", "local", cwd=tmp_path)
    assert result.returncode == 1
    assert "deployment: the 'local' target cannot be synthesized: it runs without Terraform" in result.stderr


def test_the_repositorys_kb_conduit_stack_synthesizes(tmp_path: Path):
    agents = [ROOT / "agents" / f"{name}.py" for name in
              ("kb_base", "context_loader", "validator", "debriefer", "pattern_detector", "concierge")]
    if not all(path.is_file() for path in agents):
        pytest.skip("the reference agents' notebooks are not all written yet")
    result = strata("synth", "stacks/kb-conduit.yaml", "--out", str(tmp_path / "out"), cwd=ROOT)
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "out" / "stacks" / "kb-conduit-docker" / "cdk.tf.json").read_text())
    context = Path(config["resource"]["docker_image"]["concierge_image"]["build"]["context"])
    assert (context / "notebook.py").read_text() == (ROOT / "agents" / "concierge.py").read_text()
