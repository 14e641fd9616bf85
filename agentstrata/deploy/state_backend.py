"""Where Terraform keeps a stack's state: in the project, at a path that holds on any clone.

cdktf runs Terraform in ``<outdir>/stacks/<stack>``; a relative local-backend path resolves from
there, so it is written relative to that directory and never names the machine's own layout.
"""

from __future__ import annotations

import os
from pathlib import Path

#: State files, one per Terraform stack, relative to the project root.
STATE_DIR = ".strata/state/terraform"


def state_file(root: Path, stack_id: str) -> Path:
    return root / STATE_DIR / f"{stack_id}.tfstate"


def backend_path(root: Path, outdir: str | Path, stack_id: str) -> str:
    """The state file relative to the stack's working directory, e.g. ``../../../.strata/state/terraform/x.tfstate``."""
    working_dir = Path(outdir).resolve() / "stacks" / stack_id
    return os.path.relpath(state_file(root.resolve(), stack_id), working_dir)
