"""The Kubernetes target's tests: kb-conduit synthesized in the throwaway project, and the mirrored provider."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentstrata.deploy.layout import Layout, project_layout
from agentstrata.deploy.toolchain import TOFU, write_mirror, write_tofurc
from agentstrata.targets.kubernetes.toolchain import KUBERNETES_PROVIDER

IMAGE = "registry.example.com/strata-runtime:1.0"
AGENTS = {"kb_base": 0, "context_loader": 1, "validator": 1, "debriefer": 2, "pattern_detector": 2, "concierge": 3}


def stack_file(project: Path) -> Path:
    return project / "stacks" / "kb-conduit.yaml"


def edit_stack(project: Path, change: Callable[[dict[str, Any]], None]) -> None:
    document = yaml.safe_load(stack_file(project).read_text())
    change(document)
    stack_file(project).write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.fixture
def kb_conduit(project: Path, synth):  # noqa: ANN001, ANN201
    """``kb_conduit(**props)``: the project's kb-conduit synthesized for ``KubernetesTarget`` configured by the
    file's ``deployment.kubernetes`` block plus ``props`` (the image by default)."""
    from agentstrata.constructs import AgentStack
    from agentstrata.loader import load_stack
    from agentstrata.targets import configured_target

    def run(**props: object) -> dict[str, Any]:
        def build(app):  # noqa: ANN001, ANN202
            target = configured_target(load_stack(stack_file(project)), "kubernetes", **{"image": IMAGE, **props})
            return AgentStack.from_file(app, stack_file(project), target=target)

        return synth(build)

    return run


def resources(config: dict[str, Any], kind: str, profile: str = "1.13") -> dict[str, dict[str, Any]]:
    return config["resource"].get(f"kubernetes_{kind}" + ("_v1" if profile == "2" else ""), {})


@pytest.fixture(scope="session")
def mirrored_provider(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """A mirror and tofurc of their own serving the checkout's built hashicorp/kubernetes 1.13.4."""
    checkout = project_layout()
    built = checkout.tools_bin / KUBERNETES_PROVIDER.tool.name
    if not built.is_file() or not (checkout.tools_bin / TOFU.name).is_file():
        pytest.skip("the kubernetes provider or tofu is not built: `strata setup --target kubernetes` builds them")
    layout = Layout(scratch := tmp_path_factory.mktemp("k8s-mirror"), scratch / "toolchain")
    layout.tools_bin.parent.mkdir(parents=True)
    layout.tools_bin.symlink_to(checkout.tools_bin)
    write_mirror(layout, [KUBERNETES_PROVIDER])
    write_tofurc(layout, [KUBERNETES_PROVIDER])
    return layout


def tofu(layout: Layout, cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "TF_CLI_CONFIG_FILE": str(layout.tofurc), "CHECKPOINT_DISABLE": "1", **(env or {})}
    return subprocess.run([str(layout.tools_bin / TOFU.name), *args, "-no-color"], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="session")
def provider_schema(mirrored_provider: Layout, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``tofu providers schema -json`` of the mirrored provider: its resource schemas, by type."""
    folder = tmp_path_factory.mktemp("k8s-schema")
    (folder / "main.tf.json").write_text(json.dumps({"terraform": {"required_providers": {"kubernetes": {
        "source": KUBERNETES_PROVIDER.source, "version": KUBERNETES_PROVIDER.version}}}}))
    init = tofu(mirrored_provider, folder, "init", "-input=false")
    assert init.returncode == 0, init.stdout + init.stderr
    done = tofu(mirrored_provider, folder, "providers", "schema", "-json")
    assert done.returncode == 0, done.stderr
    schemas = json.loads(done.stdout)["provider_schemas"]
    (provider,) = schemas.values()
    return provider
