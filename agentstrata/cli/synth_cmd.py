"""``strata synth STACK.yaml``: the Terraform JSON of one stack file for one target, without cdktf.json.

Exit 0: written; 1: the stack is invalid (the validator's located errors); 2: unusable input.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from agentstrata.cli.app import app, err, out
from agentstrata.loader import shown_path


@app.command("synth")
def synth_command(
    path: Annotated[Path, typer.Argument(help="A stack file.", show_default=False)],
    target: Annotated[
        Optional[str], typer.Option("--target", help="Terraform target; default: the file's deployment.target.")
    ] = None,
    outdir: Annotated[
        Optional[Path], typer.Option("--out", help="Output directory; default: cdktf.out in the project root.")
    ] = None,
) -> None:
    """Synthesize a stack file into Terraform JSON (one stack per target, under OUT/stacks/)."""
    # cdktf and the provider bindings load only for this command.
    from agentstrata.constructs.project import environment_props, synth_file

    result = synth_file(path, target, outdir, props=environment_props(os.environ))
    for line in [*result.notes, *(d.format() for d in result.warnings)]:
        err.print(line, markup=False, highlight=False)
    for name in result.stacks:
        out.print(shown_path(result.outdir / "stacks" / name / "cdk.tf.json"), markup=False, highlight=False)
