"""`strata export k8s`: the objects the Terraform resources are made of, as plain YAML manifests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agentstrata.loader import load_stack
from agentstrata.targets import configured_target
from agentstrata.targets.kubernetes.export import export_manifests, file_name
from agentstrata.targets.kubernetes.stack_objects import stack_objects
from tests.targets.kubernetes.conftest import AGENTS, IMAGE, stack_file

STRATA = str(Path(sys.executable).parent / "strata")


def target(project: Path, **props: object):  # noqa: ANN201
    return configured_target(load_stack(stack_file(project)), "kubernetes", **{"image": IMAGE, **props})


def test_each_object_is_one_file_named_in_the_order_to_apply(project: Path, tmp_path: Path):
    written = export_manifests(load_stack(stack_file(project)), target(project), tmp_path / "out")
    names = sorted(path.name for path in written.files)
    assert names[:2] == ["00-namespace-kb-conduit-agents.yaml", "10-persistentvolumeclaim-kb-conduit-kb.yaml"]
    assert names[-1] == "50-deployment-kb-conduit-validator.yaml"
    assert len(names) == 2 + 4 * len(AGENTS)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names


def test_the_manifests_are_the_objects_of_the_terraform_resources(project: Path, tmp_path: Path):
    loaded = load_stack(stack_file(project))
    export_manifests(loaded, target(project), tmp_path / "out")
    on_disk = {path.name: yaml.safe_load(path.read_text()) for path in (tmp_path / "out").iterdir()}
    assert on_disk == {file_name(obj): obj.manifest for obj in stack_objects(loaded, target(project))}
    config_map = (tmp_path / "out" / "20-configmap-kb-conduit-debriefer.yaml").read_text()
    assert yaml.safe_load(config_map)["data"]["notebook.py"] == (project / "agents" / "debriefer.py").read_text()
    assert "notebook.py: |" in config_map


def test_profile_2_manifests_set_seccomp_and_enforce_restricted(project: Path, tmp_path: Path):
    export_manifests(load_stack(stack_file(project)), target(project, provider_profile="2"), tmp_path / "out")
    namespace = yaml.safe_load((tmp_path / "out" / "00-namespace-kb-conduit-agents.yaml").read_text())
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    deployment = yaml.safe_load((tmp_path / "out" / "50-deployment-kb-conduit-concierge.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                                      "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["automountServiceAccountToken"] is False


def test_a_second_export_replaces_what_the_first_wrote_and_nothing_else(project: Path, tmp_path: Path):
    out = tmp_path / "out"
    export_manifests(load_stack(stack_file(project)), target(project), out)
    (out / "notes.yaml").write_text("mine: true\n")
    export_manifests(load_stack(stack_file(project)), target(project, kb_claim="team-kb"), out)
    assert not (out / "10-persistentvolumeclaim-kb-conduit-kb.yaml").exists()
    assert (out / "notes.yaml").read_text() == "mine: true\n"


def test_strata_export_k8s_writes_into_the_stacks_folder_by_default(project: Path):
    env = {**os.environ, "STRATA_KUBERNETES_IMAGE": IMAGE}
    done = subprocess.run([STRATA, "export", "k8s", "stacks/kb-conduit.yaml"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "wrote k8s/kb-conduit/ (26 manifests: 1 Namespace, 1 PersistentVolumeClaim, 6 ConfigMap, 6 Service, "
        "6 NetworkPolicy, 6 Deployment)",
        "apply with: kubectl apply -f k8s/kb-conduit",
    ]
    assert (project / "k8s" / "kb-conduit" / "00-namespace-kb-conduit-agents.yaml").is_file()


def test_strata_export_k8s_without_an_image_says_where_to_set_it(project: Path):
    env = {key: value for key, value in os.environ.items() if key != "STRATA_KUBERNETES_IMAGE"}
    done = subprocess.run([STRATA, "export", "k8s", "stacks/kb-conduit.yaml"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "deployment.kubernetes.image: the kubernetes target needs the runtime image" in done.stderr
    assert "Traceback" not in done.stderr
    with pytest.raises(FileNotFoundError):
        next((project / "k8s").iterdir())
