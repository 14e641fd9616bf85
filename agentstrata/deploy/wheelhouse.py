"""The wheelhouse of agentstrata and its dependencies, and the runtime image's build context.

The image installs from these wheels with no package index, so a container build needs no
network. The build context is laid out so that its content hash changes exactly when what
goes into the image does: wheels are rebuilt only when the package's own files change, and
the project wheel is built with a fixed SOURCE_DATE_EPOCH, so a rebuild is byte-identical.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from agentstrata.deploy.layout import Layout
from agentstrata.deploy.steps import StepRunner
from agentstrata.errors import StrataError
from agentstrata.runtime_image import RUNTIME_CONTEXT_DIR, RUNTIME_DOCKERFILE

#: The Python of the base image (Debian bookworm); wheels with C extensions must match it.
IMAGE_PYTHON = (3, 11)
#: What a wheel of the project is built from: the package metadata and the package itself.
_PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "MANIFEST.in", "README.md", "LICENSE")
_PACKAGE = "agentstrata"
_STAMP = ".inputs-sha256"
#: 1980-01-01, the earliest date a zip file can hold: the wheel's timestamps stop varying.
_SOURCE_DATE_EPOCH = "315532800"


@dataclass(frozen=True)
class BuildContext:
    """The runtime image's build context and the hash of its content."""

    path: Path
    sha256: str


def ensure_runtime_context(layout: Layout, runner: StepRunner, python: Path | None = None) -> BuildContext:
    """Build the wheelhouse if its inputs changed, then lay out the build context."""
    python = python or Path(sys.executable)
    wheels = ensure_wheelhouse(layout, runner, python)
    with runner.step("runtime build context", "runtime-context", "see the log") as step:
        context = layout.root / RUNTIME_CONTEXT_DIR
        wanted = {Path("Dockerfile"): layout.root / RUNTIME_DOCKERFILE}
        wanted.update({Path("wheels") / wheel.name: wheel for wheel in wheels})
        _sync(context, wanted)
        digest = tree_sha256(context)
        step.outcome = f"sha256 {digest[:12]}"
    return BuildContext(context, digest)


def ensure_wheelhouse(layout: Layout, runner: StepRunner, python: Path) -> list[Path]:
    """``pip wheel`` of the project into ``.strata/wheelhouse``, cached by a hash of its inputs."""
    hint = "check that PyPI is reachable (`pip download --no-deps pip`); the log has pip's own message"
    with runner.step("wheelhouse", "wheelhouse", hint) as step:
        version = _python_version(python)
        if version != IMAGE_PYTHON:
            raise StrataError(
                f"The wheelhouse must be built with Python {IMAGE_PYTHON[0]}.{IMAGE_PYTHON[1]} (the runtime image's), "
                f"and {python} is {version[0]}.{version[1]}.\n"
                "  What to do: create the venv with python3.11 (`python3.11 -m venv .venv`) and re-run."
            )
        source = layout.build / "wheel-source"
        inputs = _stage_sources(layout.root, source)
        stamp = layout.wheelhouse / _STAMP
        existing = sorted(layout.wheelhouse.glob("*.whl"))
        if existing and stamp.is_file() and stamp.read_text(encoding="utf-8") == inputs:
            step.outcome = f"cached, {len(existing)} wheels"
            return existing
        shutil.rmtree(layout.wheelhouse, ignore_errors=True)
        layout.wheelhouse.mkdir(parents=True)
        step.detail("pip wheel (agentstrata and its dependencies)")
        env = {**os.environ, "SOURCE_DATE_EPOCH": _SOURCE_DATE_EPOCH, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        step.run([python, "-m", "pip", "wheel", "--wheel-dir", layout.wheelhouse, source], env=env, timeout=1800)
        stamp.write_text(inputs, encoding="utf-8")
        built = sorted(layout.wheelhouse.glob("*.whl"))
        step.outcome = f"{len(built)} wheels"
        return built


def tree_sha256(folder: Path) -> str:
    """SHA-256 over every file's relative path and bytes, in a fixed order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _stage_sources(root: Path, source: Path) -> str:
    """Copy what a project wheel is built from into ``source``; return the hash of it.

    Building from a copy keeps setuptools' build/ and *.egg-info out of the checkout, and the
    hash is over exactly the files the wheel is made of.
    """
    wanted: dict[Path, Path] = {}
    for name in _PROJECT_FILES:
        if (root / name).is_file():
            wanted[Path(name)] = root / name
    for path in (root / _PACKAGE).rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            wanted[path.relative_to(root)] = path
    _sync(source, wanted)
    return tree_sha256(source)


def _sync(folder: Path, wanted: dict[Path, Path]) -> None:
    """Make ``folder`` hold exactly ``wanted`` (relative path -> source file), copying only changes."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(folder.rglob("*"), reverse=True):
        relative = path.relative_to(folder)
        if path.is_file() and relative not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for relative, origin in wanted.items():
        target = folder / relative
        if target.is_file() and target.read_bytes() == origin.read_bytes():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, target)


def _python_version(python: Path) -> tuple[int, int]:
    out = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    return int(out[0]), int(out[1])
