"""Where the runtime image's build context lives, and the hash that says when to rebuild it.

The docker provider rebuilds an image only when its ``triggers`` change, so the hash must be
known at plan time: it covers the *inputs* of the build context (the Dockerfile, the package
metadata and sources), which exist on every machine, rather than the built wheelhouse.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Build context assembled by `strata setup` (Dockerfile + wheelhouse), relative to the project root.
RUNTIME_CONTEXT_DIR = ".strata/build/runtime"
#: The runtime Dockerfile in the repository, relative to the project root.
RUNTIME_DOCKERFILE = "docker/runtime/Dockerfile"
RUNTIME_IMAGE_NAME = "strata-runtime"

_PACKAGE_ROOT = Path(__file__).resolve().parent


def runtime_inputs_hash(root: Path) -> str:
    """SHA-256 over the Dockerfile, pyproject.toml and the agentstrata sources, by relative path."""
    digest = hashlib.sha256()
    files = [root / RUNTIME_DOCKERFILE, root / "pyproject.toml"]
    files += sorted(p for p in _PACKAGE_ROOT.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        if not path.is_file():
            continue
        name = path.relative_to(_PACKAGE_ROOT.parent) if path.is_relative_to(_PACKAGE_ROOT) else path.relative_to(root)
        digest.update(str(name).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
