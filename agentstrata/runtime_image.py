"""Where the runtime image's build context lives, and the hash that says when to rebuild it.

The docker provider rebuilds an image only when its ``triggers`` change, so the hash must be
known at plan time: it covers the *inputs* of the build context (the Dockerfile, the installed
distribution's metadata and the agentstrata sources), which exist on every machine, rather than
the built wheelhouse.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

#: Build context assembled by `strata setup` (Dockerfile + wheelhouse), relative to the project root.
RUNTIME_CONTEXT_DIR = ".strata/build/runtime"
_PACKAGE_ROOT = Path(__file__).resolve().parent
#: The runtime Dockerfile, package data.
RUNTIME_DOCKERFILE = _PACKAGE_ROOT / "deploy" / "runtime.Dockerfile"
RUNTIME_IMAGE_NAME = "strata-runtime"


def runtime_inputs_hash(root: Path) -> str:
    """SHA-256 over the agentstrata metadata (version, dependencies) and files, by relative path.

    ``root``, the project root, does not enter it: the image is the running agentstrata's,
    whatever the project (the Dockerfile is one of the package's files).
    """
    try:
        metadata = importlib.metadata.distribution(_PACKAGE_ROOT.name).read_text("METADATA") or ""
    except importlib.metadata.PackageNotFoundError:
        metadata = ""  # a bare source tree: the sources alone say what the image holds
    digest = hashlib.sha256(metadata.encode() + b"\0")
    for path in sorted(p for p in _PACKAGE_ROOT.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(_PACKAGE_ROOT.parent)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
