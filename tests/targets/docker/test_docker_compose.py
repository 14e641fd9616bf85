"""`strata export compose`: the Docker target's containers as a docker-compose file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentstrata.loader import load_stack
from agentstrata.targets import configured_target
from agentstrata.targets.docker.compose import ComposeExport, specs_dir_for
from agentstrata.targets.docker.compose import export_compose as export_loaded
from agentstrata.targets.docker.compose_tool import find_compose

ROOT = Path(__file__).resolve().parents[3]
STRATA = str(Path(sys.executable).parent / "strata")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repo's kb-conduit project: stack file, notebooks, sample KB, runtime build context dir."""
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "cdktf.json", root / "cdktf.json")
    shutil.copy(ROOT / "stacks" / "kb-conduit.yaml", root / "stacks" / "kb-conduit.yaml")
    shutil.copytree(ROOT / "stacks" / "sample-kb", root / "stacks" / "sample-kb")
    shutil.copytree(ROOT / "agents", root / "agents", ignore=shutil.ignore_patterns("__marimo__", "__pycache__"))
    # Compose checks that a build context exists; `strata setup` fills it in a real project.
    (root / ".strata" / "build" / "runtime").mkdir(parents=True)
    monkeypatch.delenv("KB_CONDUIT_ROOT", raising=False)
    monkeypatch.delenv("STRATA_BASE_IMAGE", raising=False)
    monkeypatch.chdir(root)
    return root


def export_compose(stack: Path, out: Path | None = None) -> ComposeExport:
    """As `strata export compose` does: the target configured by the file and the environment."""
    loaded = load_stack(stack)
    target = configured_target(loaded, "docker")
    return export_loaded(loaded, target.__class__.from_settings(
        loaded.spec.deployment.settings("docker"), **target.props_from_environment(os.environ)), out)


def _masked(text: str) -> str:
    """The runtime image's tag hashes the package sources: mask it so the snapshot holds still."""
    return re.sub(r"strata-runtime:[0-9a-f]{12}", "strata-runtime:<runtime-hash>", text)


def test_compose_file_snapshot(project: Path, snapshot) -> None:
    written = export_compose(project / "stacks" / "kb-conduit.yaml")
    assert written.compose_file == project / "docker-compose.generated.yaml"
    assert _masked(written.compose_file.read_text()) == snapshot


def test_each_container_reads_its_packaged_stack_file_written_beside_it(project: Path) -> None:
    written = export_compose(project / "stacks" / "kb-conduit.yaml", project / "deploy" / "stack.compose.yaml")
    assert written.spec_files["kb_base"] == project / "deploy" / "stack.compose.specs" / "kb_base.yaml"
    shipped = yaml.safe_load(written.spec_files["kb_base"].read_text())
    assert shipped["stack"]["agents"][-1]["implementation"]["path"] == "/app/agents/kb_base.py"
    mounts = written.document["services"]["kb_base"]["volumes"]
    assert {"type": "bind", "source": "./stack.compose.specs/kb_base.yaml", "target": "/app/stack.yaml",
            "read_only": True} in mounts
    assert {"type": "bind", "source": "../agents/kb_base.py", "target": "/app/agents/kb_base.py",
            "read_only": True} not in mounts  # outside the compose folder: absolute
    assert {"type": "bind", "source": str(project / "agents" / "kb_base.py"), "target": "/app/agents/kb_base.py",
            "read_only": True} in mounts


def test_kb_conduit_root_overrides_the_kb_mount(project: Path, tmp_path: Path, monkeypatch) -> None:
    kb = tmp_path / "other-kb"
    kb.mkdir()
    monkeypatch.setenv("KB_CONDUIT_ROOT", str(kb))
    written = export_compose(project / "stacks" / "kb-conduit.yaml")
    mounts = written.document["services"]["kb_base"]["volumes"]
    assert mounts[0] == {"type": "bind", "source": str(kb), "target": "/kb-conduit", "read_only": True}
    assert all(m["target"] != "/kb-conduit" for m in written.document["services"]["concierge"]["volumes"])


def test_generated_file_is_valid_for_the_installed_compose(project: Path) -> None:
    tool = find_compose()
    written = export_compose(project / "stacks" / "kb-conduit.yaml")
    done = subprocess.run([*tool.command, "-f", str(written.compose_file), "config"], cwd=project,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    assert set(resolved["services"]) == {"kb_base", "context_loader", "validator", "debriefer",
                                         "pattern_detector", "concierge"}
    assert resolved["services"]["concierge"]["depends_on"] == {
        "context_loader": {"condition": "service_healthy"},
        "debriefer": {"condition": "service_healthy"},
        "pattern_detector": {"condition": "service_healthy"},
    }


def test_services_match_the_terraform_containers(project: Path) -> None:
    from agentstrata.constructs.project import synth_file

    written = export_compose(project / "stacks" / "kb-conduit.yaml")
    synth_file(project / "stacks" / "kb-conduit.yaml", "docker", project / "cdktf.out")
    config = json.loads((project / "cdktf.out" / "stacks" / "kb-conduit-docker" / "cdk.tf.json").read_text())
    containers = {c["name"]: c for c in config["resource"]["docker_container"].values()}
    image = config["resource"]["docker_image"]["runtime"]
    services = written.document["services"]
    assert sorted(containers) == sorted(s["container_name"] for s in services.values())
    for service in services.values():
        container = containers[service["container_name"]]
        assert service["image"] == image["name"]
        assert service["build"]["args"] == image["build"]["build_args"]
        assert service["command"] == container["command"]
        assert service["environment"] == container["env"]
        assert service["labels"] == {item["label"]: item["value"] for item in container["labels"]}
        assert service["ports"] == [f"{p['ip']}:{p['external']}:{p['internal']}/{p['protocol']}"
                                    for p in container["ports"]]
        assert service["user"] == container["user"]
        assert service["cap_drop"] == container["capabilities"]["drop"]
        assert service["security_opt"] == container["security_opts"]
        assert service["tmpfs"] == [f"{k}:{v}" for k, v in container["tmpfs"].items()]
        assert service["restart"] == container["restart"]
        assert service["init"] == container["init"]
        assert service["stop_grace_period"] == f"{container['destroy_grace_seconds']}s"
        assert service["healthcheck"] == container["healthcheck"]
        binds = {v["target"]: v for v in service["volumes"] if v["type"] == "bind"}
        kb = [m for m in container["mounts"] if m["target"] == "/kb-conduit"]
        assert [bool(kb), bool(binds.get("/kb-conduit"))] == [container["name"] == "kb-conduit-kb-base"] * 2
        if kb:
            assert binds["/kb-conduit"]["read_only"] is kb[0]["read_only"] is True
            assert (project / binds["/kb-conduit"]["source"]).resolve() == Path(kb[0]["source"])
        agent = service["labels"]["strata.agent"]
        context = Path(config["resource"]["docker_image"][f"{agent}_image"]["build"]["context"])
        shipped = {f"/app/agents/{agent}.py": context / "notebook.py", "/app/stack.yaml": context / "stack.yaml"}
        assert set(binds) - {"/kb-conduit"} == set(shipped)
        assert f"COPY notebook.py /app/agents/{agent}.py\nCOPY stack.yaml /app/stack.yaml\n" in (
            context / "Dockerfile").read_text()
        for path, bind in binds.items():
            if path != "/kb-conduit":
                assert (project / bind["source"]).resolve().read_text() == shipped[path].read_text()
        assert service["read_only"] is container["read_only"] is True
        assert [(v["source"], v["target"]) for v in service["volumes"] if v["type"] == "volume"] == [
            (v["volume_name"], v["container_path"]) for v in container["volumes"]]


def test_cli_writes_the_default_compose_file(project: Path) -> None:
    done = subprocess.run([STRATA, "export", "compose", "stacks/kb-conduit.yaml"],
                          cwd=project, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"wrote {project / 'docker-compose.generated.yaml'} (services: kb_base, context_loader, validator, "
        "debriefer, pattern_detector, concierge)",
        f"wrote {project / 'docker-compose.generated.specs'}/ (the stack file of each container)",
    ]
    assert sorted(p.name for p in specs_dir_for(project / "docker-compose.generated.yaml").iterdir()) == [
        "concierge.yaml", "context_loader.yaml", "debriefer.yaml", "kb_base.yaml", "pattern_detector.yaml",
        "validator.yaml"]


def test_cli_refuses_a_stack_that_does_not_allow_docker(project: Path) -> None:
    stack = project / "stacks" / "kb-conduit.yaml"
    data: dict[str, Any] = yaml.safe_load(stack.read_text())
    data["deployment"] = {"target": "local"}
    stack.write_text(yaml.safe_dump(data, sort_keys=False))
    done = subprocess.run([STRATA, "export", "compose", str(stack)],
                          cwd=project, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    # Located at the deployment block's value: its first key.
    line = next(i for i, text in enumerate(stack.read_text().splitlines(), 1) if text.startswith("deployment:")) + 1
    assert done.stderr.strip() == (
        f"stacks/kb-conduit.yaml:{line}:3: deployment: stack 'kb-conduit' does not allow target 'docker' "
        "(allowed: local); add a 'deployment.docker' block"
    )
    assert not (project / "docker-compose.generated.yaml").exists()
