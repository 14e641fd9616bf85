"""``strata up / down / status / logs``: a stack on the local target (one process per agent).

``up`` starts a background supervisor (``strata supervise``, hidden) that owns the agents, and
returns once every agent is ready.
"""

from __future__ import annotations

import json
import logging
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.live import Live
from rich.table import Table

from agentstrata.cli.app import app, err, out
from agentstrata.errors import StrataError
from agentstrata.loader import LoadedStack, load_stack

DEFAULT_TIMEOUT_SECONDS = 120.0


class Target(str, Enum):
    local = "local"
    docker = "docker"
    kubernetes = "kubernetes"


class StatusFormat(str, Enum):
    table = "table"
    json = "json"


@app.command("up")
def up_command(
    stack: Path = typer.Argument(..., help="The stack file."),
    target: Target = typer.Option(Target.local, "--target", help="Where to run it; `up` runs the local target."),
    timeout: float = typer.Option(DEFAULT_TIMEOUT_SECONDS, "--timeout", help="Seconds to wait for every agent."),
) -> None:
    """Start every agent of the stack as a local process and wait until all are ready."""
    from agentstrata.runtime.local import control

    loaded = _local_stack(stack, target)
    started = control.start(loaded)
    if not started:
        err.print(f"stack {loaded.stack.name} is already up", markup=False)
    try:
        with _Progress() as show:
            control.wait_ready(loaded, timeout, show)
    except StrataError as exc:
        if not started:
            raise
        control.stop(loaded)
        logs = control.local_paths(loaded).base / "logs"
        raise StrataError(f"{exc.message}\nstack {loaded.stack.name} was stopped; its logs are in {logs}",
                          exc.exit_code) from None
    out.print(_table(control.status(loaded)))


@app.command("down")
def down_command(stack: Path = typer.Argument(..., help="The stack file.")) -> None:
    """Stop every agent of the stack (dependants first) and its supervisor."""
    from agentstrata.runtime.local import control

    loaded = load_stack(stack)
    if control.stop(loaded):
        err.print(f"stack {loaded.stack.name} is down", markup=False)
    else:
        err.print(f"stack {loaded.stack.name} is not up", markup=False)


@app.command("status")
def status_command(
    stack: Path = typer.Argument(..., help="The stack file."),
    output_format: StatusFormat = typer.Option(StatusFormat.table, "--format", help="table or json."),
) -> None:
    """Each agent of the locally running stack: layer, URL, pid, readiness."""
    from agentstrata.runtime.local import control

    report = control.status(load_stack(stack))
    if output_format is StatusFormat.json:
        out.print(json.dumps(report, indent=2), markup=False, highlight=False)
    else:
        out.print(_table(report))


@app.command("logs")
def logs_command(
    stack: Path = typer.Argument(..., help="The stack file."),
    agent: str = typer.Argument(..., help="The agent."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing what the agent logs."),
    lines: int = typer.Option(200, "--lines", "-n", help="How many of the last lines to show."),
) -> None:
    """Print an agent's log (local target)."""
    from agentstrata.runtime.local import control

    loaded = load_stack(stack)
    if loaded.stack.agent(agent) is None:
        names = ", ".join(a.name for a in loaded.stack.agent_specs)
        raise StrataError(f"stack {loaded.stack.name!r} has no agent {agent!r} (agents: {names})")
    path = control.local_paths(loaded).log_file(agent)
    if not path.is_file():
        raise StrataError(f"no log for {agent!r} yet at {path} (has the stack been up?)")
    if not follow:
        out.print(control.log_tail(path, lines), markup=False, highlight=False)
        return
    for chunk in control.follow(path, lines):
        out.print(chunk, end="", markup=False, highlight=False)


@app.command("supervise", hidden=True)
def supervise_command(stack: Path = typer.Argument(..., help="The stack file.")) -> None:
    """Run the local supervisor of a stack in the foreground (`strata up` starts it detached)."""
    from agentstrata.runtime.local.supervisor import Supervisor

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s supervisor: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per readiness probe is noise
    Supervisor(load_stack(stack)).run()


def _local_stack(stack: Path, target: Target) -> LoadedStack:
    from agentstrata.runtime.local import control

    if target is not Target.local:
        raise StrataError(f"`strata up` runs the local target; the {target.value} target is deployed "
                          "through its cdktf stack (Terraform plan/apply), not here")
    loaded = load_stack(stack)
    control.check_local_target(loaded)
    return loaded


class _Progress:
    """Live agent states on a terminal; one line per change otherwise (logs, CI)."""

    def __enter__(self) -> Any:
        self._last = ""
        self._live = Live(console=err, transient=True) if err.is_terminal else None
        if self._live is not None:
            self._live.__enter__()
        return self.show

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def show(self, state: Any) -> None:
        summary = ", ".join(f"{a.name}: {'ready' if a.ready else a.state}" for a in state.agents.values())
        if self._live is not None:
            table = Table("agent", "layer", "state", "detail", title=f"starting {state.stack}", expand=False)
            for a in state.agents.values():
                table.add_row(a.name, str(a.layer), "ready" if a.ready else a.state, a.message or "")
            self._live.update(table)
        elif summary != self._last:
            err.print(f"waiting: {summary}", markup=False, highlight=False)
        self._last = summary


def _table(report: dict[str, Any]) -> Table:
    table = Table("agent", "layer", "url", "pid", "ready", "state",
                  title=f"stack {report['stack']} ({'up' if report['up'] else 'down'})")
    for agent in report["agents"]:
        table.add_row(agent["name"], str(agent["layer"]), agent["url"], str(agent["pid"] or "-"),
                      "yes" if agent["ready"] else "no", agent["state"])
    return table
