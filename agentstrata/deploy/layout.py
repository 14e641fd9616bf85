"""Where the deploy toolchain reads its pins and keeps what it builds.

The pins (tools/*/go.mod, package.json, docker/runtime/Dockerfile) live in the Strata
checkout, so the toolchain is rooted there rather than in a user's stack project. Everything
it builds goes under ``.strata/`` in that checkout: one place to cache, inspect or delete
(npm's ``node_modules/`` alone sits beside ``package.json``, where ``npm ci`` puts it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agentstrata.errors import StrataError

#: A file only a Strata checkout has: how the root is recognised.
_CHECKOUT_MARKER = Path("tools") / "tofu" / "go.mod"


@dataclass(frozen=True)
class Layout:
    """Paths of the toolchain, all derived from the checkout root."""

    root: Path

    @property
    def state(self) -> Path:
        return self.root / ".strata"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def tools_bin(self) -> Path:
        return self.state / "tools" / "bin"

    @property
    def providers(self) -> Path:
        return self.state / "tools" / "providers"

    @property
    def tofurc(self) -> Path:
        return self.state / "tools" / "tofurc"

    @property
    def wheelhouse(self) -> Path:
        return self.state / "wheelhouse"

    @property
    def build(self) -> Path:
        return self.state / "build"

    @property
    def node_bin(self) -> Path:
        return self.root / "node_modules" / ".bin"


def checkout_layout() -> Layout:
    """The layout of the Strata checkout this package runs from (an editable install)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / _CHECKOUT_MARKER).is_file():
        raise StrataError(
            f"the deploy toolchain needs a Strata source checkout, and {root} is not one "
            f"(no {_CHECKOUT_MARKER}).\n"
            "Clone the Strata repository and install it with `pip install -e '.[iac]'` "
            "(or run `make setup` in the checkout)."
        )
    return Layout(root)
