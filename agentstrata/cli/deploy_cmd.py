"""``strata deploy`` and ``strata destroy``: a stack on its Docker target, through cdktf."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from agentstrata.cli.app import app, err, out
from agentstrata.errors import StrataError

STACKS_DIR = Path("stacks")

_STACK_HELP = "The stack file; default: the only stack file in ./stacks."
_TARGET_HELP = "Terraform target; default: the file's deployment.target."


@app.command("deploy")
def deploy_command(
    stack: Optional[Path] = typer.Argument(None, help=_STACK_HELP, show_default=False),
    target: Optional[str] = typer.Option(None, "--target", help=_TARGET_HELP),
    ready_timeout: float = typer.Option(180.0, "--ready-timeout", help="Seconds to wait for every /ready."),
) -> None:
    """Deploy a stack: set up the toolchain, apply with cdktf, wait until every agent is ready."""
    from agentstrata.deploy.deploy import deploy

    start = time.monotonic()
    result = deploy(_stack_file(stack), target, err, ready_timeout=ready_timeout)
    for note in result.notes:
        err.print(f"note: {note}", markup=False, highlight=False)
    table = Table(title=f"{result.stack_id}: ready in {time.monotonic() - start:.1f} s", title_justify="left")
    for column in ("agent", "layer", "url", "container", "/ready"):
        table.add_column(column)
    for agent in result.agents:
        status = agent.readiness.describe() if agent.readiness else "unknown"
        table.add_row(agent.name, str(agent.layer), agent.url, agent.container, status)
    # Piped output is never cut short: it gets as wide as the table needs (a terminal keeps its width).
    needed = Measurement.get(out, out.options.update_width(10_000), table).maximum
    (out if out.is_terminal or needed <= out.width else Console(file=out.file, width=needed)).print(table)


@app.command("destroy")
def destroy_command(
    stack: Optional[Path] = typer.Argument(None, help=_STACK_HELP, show_default=False),
    target: Optional[str] = typer.Option(None, "--target", help=_TARGET_HELP),
    purge: bool = typer.Option(False, "--purge", help="Also remove the agents' state volumes."),
) -> None:
    """Tear a deployed stack down; the agents' state volumes are kept unless --purge."""
    from agentstrata.deploy.deploy import destroy

    start = time.monotonic()
    result = destroy(_stack_file(stack), target, err, purge=purge)
    for note in result.notes:
        err.print(f"note: {note}", markup=False, highlight=False)
    out.print(f"{result.stack_id}: destroyed in {time.monotonic() - start:.1f} s", highlight=False)
    if result.kept_volumes:
        out.print(f"kept state volumes (remove with --purge): {', '.join(result.kept_volumes)}", highlight=False)
    if result.removed_volumes:
        out.print(f"removed state volumes: {', '.join(result.removed_volumes)}", highlight=False)


def _stack_file(given: Path | None) -> Path:
    """The stack file given, else the only one in ./stacks (a file with top-level ``stack:``)."""
    if given is not None:
        return given
    import yaml

    found = []
    for path in sorted(STACKS_DIR.glob("*.y*ml")):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(document, dict) and "stack" in document:
            found.append(path)
    if len(found) == 1:
        return found[0]
    if not found:
        raise StrataError(f"no stack file in {STACKS_DIR}/; give one: strata deploy path/to/stack.yaml")
    raise StrataError(f"several stack files in {STACKS_DIR}/ ({', '.join(map(str, found))}); give one of them")
