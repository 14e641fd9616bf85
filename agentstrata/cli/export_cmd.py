"""``strata export compose``: a stack's Docker containers as a docker-compose file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from agentstrata.cli.app import app, err

export_app = typer.Typer(
    name="export",
    help="Generate deployment code from a stack file, for tools other than Terraform.",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")


@export_app.command("compose")
def compose_command(
    stack: Path = typer.Argument(..., help="The stack file."),
    out: Optional[Path] = typer.Option(
        None, "--out", "-o", help="Where to write (default: the stack's deployment.docker.compose_file)."),
) -> None:
    """Write the docker-compose file equivalent to the stack's Docker target."""
    from agentstrata.export.compose import export_compose

    written = export_compose(stack, out)
    err.print(f"wrote {written.compose_file} (services: {', '.join(written.document['services'])})",
              markup=False, highlight=False)
    folder = next(iter(written.spec_files.values())).parent
    err.print(f"wrote {folder}/ (the stack file of each container)", markup=False, highlight=False)
