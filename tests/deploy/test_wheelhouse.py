"""The wheelhouse and the runtime image's build context: cached, stable, and buildable offline."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

from rich.console import Console

from agentstrata.deploy.layout import Layout
from agentstrata.deploy.steps import StepRunner
from agentstrata.deploy.wheelhouse import ensure_runtime_context, ensure_wheelhouse, tree_sha256
from agentstrata.runtime_image import RUNTIME_IMAGE_NAME

def test_the_tree_hash_depends_on_names_and_bytes_not_on_timestamps(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("one")
    first = tree_sha256(tmp_path)
    os.utime(tmp_path / "a" / "x.txt", (0, 0))
    assert tree_sha256(tmp_path) == first
    (tmp_path / "a" / "x.txt").write_text("two")
    assert tree_sha256(tmp_path) != first
    (tmp_path / "a" / "x.txt").rename(tmp_path / "a" / "y.txt")
    assert tree_sha256(tmp_path) != first


def _throwaway_project(root: Path) -> None:
    (root / "agentstrata").mkdir(parents=True)
    (root / "agentstrata" / "__init__.py").write_text("VALUE = 1\n")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "agentstrata"\nversion = "0.0.1"\n'
    )


def test_the_wheelhouse_is_cached_reproducible_and_rebuilt_when_sources_change(base_image, tmp_path):
    project = Layout(tmp_path / "project", tmp_path / "toolchain")
    checkout = tmp_path / "checkout"
    _throwaway_project(checkout)
    package = checkout / "agentstrata"
    screen = io.StringIO()
    runner = StepRunner(tmp_path / "logs", console=Console(file=screen, width=200))

    first = ensure_wheelhouse(project, runner, base_image, package)
    assert [wheel.name for wheel in first] == ["agentstrata-0.0.1-py3-none-any.whl"]
    built = first[0].read_bytes()

    assert ensure_wheelhouse(project, runner, base_image, package) == first
    assert "wheelhouse (cached, 1 wheel," in screen.getvalue()

    (project.wheelhouse / ".inputs-sha256").unlink()
    assert ensure_wheelhouse(project, runner, base_image, package)[0].read_bytes() == built  # SOURCE_DATE_EPOCH

    (package / "__init__.py").write_text("VALUE = 2\n")
    assert ensure_wheelhouse(project, runner, base_image, package)[0].read_bytes() != built
    assert "pip wheel --no-deps" in (tmp_path / "logs" / "wheelhouse.log").read_text()  # deps kept as they were
    assert not (checkout / "build").exists()  # built from a staged copy, not in the checkout


def test_the_runtime_image_builds_from_the_context_and_runs_as_uid_10001(layout, runner, base_image):
    context = ensure_runtime_context(layout, runner, base_image)
    assert ensure_runtime_context(layout, runner, base_image).sha256 == context.sha256  # stable for docker_image triggers
    assert sorted(p.name for p in context.path.iterdir()) == ["Dockerfile", "wheels"]
    tag = f"{RUNTIME_IMAGE_NAME}:test-{context.sha256[:12]}"
    build = subprocess.run(
        ["docker", "build", "--build-arg", f"BASE_IMAGE={base_image}", "-t", tag, str(context.path)],
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    try:
        who = subprocess.run(["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"],
                             capture_output=True, text=True, check=True, timeout=120)
        assert who.stdout.strip() == "10001"
        usage = subprocess.run(["docker", "run", "--rm", tag, "--help"], capture_output=True, text=True, timeout=120)
        assert usage.returncode == 0, usage.stdout + usage.stderr
        config = json.loads(subprocess.run(["docker", "image", "inspect", tag], capture_output=True, text=True,
                                           check=True).stdout)[0]["Config"]
        assert config["Entrypoint"] == ["strata", "serve"]
        assert config["WorkingDir"] == "/app"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
        subprocess.run(["docker", "image", "prune", "--force", "--filter", "label=org.strata.stage=install"],
                       capture_output=True, check=False)
