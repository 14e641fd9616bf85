"""As a user: Strata's wheel in a fresh venv, `strata init` outside the checkout, synth and the snapshot test."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

from tests.deploy.user_project import ROOT, UserProject, user_project  # noqa: F401 - the fixture

_INSTALLER_ADDED = ("RECORD",)


def _run(project: UserProject, code: str) -> str:
    done = subprocess.run([str(project.python), "-c", code], cwd=project.root, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_venv_runs_the_installed_wheel_not_the_checkout(user_project: UserProject):  # noqa: F811
    where = Path(_run(user_project, "import agentstrata; print(agentstrata.__file__)"))
    assert where.is_relative_to(user_project.venv)
    assert not where.is_relative_to(ROOT)


def test_the_wheel_carries_the_pins_and_the_dockerfile(user_project: UserProject):  # noqa: F811
    code = ("from agentstrata.deploy.layout import PINS; from agentstrata.runtime_image import RUNTIME_DOCKERFILE; "
            "print(sorted(str(p.relative_to(PINS)) for p in PINS.rglob('*') if p.is_file())); "
            "print(RUNTIME_DOCKERFILE.is_file())")
    pins, dockerfile = _run(user_project, code).splitlines()
    tools = ("etcd", "kubernetes", "kwok", "terraform-provider-docker", "terraform-provider-kubernetes", "tofu")
    assert eval(pins) == sorted(["package-lock.json", "package.json",  # noqa: S307 - our own repr of a list
                                 *(f"tools/{tool}/{name}" for tool in tools for name in ("go.mod", "go.sum"))])
    assert dockerfile == "True"


def test_strata_synth_works_in_the_new_project(user_project: UserProject):  # noqa: F811
    synth = user_project.strata("synth", f"stacks/{user_project.stack}.yaml")
    assert synth.returncode == 0, synth.stderr
    assert synth.stdout.splitlines() == [f"cdktf.out/stacks/{user_project.stack}-docker/cdk.tf.json"]


def test_the_generated_snapshot_test_passes_with_the_venvs_pytest(user_project: UserProject):  # noqa: F811
    run = subprocess.run([str(user_project.python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                         cwd=user_project.root, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "1 passed" in run.stdout


def test_the_runtime_image_gets_the_installed_wheel_back_byte_for_byte(user_project: UserProject, tmp_path):  # noqa: F811
    code = ("from pathlib import Path; from agentstrata.deploy.installed_wheel import repack_installed_wheel; "
            f"print(repack_installed_wheel(Path({str(tmp_path)!r})))")
    repacked = Path(_run(user_project, code))
    assert repacked.name == user_project.wheel.name
    with zipfile.ZipFile(user_project.wheel) as original, zipfile.ZipFile(repacked) as again:
        names = sorted(n for n in original.namelist() if not n.endswith(_INSTALLER_ADDED))
        assert sorted(n for n in again.namelist() if not n.endswith(_INSTALLER_ADDED)) == names
        assert all(original.read(name) == again.read(name) for name in names)
    assert Path(_run(user_project, code)).read_bytes() == repacked.read_bytes()  # reproducible


_IMAGE_RECORD = ("import importlib.metadata as m; "
                 "print('\\n'.join(sorted(f'{f},{f.hash.value}' for f in m.distribution('agentstrata').files "
                 "if f.parts[0] == 'agentstrata' and f.hash)))")


def test_the_runtime_image_installs_the_running_wheel(user_project: UserProject, base_image, tmp_path):  # noqa: F811
    """The wheelhouse, from the installed wheel (no checkout, no index for agentstrata), into the image."""
    cache = tmp_path / "cache"  # a wheelhouse of its own: the machine's is shared with the checkout's deploys
    code = ("import sys; from rich.console import Console; from agentstrata.deploy.layout import project_layout; "
            "from agentstrata.deploy.steps import StepRunner; "
            "from agentstrata.deploy.wheelhouse import ensure_runtime_context; layout = project_layout(); "
            f"print(ensure_runtime_context(layout, StepRunner(layout.logs, console=Console(stderr=True)), "
            f"{base_image!r}).path)")
    built = subprocess.run([str(user_project.python), "-c", code], cwd=user_project.root, capture_output=True,
                           text=True, timeout=1800, env={**os.environ, "XDG_CACHE_HOME": str(cache)}, check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    context = Path(built.stdout.strip())
    assert context == user_project.root / ".strata" / "build" / "runtime"
    tag = f"strata-runtime:user-project-{os.getpid()}"
    build = subprocess.run(["docker", "build", "-q", "--build-arg", f"BASE_IMAGE={base_image}", "-t", tag,
                            str(context)], capture_output=True, text=True, timeout=900, check=False)
    assert build.returncode == 0, build.stderr[-3000:]
    try:
        in_image = subprocess.run(["docker", "run", "--rm", "--entrypoint", "python3", tag, "-c", _IMAGE_RECORD],
                                  capture_output=True, text=True, timeout=120, check=True).stdout
        assert in_image == _run(user_project, _IMAGE_RECORD) + "\n"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
        subprocess.run(["docker", "image", "prune", "--force", "--filter", "label=org.strata.stage=install"],
                       capture_output=True, check=False)
