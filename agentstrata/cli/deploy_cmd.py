"""``strata deploy``/``up`` and ``strata destroy``/``down``: a stack on a target, through the target interface."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from agentstrata.cli.app import app, err, out
from agentstrata.cli.target_choice import STACK_HELP, TARGET_HELP, stack_and_target
from agentstrata.targets import DEFAULT_TARGET
from agentstrata.targets.base.results import DeployResult, DestroyResult
from agentstrata.wire import READY_PATH

_UP_TARGET_HELP = f"The target; default: {DEFAULT_TARGET}."
_READY_HELP = "Seconds to wait for every agent's /ready."


@app.command("deploy")
def deploy_command(
    stack: Optional[Path] = typer.Argument(None, help=STACK_HELP, show_default=False),
    target: Optional[str] = typer.Option(None, "--target", help=TARGET_HELP),
    ready_timeout: float = typer.Option(180.0, "--ready-timeout", help=_READY_HELP),
) -> None:
    """Deploy a stack: set up what its target needs, create its agents, wait until every one is ready."""
    _deploy(stack, target, None, ready_timeout)


@app.command("up")
def up_command(
    stack: Path = typer.Argument(..., help="The stack file."),
    target: Optional[str] = typer.Option(None, "--target", help=_UP_TARGET_HELP),
    timeout: float = typer.Option(120.0, "--timeout", help=_READY_HELP),
) -> None:
    """Start every agent of the stack (by default as local processes) and wait until all are ready."""
    _deploy(stack, target, DEFAULT_TARGET, timeout)


@app.command("destroy")
def destroy_command(
    stack: Optional[Path] = typer.Argument(None, help=STACK_HELP, show_default=False),
    target: Optional[str] = typer.Option(None, "--target", help=TARGET_HELP),
    purge: bool = typer.Option(False, "--purge", help="Also remove the agents' state."),
) -> None:
    """Tear a deployed stack down; the agents' state is kept unless --purge."""
    _destroy(stack, target, None, purge)


@app.command("down")
def down_command(
    stack: Path = typer.Argument(..., help="The stack file."),
    target: Optional[str] = typer.Option(None, "--target", help=_UP_TARGET_HELP),
    purge: bool = typer.Option(False, "--purge", help="Also remove the agents' state."),
) -> None:
    """Stop every agent of the stack (dependants first); `strata destroy` with `up`'s default target."""
    _destroy(stack, target, DEFAULT_TARGET, purge)


def _deploy(stack: Path | None, target: str | None, default: str | None, ready_timeout: float) -> None:
    start = time.monotonic()
    loaded, chosen = stack_and_target(stack, target, default=default, validate=True)
    result = chosen.deploy(loaded, err, ready_timeout=ready_timeout)
    for note in result.notes:
        err.print(f"note: {note}", markup=False, highlight=False)
    _print_table(_deployed_table(result, time.monotonic() - start))


def _destroy(stack: Path | None, target: str | None, default: str | None, purge: bool) -> None:
    start = time.monotonic()
    loaded, chosen = stack_and_target(stack, target, default=default)
    result = chosen.destroy(loaded, err, purge=purge)
    _print_destroyed(result, time.monotonic() - start)


def _deployed_table(result: DeployResult, seconds: float) -> Table:
    table = Table(title=f"{result.stack_id}: ready in {seconds:.1f} s", title_justify="left")
    for column in ("agent", "layer", "url", result.runs_as, READY_PATH):
        table.add_column(column)
    for agent in result.agents:
        table.add_row(agent.name, str(agent.layer), agent.url, agent.runs_as, agent.ready)
    return table


def _print_table(table: Table) -> None:
    # Piped output is never cut short: it gets as wide as the table needs (a terminal keeps its width).
    needed = Measurement.get(out, out.options.update_width(10_000), table).maximum
    (out if out.is_terminal or needed <= out.width else Console(file=out.file, width=needed)).print(table)


def _print_destroyed(result: DestroyResult, seconds: float) -> None:
    for note in result.notes:
        err.print(f"note: {note}", markup=False, highlight=False)
    if not result.was_up:
        err.print(f"{result.stack_id} is not up", markup=False, highlight=False)
    else:
        out.print(f"{result.stack_id}: destroyed in {seconds:.1f} s", highlight=False)
    if result.kept:
        out.print(f"kept the agents' state (remove with --purge): {', '.join(result.kept)}", highlight=False)
    if result.removed:
        out.print(f"removed the agents' state: {', '.join(result.removed)}", highlight=False)
