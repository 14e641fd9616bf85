"""``strata cluster up / down / status``: a local Kubernetes control plane for tests and demos.

Exit codes of ``status``: 0 every component is ready, 1 one has exited or is not ready (a
crash is reported, never hidden), 3 the cluster is not up.
"""

from __future__ import annotations

import json
import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from agentstrata.cli.app import app, err, out

if TYPE_CHECKING:
    from agentstrata.cluster.status import ClusterStatus

cluster_app = typer.Typer(
    name="cluster",
    help="A local Kubernetes control plane on 127.0.0.1 (etcd, kube-apiserver, controller manager, "
    "scheduler) with a kwok fake Node: Deployments become available, nothing runs in their pods.",
    no_args_is_help=True,
)
app.add_typer(cluster_app)

#: `status` when the cluster is not up (as `systemctl status` says "not running").
EXIT_NOT_UP = 3


class StatusFormat(str, Enum):
    table = "table"
    json = "json"


@cluster_app.command("up")
def up_command(
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds to wait for the cluster once built."),
) -> None:
    """Build the binaries if needed, start what is not running, wait until Deployments can run."""
    from agentstrata.cluster.control import up
    from agentstrata.cluster.paths import cluster_paths
    from agentstrata.cluster.status import cluster_status
    from agentstrata.deploy.layout import project_layout
    from agentstrata.deploy.steps import StepRunner

    started = time.monotonic()
    layout = project_layout()
    paths = cluster_paths(Path.cwd())
    up(paths, layout, StepRunner(layout.logs, console=err), timeout)
    report = cluster_status(paths)
    out.print(_table(report))
    err.print(f"cluster up in {time.monotonic() - started:.1f} s; use it with\n"
              f"  export KUBECONFIG={paths.kubeconfig}", markup=False, highlight=False)


@cluster_app.command("down")
def down_command(
    purge: bool = typer.Option(False, "--purge", help="Also delete its data, certificates and logs."),
) -> None:
    """Stop every component; the data (etcd), certificates and logs stay unless --purge."""
    from agentstrata.cluster.control import down
    from agentstrata.cluster.paths import cluster_paths
    from agentstrata.deploy.layout import project_layout

    paths = cluster_paths(Path.cwd())
    existed = paths.base.is_dir()
    was_up = down(paths, project_layout(), purge=purge)
    err.print("cluster is down" if was_up else "cluster is not up", markup=False)
    if purge and existed:
        err.print(f"deleted {paths.base}", markup=False, highlight=False)


@cluster_app.command("status")
def status_command(
    output_format: StatusFormat = typer.Option(StatusFormat.table, "--format", help="table or json."),
) -> None:
    """Each component: pid, port, state; exit 0 all ready, 1 one exited or not ready, 3 not up."""
    from agentstrata.cluster.paths import cluster_paths
    from agentstrata.cluster.status import cluster_status

    report = cluster_status(cluster_paths(Path.cwd()))
    if output_format is StatusFormat.json:
        out.print(json.dumps(report.as_dict(), indent=2), markup=False, highlight=False)
    else:
        out.print(_table(report))
    if not report.up:
        err.print("cluster is not up; start it with `strata cluster up`", markup=False, highlight=False)
        raise typer.Exit(EXIT_NOT_UP)
    if not report.healthy:
        raise typer.Exit(1)


def _table(report: ClusterStatus) -> Table:
    title = f"cluster {report.server} (up)" if report.up else "cluster (not up)"
    table = Table("component", "pid", "port", "state", "detail", title=title)
    for component in report.components:
        table.add_row(component.name, str(component.pid or "-"), str(component.port or "-"), component.state,
                      component.detail or "")
    table.add_row(f"node {report.node}", "-", "-", "Ready" if report.node_ready else "not Ready", "kwok (fake)")
    return table
