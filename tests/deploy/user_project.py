"""A user's project, made as a user makes one: Strata's wheel in a fresh venv, ``strata init`` outside the checkout.

Shared as a fixture: ``from tests.deploy.user_project import user_project`` in a test module. The
deploy-to-Docker end-to-end test builds on it (``user_project.strata("deploy", ...)``).

The venv gets agentstrata from the wheel alone, installed with ``--no-deps --no-index``; its
dependencies are those of the checkout's venv, seen through a ``.pth`` file (the same pins,
with no index and no copy of a gigabyte of wheels). ``import agentstrata`` resolves to the
installed wheel: the checkout's editable finder is never run there.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: What a wheel of agentstrata is built from.
_SOURCES = ("pyproject.toml", "README.md")


@dataclass(frozen=True)
class UserProject:
    wheel: Path
    venv: Path
    root: Path
    stack: str

    @property
    def stack_file(self) -> Path:
        return self.root / "stacks" / f"{self.stack}.yaml"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def strata(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.venv / "bin" / "strata"), *args], cwd=self.root, capture_output=True,
                              text=True, timeout=timeout, check=False)


def build_wheel(destination: Path) -> Path:
    """``pip wheel --no-deps`` of a copy of the checkout's sources (setuptools' build/ stays out of the checkout)."""
    source = destination / "source"
    source.mkdir(parents=True)
    for name in _SOURCES:
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "agentstrata", source / "agentstrata", ignore=shutil.ignore_patterns("__pycache__"))
    dist = destination / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
                           capture_output=True, text=True, timeout=600, check=False)
    if built.returncode != 0:
        pytest.skip(f"cannot build the wheel (pip needs setuptools from the index): {built.stderr[-500:]}")
    (wheel,) = dist.glob("agentstrata-*.whl")
    return wheel


def install_into_fresh_venv(wheel: Path, venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True, timeout=300, capture_output=True)
    site = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "checkout-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")


@pytest.fixture(scope="module")
def user_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UserProject]:
    scratch = tmp_path_factory.mktemp("as-a-user")
    wheel = build_wheel(scratch)
    install_into_fresh_venv(wheel, scratch / "venv")
    made = subprocess.run([str(scratch / "venv" / "bin" / "strata"), "init", "my-app"], cwd=scratch,
                          capture_output=True, text=True, timeout=300, check=False)
    assert made.returncode == 0, made.stderr
    yield UserProject(wheel, scratch / "venv", scratch / "my-app", "my-app")
