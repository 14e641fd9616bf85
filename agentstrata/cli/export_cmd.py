"""``strata export FORMAT STACK``: deployment code for tools other than Terraform, written by the target that owns it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from agentstrata.cli.app import app, err
from agentstrata.cli.target_choice import stack_and_target
from agentstrata.errors import StrataError
from agentstrata.targets import target_class, target_names


@app.command("export")
def export_command(
    fmt: str = typer.Argument(..., metavar="FORMAT", help="What to write: a format one of the targets exports "
                              "(an unknown one lists them all)."),
    stack: Path = typer.Argument(..., help="The stack file."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to write (default: the owning target's "
                                       "own setting)."),
) -> None:
    """Generate deployment code from a stack file, in a format a target owns, for tools other than Terraform."""
    owners = {fmt_name: name for name in target_names() for fmt_name in target_class(name).exports}
    if fmt not in owners:
        known = ", ".join(f"{f} ({t})" for f, t in owners.items())
        raise StrataError(f"no export format {fmt!r} (formats: {known})", 2)
    loaded, target = stack_and_target(stack, owners[fmt], validate=True)
    result = target.export(loaded, fmt, out)
    for line in result.summary:
        err.print(line, markup=False, highlight=False)
