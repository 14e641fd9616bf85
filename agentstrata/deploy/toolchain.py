"""OpenTofu and the Terraform providers, usable with no registry.

Where a ``tofu`` or ``terraform`` on PATH can reach its registry, it is used as it is. Otherwise
(this sandbox, CI, air-gapped machines) OpenTofu and the providers are built from source with
Go, from the modules pinned in ``agentstrata/toolchain_pins/tools/*/go.mod``, and the providers are laid out as an
OpenTofu filesystem mirror that a generated CLI config file (``tofurc``) points at.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agentstrata.deploy.layout import Layout
from agentstrata.deploy.steps import StepRunner
from agentstrata.errors import StrataError

#: Where OpenTofu resolves ``kreuzwerker/docker`` and the unqualified ``kubernetes``.
TOFU_REGISTRY = "registry.opentofu.org"
_REGISTRIES = {"tofu": TOFU_REGISTRY, "terraform": "registry.terraform.io"}
_PROBE_TIMEOUT_S = 5.0
_BUILD_TIMEOUT_S = 3600.0
_PROBE_HINT = "the probe only reads PATH and asks the registries over HTTPS; see the log"


@dataclass(frozen=True)
class GoTool:
    """Binaries built by one ``go build`` of a pinned Go module under ``toolchain_pins/tools/``.

    One package gives one binary called ``name``. Several packages are built by the same
    ``go build``, so that the dependencies they share compile once, into one binary each, named
    after the package's last path element as ``go build -o DIR/`` names them.
    """

    name: str
    #: The module's folder, relative to ``agentstrata/toolchain_pins/`` (``Layout.pins``).
    module_dir: str
    packages: tuple[str, ...]
    ldflags: str
    tags: str = ""

    @property
    def binaries(self) -> tuple[str, ...]:
        if len(self.packages) == 1:
            return (self.name,)
        return tuple(package.rsplit("/", 1)[-1] for package in self.packages)


@dataclass(frozen=True)
class MirroredProvider:
    """A provider built from source and served to OpenTofu from the filesystem mirror."""

    namespace: str
    type: str
    version: str
    tool: GoTool

    @property
    def source(self) -> str:
        return f"{self.namespace}/{self.type}"

    @property
    def address(self) -> str:
        return f"{TOFU_REGISTRY}/{self.source}"


# The flags of OpenTofu's own release build (.goreleaser.yaml): without version.dev=no it
# calls itself "1.10.10-dev".
TOFU = GoTool(
    name="tofu",
    module_dir="tools/tofu",
    packages=("github.com/opentofu/opentofu/cmd/tofu",),
    ldflags="-s -w -X github.com/opentofu/opentofu/version.dev=no",
)

@dataclass(frozen=True)
class Toolchain:
    """The Terraform-compatible CLI that cdktf is to run, and how to configure it."""

    binary: Path
    #: The CLI config file to use, or None to leave the user's own in force.
    cli_config: Path | None

    @property
    def binary_name(self) -> str:
        return self.binary.name


def ensure_toolchain(layout: Layout, runner: StepRunner, providers: Sequence[MirroredProvider]) -> Toolchain:
    """A usable tofu/terraform: the system one if it reaches its registry, else built here with ``providers``
    (what the target at hand needs) in the mirror."""
    with runner.step("OpenTofu and providers", "toolchain-probe", _PROBE_HINT) as step:
        system = find_registry_backed_binary(exclude=layout.tools_bin)
        if system is not None:
            step.outcome = f"using {system}, its registry is reachable"
            return Toolchain(binary=system, cli_config=None)
        step.outcome = "no registry reachable: using builds from source"
    return build_toolchain(layout, runner, providers)


def build_toolchain(layout: Layout, runner: StepRunner, providers: Sequence[MirroredProvider]) -> Toolchain:
    """OpenTofu and the mirrored providers built from source, one after the other (2 cores)."""
    go = find_go()
    for tool in (TOFU, *(provider.tool for provider in providers)):
        build_go_tool(layout, runner, go, tool)
    write_mirror(layout, providers)
    write_tofurc(layout, providers)
    return Toolchain(binary=layout.tools_bin / TOFU.name, cli_config=layout.tofurc)


def find_registry_backed_binary(exclude: Path) -> Path | None:
    """The first tofu/terraform on PATH (not ours) whose registry answers within 5 s."""
    for name in ("tofu", "terraform"):
        found = shutil.which(name)
        if found is None or Path(found).resolve().parent == exclude.resolve():
            continue
        if registry_reachable(_REGISTRIES[name]):
            return Path(found)
    return None


def registry_reachable(host: str) -> bool:
    """Whether a Terraform registry answers its service discovery document."""
    try:
        with urllib.request.urlopen(f"https://{host}/.well-known/terraform.json", timeout=_PROBE_TIMEOUT_S) as reply:
            return "providers.v1" in json.loads(reply.read())
    except (OSError, ValueError):  # URLError and timeouts are OSErrors
        return False


_TOFU_NEEDS_GO = (
    "No Terraform/OpenTofu registry is reachable, so OpenTofu and the providers must be built "
    "from source, and that needs Go >= 1.25, which is not installed.\n"
    "  What to do: install Go from https://go.dev/dl/ (Debian's golang package is too old), "
    "or put a `tofu`/`terraform` that can reach its registry on PATH."
)


def find_go(missing: str = _TOFU_NEEDS_GO) -> Path:
    """The Go toolchain; its official install location is tried when it is not on PATH.

    ``missing`` is the error message when there is none: what needed Go, and what to do.
    """
    found = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").is_file() else None)
    if found is None:
        raise StrataError(missing)
    return Path(found)


def build_go_tool(layout: Layout, runner: StepRunner, go: Path, tool: GoTool) -> tuple[Path, ...]:
    """Build one tool into the toolchain cache's ``bin/``, unless its stamp says it is up to date.

    Each tool has its own stamp, over its own module's pins: a pin change rebuilds that tool only.
    """
    binaries = tuple(layout.tools_bin / name for name in tool.binaries)
    stamp_file = layout.tools_bin / f"{tool.name}.stamp"
    hint = (
        f"check that the Go module proxy is reachable (`go env GOPROXY`) and that {tool.module_dir}/go.sum "
        "is intact; the log has the compiler's message"
    )
    with runner.step(f"build {tool.name}", f"build-{tool.name}", hint) as step:
        stamp = _build_stamp(layout.pins / tool.module_dir, go, tool)
        if all(path.is_file() and os.access(path, os.X_OK) for path in binaries) and _read(stamp_file) == stamp:
            step.outcome = "cached"
            return binaries
        # Built into a folder of its own, then moved in: a failed build leaves no half of a set.
        partial = layout.tools_bin / f".{tool.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        # A trailing separator makes `go build -o` write one binary per package into the folder.
        output = partial / tool.name if len(tool.packages) == 1 else f"{partial}{os.sep}"
        argv = [go, "build", "-mod=readonly", "-trimpath", f"-ldflags={tool.ldflags}", "-o", output]
        if tool.tags:
            argv.append(f"-tags={tool.tags}")
        step.detail(f"go build {' '.join(tool.packages)} (minutes on 2 cores)")
        # CGO off like the upstream release builds: a static binary, no C toolchain needed.
        step.run([*argv, *tool.packages], cwd=layout.pins / tool.module_dir,
                 env={**os.environ, "CGO_ENABLED": "0"}, timeout=_BUILD_TIMEOUT_S)
        for binary in binaries:
            (partial / binary.name).replace(binary)
        partial.rmdir()
        # The stamp is written last, so an interrupted build is never taken for a finished one.
        stamp_file.write_text(stamp, encoding="utf-8")
    return binaries


def _build_stamp(module_dir: Path, go: Path, tool: GoTool) -> str:
    """What the binaries depend on: the pins, the Go version and the build flags."""
    version = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False).stdout.strip()
    digest = hashlib.sha256()
    for part in (module_dir / "go.mod", module_dir / "go.sum"):
        digest.update(part.read_bytes() + b"\0")
    # The packages joined, so that a one-package tool keeps the stamp it had before tools could
    # have several (no rebuild of tofu on upgrade).
    digest.update(json.dumps([version, " ".join(tool.packages), tool.ldflags, tool.tags]).encode())
    return digest.hexdigest()


def mirror_platform() -> str:
    """This machine as OpenTofu names platforms, e.g. ``linux_amd64``."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}_{arch}"


def write_mirror(layout: Layout, providers: Sequence[MirroredProvider]) -> None:
    """Lay the built providers out as an unpacked filesystem mirror (one file per provider)."""
    for provider in providers:
        folder = layout.providers / provider.address / provider.version / mirror_platform()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"terraform-provider-{provider.type}_v{provider.version}"
        built = layout.tools_bin / provider.tool.name
        if target.exists() and os.path.samefile(built, target):
            continue
        # A hard link costs no space; a rebuilt binary is a new file, so the check above relinks it.
        target.unlink(missing_ok=True)
        try:
            os.link(built, target)
        except OSError:
            shutil.copy2(built, target)


def write_tofurc(layout: Layout, providers: Sequence[MirroredProvider]) -> None:
    """The CLI config: mirrored providers come from the mirror only, the rest from registries.

    It names ``providers`` and every provider the mirror already holds: one target's setup never
    hides another target's providers from OpenTofu.
    """
    mirrored = {f"{TOFU_REGISTRY}/{p.parent.name}/{p.name}" for p in layout.providers.glob(f"{TOFU_REGISTRY}/*/*")}
    addresses = json.dumps(sorted(mirrored | {provider.address for provider in providers}))
    layout.tofurc.write_text(
        "# Generated by `strata setup`: providers built from source, served with no registry.\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(layout.providers))}\n"
        f"    include = {addresses}\n"
        "  }\n"
        "  direct {\n"
        f"    exclude = {addresses}\n"
        "  }\n"
        "}\n",
        encoding="utf-8",
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
