"""``strata env``: after ``eval "$(strata env)"``, plain ``cdktf`` synthesizes and plans on Strata's toolchain."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from agentstrata.deploy.cdktf_cli import cdktf_flags, ensure_cdktf_cli
from tests.constructs.conftest import ROOT
from tests.deploy.conftest import engine, layout, runner, toolchain  # noqa: F401 - the shared toolchain fixtures

STRATA = ROOT / ".venv" / "bin" / "strata"
#: What a shell that never ran `strata env` has: none of the variables it sets.
_SET_BY_ENV = ("TERRAFORM_BINARY_NAME", "TF_CLI_CONFIG_FILE", "CDKTF_DISABLE_PLUGIN_CACHE_ENV", "CHECKPOINT_DISABLE",
               "DISABLE_VERSION_CHECK", "TF_IN_AUTOMATION", "STRATA_BASE_IMAGE")


def _plain_shell_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in _SET_BY_ENV}


@pytest.fixture(scope="module")
def cdktf(layout, runner) -> Path:  # noqa: F811
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: cannot install the cdktf CLI")
    return ensure_cdktf_cli(layout, runner)


def test_eval_of_strata_env_makes_plain_cdktf_synth_and_plan_work(toolchain, cdktf, engine, tmp_path):  # noqa: F811
    made = subprocess.run([str(STRATA), "init", "env-check"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, check=False)
    assert made.returncode == 0, made.stderr
    flags = " ".join(cdktf_flags(toolchain))
    script = (f'set -e; eval "$({shlex.quote(str(STRATA))} env)"; cdktf synth; '
              f"cdktf plan env-check-docker {flags}")
    run = subprocess.run(["bash", "-c", script], cwd=tmp_path / "env-check", env=_plain_shell_env(),
                         capture_output=True, text=True, timeout=600, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "Plan:" in output and "8 to add" in output
    assert [line for line in output.splitlines() if "ERROR" in line] == []
    assert "checkpoint" not in output.lower()  # telemetry is off: no failed call to checkpoint-api.hashicorp.com


def test_strata_env_prints_an_export_line_per_variable(toolchain, cdktf):  # noqa: F811
    printed = subprocess.run([str(STRATA), "env"], capture_output=True, text=True, timeout=120, check=True).stdout
    names = [line.split("=", 1)[0].removeprefix("export ") for line in printed.splitlines()]
    assert all(line.startswith("export ") for line in printed.splitlines())
    assert set(names) - {"STRATA_BASE_IMAGE"} == {"PATH", *_SET_BY_ENV} - {"STRATA_BASE_IMAGE"}
    assert printed.splitlines()[0].endswith(':"$PATH"')  # prepended: the rest of the PATH stays


def test_strata_env_before_setup_says_to_run_setup(tmp_path):
    env = {**_plain_shell_env(), "XDG_CACHE_HOME": str(tmp_path / "empty-cache"), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([str(STRATA), "env"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.strip().endswith("none on PATH reaches its registry: run `strata setup` first")
