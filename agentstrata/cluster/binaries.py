"""The cluster's binaries, built from the pinned modules on first use and cached after."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agentstrata.cluster.kwok_stages import ensure_kwok_stages
from agentstrata.deploy.layout import Layout
from agentstrata.deploy.steps import StepRunner
from agentstrata.deploy.toolchain import build_go_tool, find_go
from agentstrata.targets.kubernetes.toolchain import CLUSTER_TOOLS

_CLUSTER_NEEDS_GO = (
    "`strata cluster up` builds etcd, the Kubernetes control plane and kwok from source, and that "
    "needs Go >= 1.26, which is not installed.\n"
    "  What to do: install Go from https://go.dev/dl/ (Debian's golang package is too old)."
)


@dataclass(frozen=True)
class ClusterBinaries:
    bin_dir: Path
    kwok_stages: Path


def ensure_cluster_binaries(layout: Layout, runner: StepRunner) -> ClusterBinaries:
    """Each tool is rebuilt only when its own pins or flags change (about 15 minutes cold, all three)."""
    go = find_go(_CLUSTER_NEEDS_GO)
    for tool in CLUSTER_TOOLS:
        build_go_tool(layout, runner, go, tool)
    return ClusterBinaries(layout.tools_bin, ensure_kwok_stages(layout, runner, go))
