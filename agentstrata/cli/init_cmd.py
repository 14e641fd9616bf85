"""``strata init DIR``: a new cdktf project of agent stacks.

Exit 0: made; 1: DIR already holds a file the project would write (nothing is written); 2: DIR
cannot hold a project (not a directory, or a name that cannot name a stack), or cdktf is not
installed (the ``iac`` extra).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentstrata.cli.app import app, err, out


@app.command("init")
def init_command(
    directory: Annotated[Path, typer.Argument(help="The new project's directory (created if missing).",
                                              show_default=False)],
) -> None:
    """Make a cdktf project: an example stack of two notebooks, the cdktf app, and a snapshot test."""
    from agentstrata.new_project import create_project

    project = create_project(directory)
    for path in project.files:
        out.print(str(project.root / path), markup=False, highlight=False)
    err.print(f"\nnext:\n  cd {project.root}\n  strata deploy stacks/{project.stack}.yaml\n"
              "  pip install -e '.[test]' && pytest    (the snapshot test)", markup=False, highlight=False)
