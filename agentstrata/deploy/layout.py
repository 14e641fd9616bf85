"""Where the deploy toolchain reads its pins, keeps what it builds, and writes a project's files.

The pins (the Go modules of OpenTofu and the providers, package.json and its lock) ship inside
the package (``agentstrata/toolchain_pins/``), so an installed wheel deploys as well as a
checkout does. What is built from them (tofu, the provider mirror, the cdktf CLI, the
wheelhouse) goes once per machine into ``$XDG_CACHE_HOME/strata/toolchain/<hash of the pins>/``
(default ``~/.cache/...``), shared by every project and checkout with the same pins. What belongs
to one project (logs, build contexts, state) goes under that project's ``.strata/``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from agentstrata.loader import PROJECT_MARKER

#: The toolchain's pins, package data of this package.
PINS = Path(__file__).resolve().parents[1] / "toolchain_pins"


@dataclass(frozen=True)
class Layout:
    """Paths of one project (``root``) and of the machine's toolchain cache (``toolchain``)."""

    root: Path
    toolchain: Path
    pins: Path = PINS

    @property
    def state(self) -> Path:
        return self.root / ".strata"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def build(self) -> Path:
        return self.state / "build"

    @property
    def tools_bin(self) -> Path:
        return self.toolchain / "bin"

    @property
    def providers(self) -> Path:
        return self.toolchain / "providers"

    @property
    def tofurc(self) -> Path:
        return self.toolchain / "tofurc"

    @property
    def wheelhouse(self) -> Path:
        return self.toolchain / "wheelhouse"

    @property
    def pip_cache(self) -> Path:
        return self.toolchain / "pip-cache"

    @property
    def cdktf_cli(self) -> Path:
        """Where ``npm ci`` installs the cdktf CLI: a copy of package.json and its lock, and node_modules."""
        return self.toolchain / "cdktf-cli"

    @property
    def node_bin(self) -> Path:
        return self.cdktf_cli / "node_modules" / ".bin"


def project_layout(start: Path | None = None) -> Layout:
    """The layout of the project holding ``start`` (default: the working directory).

    The project is the nearest ancestor holding ``cdktf.json``, else ``start`` itself.
    """
    here = (start or Path.cwd()).resolve()
    root = next((folder for folder in (here, *here.parents) if (folder / PROJECT_MARKER).is_file()), here)
    return Layout(root, toolchain_cache())


def toolchain_cache(pins: Path = PINS) -> Path:
    """``$XDG_CACHE_HOME/strata/toolchain/<hash of the pins>``: one per set of pins, per machine."""
    configured = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec: a relative value is invalid and is ignored.
    base = Path(configured) if os.path.isabs(configured) else Path.home() / ".cache"
    return base / "strata" / "toolchain" / pins_sha256(pins)[:16]


def pins_sha256(pins: Path) -> str:
    """SHA-256 over every pin file's relative path and bytes, in a fixed order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in pins.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(pins).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
