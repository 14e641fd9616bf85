"""``strata status`` and ``strata logs``: a deployed stack's agents, on whichever target runs them."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from agentstrata.cli.app import app, out
from agentstrata.cli.target_choice import deployed_target
from agentstrata.errors import StrataError
from agentstrata.targets.base.results import StackStatus

_TARGET_HELP = "The target; default: the first of the stack's targets where it is up."


class StatusFormat(str, Enum):
    table = "table"
    json = "json"


@app.command("status")
def status_command(
    stack: Path = typer.Argument(..., help="The stack file."),
    target: Optional[str] = typer.Option(None, "--target", help=_TARGET_HELP),
    output_format: StatusFormat = typer.Option(StatusFormat.table, "--format", help="table or json."),
) -> None:
    """Each agent of a deployed stack: layer, URL, readiness, state."""
    loaded, chosen = deployed_target(stack, target)
    report = chosen.status(loaded)
    if output_format is StatusFormat.json:
        out.print(json.dumps(report.as_dict(), indent=2), markup=False, highlight=False)
    else:
        out.print(_table(report))


@app.command("logs")
def logs_command(
    stack: Path = typer.Argument(..., help="The stack file."),
    agent: str = typer.Argument(..., help="The agent."),
    target: Optional[str] = typer.Option(None, "--target", help=_TARGET_HELP),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing what the agent logs."),
    lines: int = typer.Option(200, "--lines", "-n", help="How many of the last lines to show."),
) -> None:
    """Print an agent's log."""
    loaded, chosen = deployed_target(stack, target)
    if loaded.stack.agent(agent) is None:
        names = ", ".join(a.name for a in loaded.stack.agent_specs)
        raise StrataError(f"stack {loaded.stack.name!r} has no agent {agent!r} (agents: {names})")
    for chunk in chosen.logs(loaded, agent, lines=lines, follow=follow):
        out.print(chunk, end="", markup=False, highlight=False)


def _table(report: StackStatus) -> Table:
    details = list(dict.fromkeys(key for a in report.agents for key in a.details))
    table = Table("agent", "layer", "url", *details, "ready", "state",
                  title=f"stack {report.stack} on {report.target} ({'up' if report.up else 'down'})")
    for agent in report.agents:
        extra = [str(agent.details.get(key) if agent.details.get(key) is not None else "-") for key in details]
        table.add_row(agent.name, str(agent.layer), agent.url or "-", *extra, "yes" if agent.ready else "no",
                      agent.state)
    return table
