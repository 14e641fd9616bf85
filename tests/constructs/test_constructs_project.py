"""Synthesizing a whole project, as `cdktf synth` runs main.py: every stack, once per Terraform target."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from agentstrata.constructs.project import synth_project
from agentstrata.errors import SpecError, StrataError
from tests.constructs.conftest import ROOT

LOCAL_ONLY = """\
stack:
  name: solo
  agents:
    - name: kb_base
      layer: 0
      implementation: {path: agents/kb_base.py}
"""


def add_python_stack(project: Path) -> None:
    shutil.copy(ROOT / "stacks" / "kb_patterns.py", project / "stacks" / "kb_patterns.py")


def test_every_yaml_and_python_stack_is_synthesized_once_per_terraform_target(project: Path):
    add_python_stack(project)
    (project / "stacks" / "solo.yaml").write_text(LOCAL_ONLY)
    (project / "stacks" / "an_agent.yaml").write_text(
        "agent:\n  name: x\n  layer: 0\n  implementation: {path: agents/kb_base.py}\n")
    result = synth_project(project, project / "cdktf.out")
    assert result.stacks == ["kb-conduit-docker", "kb-patterns-docker"]
    (note,) = result.notes
    assert note.endswith("stacks/kb-conduit.yaml: target 'kubernetes' skipped: the kubernetes target needs the "
                         "runtime image, from a registry the cluster can pull from: set deployment.kubernetes.image "
                         "(or STRATA_KUBERNETES_IMAGE), e.g. registry.example.com/strata-runtime:1.0; `strata setup` "
                         "builds it locally as strata-runtime:<hash>, to push there")
    for name in result.stacks:
        config = json.loads((project / "cdktf.out" / "stacks" / name / "cdk.tf.json").read_text())
        assert config["terraform"]["backend"]["local"]["path"] == f"../../../.strata/state/terraform/{name}.tfstate"
    assert (project / ".strata" / "state" / "terraform").is_dir()


def test_invalid_stacks_stop_the_synth_with_every_error_before_anything_is_written(project: Path):
    (project / "agents" / "concierge.py").unlink()
    (project / "stacks" / "broken.yaml").write_text("stack:\n  name: broken\n  agentz: []\n")
    with pytest.raises(SpecError) as caught:
        synth_project(project, project / "cdktf.out")
    assert [(Path(d.file).name, d.code) for d in caught.value.diagnostics] == [("broken.yaml", ""),
                                                                                ("kb-conduit.yaml", "S015")]
    assert "unknown key 'agentz'; did you mean 'agents'?" in caught.value.message
    assert not (project / "cdktf.out").exists()


def test_two_stack_files_with_one_name_are_an_error_naming_both(project: Path):
    document = yaml.safe_load((project / "stacks" / "kb-conduit.yaml").read_text())
    (project / "stacks" / "copy.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(SpecError, match="stack name 'kb-conduit' is also used by .*copy.yaml"):
        synth_project(project, project / "cdktf.out")


def test_a_python_stack_module_must_define_define(project: Path):
    (project / "stacks" / "helpers.py").write_text("X = 1\n")
    with pytest.raises(StrataError, match="helpers.py: a Python stack module defines define\\(app\\)"):
        synth_project(project, project / "cdktf.out")


def run_main(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    shutil.copy(ROOT / "main.py", project / "main.py")
    return subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "main.py"], cwd=project, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **env}, check=False)


def test_main_py_writes_where_cdktf_says(project: Path, tmp_path: Path):
    result = run_main(project, CDKTF_OUTDIR=str(tmp_path / "elsewhere"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "elsewhere" / "stacks" / "kb-conduit-docker" / "cdk.tf.json").is_file()
    assert (tmp_path / "elsewhere" / "manifest.json").is_file()


def test_main_py_on_an_invalid_stack_prints_the_located_errors_and_no_traceback(project: Path):
    (project / "agents" / "concierge.py").unlink()
    result = run_main(project)
    assert result.returncode == 1
    assert result.stderr.strip() == ("stacks/kb-conduit.yaml:116:15: stack.agents[5].implementation.path: "
                                     "implementation file not found: agents/concierge.py [S015]")
    assert not (project / "cdktf.out").exists()
