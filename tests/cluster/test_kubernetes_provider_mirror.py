"""hashicorp/kubernetes 1.13.4 built from source, served from the mirror, applying to the local cluster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from agentstrata.cluster.certificates import Certificates
from agentstrata.cluster.tokens import read_admin_token
from agentstrata.deploy.layout import Layout, project_layout
from agentstrata.deploy.steps import StepRunner
from agentstrata.deploy.toolchain import TOFU, build_go_tool, find_go, write_mirror, write_tofurc
from agentstrata.targets.docker.toolchain import DOCKER_PROVIDER
from agentstrata.errors import StrataError
from agentstrata.targets.kubernetes.toolchain import KUBERNETES_PROVIDER

pytestmark = pytest.mark.timeout(2400)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """A mirror and tofurc of their own holding hashicorp/kubernetes, from the checkout's builds."""
    checkout = project_layout()
    try:
        go = find_go()
    except StrataError:
        pytest.skip("Go is not installed: tofu and the kubernetes provider cannot be built")
    runner = StepRunner(checkout.logs, console=Console(stderr=True, width=200))
    for tool in (TOFU, KUBERNETES_PROVIDER.tool):
        build_go_tool(checkout, runner, go, tool)
    layout = Layout(scratch := tmp_path_factory.mktemp("mirror"), scratch / "toolchain")
    layout.tools_bin.parent.mkdir(parents=True)
    layout.tools_bin.symlink_to(checkout.tools_bin)
    write_mirror(layout, [KUBERNETES_PROVIDER])
    write_tofurc(layout, [DOCKER_PROVIDER, KUBERNETES_PROVIDER])
    return layout


def _tofu(layout: Layout, cwd: Path, *args: str, offline: bool = False) -> subprocess.CompletedProcess[str]:
    argv = [str(layout.tools_bin / TOFU.name), *args, "-no-color"]
    # As root, a network namespace of its own proves that nothing is fetched from anywhere.
    if offline and os.geteuid() == 0 and shutil.which("unshare"):
        argv = ["unshare", "--net", *argv]
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(layout.tofurc), "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_the_tofurc_takes_the_kubernetes_provider_from_the_mirror_only(mirror):
    text = mirror.tofurc.read_text()
    include, exclude = (line.split("=", 1)[1].strip() for line in text.splitlines()
                        if line.strip().startswith(("include", "exclude")))
    assert json.loads(include) == json.loads(exclude) == [
        "registry.opentofu.org/hashicorp/kubernetes", "registry.opentofu.org/kreuzwerker/docker"]
    assert (mirror.providers / "registry.opentofu.org/hashicorp/kubernetes/1.13.4/linux_amd64"
            / "terraform-provider-kubernetes_v1.13.4").is_file()


def test_the_mirrored_provider_applies_to_the_local_cluster_with_no_diff_after(mirror, cluster, tmp_path):
    certs = Certificates(cluster.paths.pki)
    config = {
        "terraform": {"required_providers": {"kubernetes": {"source": KUBERNETES_PROVIDER.source,
                                                            "version": KUBERNETES_PROVIDER.version}}},
        "provider": {"kubernetes": [{
            "host": cluster.status()[1]["server"],
            "token": read_admin_token(cluster.paths.token_file),
            "cluster_ca_certificate": certs.ca_cert.read_text(),
            # 1.x reads ~/.kube/config by default and then ignores host and token.
            "load_config_file": False,
        }]},
        "resource": {"kubernetes_config_map": {"probe": {
            "metadata": [{"name": "mirror-probe", "namespace": "default"}], "data": {"k": "v"}}}},
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(config))
    init = _tofu(mirror, tmp_path, "init", "-input=false", offline=True)
    assert init.returncode == 0, init.stdout + init.stderr
    assert f"Installing {KUBERNETES_PROVIDER.source} v{KUBERNETES_PROVIDER.version}" in init.stdout
    apply = _tofu(mirror, tmp_path, "apply", "-auto-approve", "-input=false")
    assert apply.returncode == 0, apply.stdout + apply.stderr
    try:
        with cluster.api() as api:
            assert api.get("/api/v1/namespaces/default/configmaps/mirror-probe").json()["data"] == {"k": "v"}
        again = _tofu(mirror, tmp_path, "plan", "-detailed-exitcode", "-input=false")
        assert again.returncode == 0, again.stdout + again.stderr  # 0: no changes
    finally:
        destroy = _tofu(mirror, tmp_path, "destroy", "-auto-approve", "-input=false")
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr
