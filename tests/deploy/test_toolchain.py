"""OpenTofu and the provider mirror, built from source, used with no registry."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import time
import uuid

from rich.console import Console

from agentstrata.deploy.steps import StepRunner
from agentstrata.deploy.toolchain import TOFU, build_toolchain, registry_reachable
from agentstrata.targets.docker.toolchain import DOCKER_PROVIDER


def _config(network: str) -> dict:
    """What a cdktf stack with the docker provider boils down to."""
    return {
        "terraform": {"required_providers": {"docker": {"source": DOCKER_PROVIDER.source,
                                                        "version": DOCKER_PROVIDER.version}}},
        "provider": {"docker": [{}]},
        "resource": {"docker_network": {"probe": {"name": network}}},
    }


def _tofu(toolchain, args, cwd, offline=False):
    argv = [str(toolchain.binary), *args, "-no-color"]
    # As root, a network namespace of its own proves that nothing is fetched from anywhere.
    if offline and os.geteuid() == 0 and shutil.which("unshare"):
        argv = ["unshare", "--net", *argv]
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(toolchain.cli_config), "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_tofu_is_the_pinned_release_not_a_dev_build(toolchain):
    out = subprocess.run([toolchain.binary, "version", "-json"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["terraform_version"] == "1.10.10"


def test_mirror_and_tofurc_make_init_and_validate_work_offline(toolchain, tmp_path):
    (tmp_path / "main.tf.json").write_text(json.dumps(_config("strata-never-created")))
    init = _tofu(toolchain, ["init", "-input=false"], tmp_path, offline=True)
    assert init.returncode == 0, init.stdout + init.stderr
    assert f"Installing {DOCKER_PROVIDER.source} v{DOCKER_PROVIDER.version}" in init.stdout
    assert "unauthenticated" in init.stdout  # it came from the local mirror, not a signed registry download
    valid = _tofu(toolchain, ["validate"], tmp_path, offline=True)
    assert valid.returncode == 0, valid.stdout + valid.stderr


def test_the_mirrored_docker_provider_applies_and_destroys_against_the_engine(toolchain, engine, tmp_path):
    network = f"strata-toolchain-{uuid.uuid4().hex[:8]}"
    (tmp_path / "main.tf.json").write_text(json.dumps(_config(network)))
    assert _tofu(toolchain, ["init", "-input=false"], tmp_path).returncode == 0
    try:
        apply = _tofu(toolchain, ["apply", "-auto-approve", "-input=false"], tmp_path)
        assert apply.returncode == 0, apply.stdout + apply.stderr
        assert subprocess.run(["docker", "network", "inspect", network], capture_output=True).returncode == 0
        again = _tofu(toolchain, ["plan", "-detailed-exitcode", "-input=false"], tmp_path)
        assert again.returncode == 0, again.stdout  # 0 = no changes right after apply
    finally:
        destroy = _tofu(toolchain, ["destroy", "-auto-approve", "-input=false"], tmp_path)
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr
    assert subprocess.run(["docker", "network", "inspect", network], capture_output=True).returncode != 0


def test_a_second_run_builds_nothing(layout, toolchain, tmp_path):
    binaries = [layout.tools_bin / TOFU.name, layout.tools_bin / DOCKER_PROVIDER.tool.name]
    before = [path.stat().st_mtime_ns for path in binaries]
    screen = io.StringIO()
    started = time.monotonic()
    build_toolchain(layout, StepRunner(tmp_path / "logs", console=Console(file=screen, width=200)), (DOCKER_PROVIDER,))
    assert time.monotonic() - started < 15
    assert [path.stat().st_mtime_ns for path in binaries] == before
    assert f"build {TOFU.name} (cached" in screen.getvalue()
    assert f"build {DOCKER_PROVIDER.tool.name} (cached" in screen.getvalue()


def test_the_registry_probe_gives_up_quickly_when_nothing_answers():
    started = time.monotonic()
    assert registry_reachable("127.0.0.1:9") is False
    assert time.monotonic() - started < 6
