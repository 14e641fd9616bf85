"""The wheelhouse of agentstrata and its dependencies, and the runtime image's build context.

The image installs from these wheels with no package index, so a container build needs no
network. pip resolves them inside the base image, with the interpreter that will run them:
resolved on the host, markers such as redis's ``async-timeout; python_full_version <
"3.11.3"`` would be judged against the host's Python (3.11.7) rather than the image's
(Debian's 3.11.2), and the image's install would then miss a dependency.

The wheel of agentstrata is the one running: a checkout's is built from its sources (with a
fixed SOURCE_DATE_EPOCH, so a rebuild is byte-identical), an installed wheel is packed back from
the installed files (:mod:`agentstrata.deploy.installed_wheel`). The wheelhouse lives in the
machine's toolchain cache, shared by every project; each project's build context (the
Dockerfile and the wheels) is laid out under its own ``.strata/``, so that its content hash
changes exactly when what goes into the image does.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from agentstrata.deploy.installed_wheel import repack_installed_wheel
from agentstrata.deploy.layout import Layout
from agentstrata.deploy.steps import StepRunner
from agentstrata.runtime_image import RUNTIME_CONTEXT_DIR, RUNTIME_DOCKERFILE

#: What a wheel of the project is built from: the package metadata and the package itself.
_PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "MANIFEST.in", "README.md", "LICENSE")
_PACKAGE = "agentstrata"
_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_STAMP = ".inputs-sha256"
_DEPS_STAMP = ".dependencies-sha256"
#: 1980-01-01, the earliest date a zip file can hold: the wheel's timestamps stop varying.
_SOURCE_DATE_EPOCH = "315532800"
#: Settings of the host's pip and proxies that the container's pip needs to reach the index.
_PASSED_ENV = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT",
               "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
_CA_BUNDLE_IN_IMAGE = "/etc/ssl/certs/ca-certificates.crt"


@dataclass(frozen=True)
class ProjectWheelSource:
    """What the agentstrata wheel is made from, as ``pip wheel`` in the image is given it."""

    #: Changes exactly when the wheel's content does.
    sha256: str
    #: Changes when the dependencies may: the package metadata.
    metadata_sha256: str
    #: The argument of ``pip wheel``, with the staged folder mounted at /src.
    requirement: str


@dataclass(frozen=True)
class BuildContext:
    """The runtime image's build context and the hash of its content."""

    path: Path
    sha256: str


def ensure_runtime_context(layout: Layout, runner: StepRunner, base_image: str) -> BuildContext:
    """Build the wheelhouse if its inputs changed, then lay out the build context."""
    wheels = ensure_wheelhouse(layout, runner, base_image)
    with runner.step("runtime build context", "runtime-context", "see the log") as step:
        context = layout.root / RUNTIME_CONTEXT_DIR
        wanted = {Path("Dockerfile"): RUNTIME_DOCKERFILE}
        wanted.update({Path("wheels") / wheel.name: wheel for wheel in wheels})
        _sync(context, wanted)
        digest = tree_sha256(context)
        step.outcome = f"sha256 {digest[:12]}"
    return BuildContext(context, digest)


def ensure_wheelhouse(layout: Layout, runner: StepRunner, base_image: str, package: Path = _PACKAGE_DIR) -> list[Path]:
    """``pip wheel`` of ``package`` (the running agentstrata), run in ``base_image``, cached by a hash of its inputs.

    When only the package's own files changed (not pyproject.toml, not the base image), the
    dependencies' wheels are kept and only the project wheel is rebuilt: seconds, not a minute.
    """
    hint = "check that PyPI is reachable (`pip download --no-deps pip`); the log has pip's own message"
    with runner.step("wheelhouse", "wheelhouse", hint) as step:
        source = layout.wheelhouse.parent / "wheel-source"
        image_id = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", base_image],
                                  capture_output=True, text=True, check=True).stdout.strip()
        project = stage_project(source, package)
        inputs = _sha256(f"{project.sha256} {image_id}")
        dependencies = _sha256(f"{project.metadata_sha256} {image_id}")
        stamp, deps_stamp = layout.wheelhouse / _STAMP, layout.wheelhouse / _DEPS_STAMP
        existing = sorted(layout.wheelhouse.glob("*.whl"))
        if existing and _read(stamp) == inputs:
            step.outcome = f"cached, {_count(existing)}"
            return existing
        cache = layout.pip_cache
        cache.mkdir(parents=True, exist_ok=True)
        if existing and _read(deps_stamp) == dependencies:
            step.detail(f"pip wheel --no-deps in {base_image} (agentstrata only)")
            for wheel in layout.wheelhouse.glob(f"{_PACKAGE}-*.whl"):
                wheel.unlink()
            step.run(_pip_wheel_in_image(base_image, source, project, layout.wheelhouse, cache, "--no-deps"), timeout=600)
        else:
            shutil.rmtree(layout.wheelhouse, ignore_errors=True)
            layout.wheelhouse.mkdir(parents=True)
            step.detail(f"pip wheel in {base_image} (agentstrata and its dependencies)")
            step.run(_pip_wheel_in_image(base_image, source, project, layout.wheelhouse, cache), timeout=1800)
            deps_stamp.write_text(dependencies, encoding="utf-8")
        stamp.write_text(inputs, encoding="utf-8")
        built = sorted(layout.wheelhouse.glob("*.whl"))
        step.outcome = _count(built)
        return built


def _pip_wheel_in_image(image: str, source: Path, project: ProjectWheelSource, wheelhouse: Path, cache: Path,
                        *flags: str) -> list[str]:
    """``docker run`` of the image's pip, writing as the calling user, reaching the index as the host does."""
    argv = ["docker", "run", "--rm", "--network", "host", "--user", f"{os.getuid()}:{os.getgid()}",
            "--env", "HOME=/tmp", "--env", "PIP_CACHE_DIR=/pip-cache", "--env", "PIP_DISABLE_PIP_VERSION_CHECK=1",
            "--env", f"SOURCE_DATE_EPOCH={_SOURCE_DATE_EPOCH}",
            "--volume", f"{source}:/src", "--volume", f"{wheelhouse}:/wheels", "--volume", f"{cache}:/pip-cache"]
    argv += [arg for name in _PASSED_ENV if name in os.environ for arg in ("--env", name)]
    # The host's CA bundle: behind a TLS-inspecting proxy, only the host trusts the index's certificate.
    bundle = next((Path(p) for p in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), _CA_BUNDLE_IN_IMAGE)
                   if p and Path(p).is_file()), None)
    if bundle is not None:
        argv += ["--volume", f"{bundle.resolve()}:{_CA_BUNDLE_IN_IMAGE}:ro", "--env", f"PIP_CERT={_CA_BUNDLE_IN_IMAGE}"]
    return [*argv, image, "python3", "-m", "pip", "wheel", *flags, "--wheel-dir", "/wheels", project.requirement]


def tree_sha256(folder: Path) -> str:
    """SHA-256 over every file's relative path and bytes, in a fixed order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def stage_project(source: Path, package: Path = _PACKAGE_DIR) -> ProjectWheelSource:
    """Put what the wheel of ``package`` (the running agentstrata) is made from into ``source``.

    A checkout (``pyproject.toml`` beside the package: an editable install) stages its sources;
    an installed wheel is packed back into a wheel.
    """
    root = package.parent
    if (root / "pyproject.toml").is_file():
        digest = _stage_sources(root, source)
        metadata = hashlib.sha256((source / "pyproject.toml").read_bytes()).hexdigest()
        return ProjectWheelSource(digest, metadata, "/src")
    shutil.rmtree(source, ignore_errors=True)  # a checkout's sources or another version's wheel
    wheel = repack_installed_wheel(source)
    metadata = importlib.metadata.distribution(_PACKAGE).read_text("METADATA") or ""
    return ProjectWheelSource(hashlib.sha256(wheel.read_bytes()).hexdigest(), _sha256(metadata),
                              f"/src/{wheel.name}")


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


def _count(wheels: list[Path]) -> str:
    return f"{len(wheels)} wheel" + ("" if len(wheels) == 1 else "s")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""
