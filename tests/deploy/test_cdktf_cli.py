"""The cdktf CLI from package-lock.json, run on our tofu and the provider mirror."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentstrata.deploy.cdktf_cli import cdktf_env, cdktf_flags, ensure_cdktf_cli
from agentstrata.deploy.toolchain import Toolchain
from agentstrata.targets.docker.toolchain import DOCKER_PROVIDER


def test_the_env_puts_our_tofu_first_and_turns_phoning_home_off(layout, tmp_path):
    ours = Toolchain(binary=tmp_path / "bin" / "tofu", cli_config=tmp_path / "tofurc")
    env = cdktf_env(layout, ours, base={"PATH": "/usr/bin", "HOME": "/root"})
    assert env["PATH"].split(":") == [str(tmp_path / "bin"), str(layout.node_bin), str(Path(sys.executable).parent),
                                      "/usr/bin"]
    assert env["TERRAFORM_BINARY_NAME"] == "tofu"
    assert env["TF_CLI_CONFIG_FILE"] == str(tmp_path / "tofurc")
    assert env["CHECKPOINT_DISABLE"] == "1"
    assert env["DISABLE_VERSION_CHECK"] == "true"
    assert env["CDKTF_DISABLE_PLUGIN_CACHE_ENV"] == "true"
    assert env["HOME"] == "/root"
    assert cdktf_flags(ours) == ["--skip-provider-lock"]  # `providers lock` would ask the registry


def test_a_registry_backed_system_binary_keeps_the_users_cli_config(layout):
    system = Toolchain(binary=Path("/usr/local/bin/terraform"), cli_config=None)
    env = cdktf_env(layout, system, base={"PATH": "/usr/bin", "TF_CLI_CONFIG_FILE": "/home/u/.terraformrc"})
    assert env["TERRAFORM_BINARY_NAME"] == "terraform"
    assert env["TF_CLI_CONFIG_FILE"] == "/home/u/.terraformrc"
    assert cdktf_flags(system) == []


@pytest.fixture(scope="module")
def cdktf(layout, runner) -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: cannot install the cdktf CLI")
    return ensure_cdktf_cli(layout, runner)


def test_the_pinned_cdktf_cli_is_installed(cdktf, layout, toolchain):
    out = subprocess.run([cdktf, "--version"], env=cdktf_env(layout, toolchain), capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0.21.0"


_APP = """
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_docker.network import Network
from cdktf_cdktf_provider_docker.provider import DockerProvider


class Probe(TerraformStack):
    def __init__(self, scope, name):
        super().__init__(scope, name)
        DockerProvider(self, "docker")
        Network(self, "net", name="strata-cdktf-probe")
        # The binding was generated for 3.6.2; the mirror serves the version it was built as.
        self.add_override("terraform.required_providers.docker.version", {version!r})


app = App()
Probe(app, "probe")
app.synth()
"""


def test_cdktf_plan_runs_our_tofu_against_the_mirror(cdktf, layout, toolchain, engine, tmp_path):
    (tmp_path / "main.py").write_text(textwrap.dedent(_APP.format(version=DOCKER_PROVIDER.version)))
    (tmp_path / "cdktf.json").write_text(json.dumps({"language": "python", "app": f"{sys.executable} main.py"}))
    plan = subprocess.run([cdktf, "plan", "probe", *cdktf_flags(toolchain)], cwd=tmp_path, env=cdktf_env(layout, toolchain),
                          capture_output=True, text=True, timeout=600, check=False)
    output = plan.stdout + plan.stderr
    assert plan.returncode == 0, output
    assert "strata-cdktf-probe" in output
    assert "OpenTofu has been successfully initialized" in output  # TERRAFORM_BINARY_NAME=tofu honoured
    lock = (tmp_path / "cdktf.out" / "stacks" / "probe" / ".terraform.lock.hcl").read_text()
    assert f'version     = "{DOCKER_PROVIDER.version}"' in lock
