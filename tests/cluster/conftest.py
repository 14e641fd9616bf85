"""A real local cluster, started once per test session through the `strata cluster` command."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from rich.console import Console

from agentstrata.cluster.binaries import ensure_cluster_binaries
from agentstrata.cluster.certificates import Certificates
from agentstrata.cluster.kube_api import api_client
from agentstrata.cluster.paths import ClusterPaths, cluster_paths
from agentstrata.cluster.tokens import read_admin_token
from agentstrata.deploy.layout import Layout, project_layout
from agentstrata.deploy.steps import StepRunner
from agentstrata.deploy.toolchain import find_go
from agentstrata.errors import StrataError

STRATA = str(Path(sys.executable).parent / "strata")


@dataclass(frozen=True)
class LocalCluster:
    """A project folder whose `.strata/cluster/` is the cluster under test."""

    project: Path

    @property
    def paths(self) -> ClusterPaths:
        return cluster_paths(self.project)

    def strata(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([STRATA, "cluster", *args], cwd=self.project, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def status(self) -> tuple[int, dict]:
        done = self.strata("status", "--format", "json")
        return done.returncode, json.loads(done.stdout)

    def pids(self) -> dict[str, int]:
        return {c["name"]: c["pid"] for c in self.status()[1]["components"]}

    def api(self) -> httpx.Client:
        server = self.status()[1]["server"]
        return api_client(server, Certificates(self.paths.pki).ca_cert, read_admin_token(self.paths.token_file))

    def processes(self) -> list[psutil.Process]:
        """Every live process with this cluster's folder in its command line."""
        marker = f"{self.paths.base}/"
        found = []
        for process in psutil.process_iter(["cmdline", "status"]):
            if process.info["status"] != psutil.STATUS_ZOMBIE and any(
                    marker in argument for argument in process.info["cmdline"] or []):
                found.append(process)
        return found


def start_cluster(project: Path) -> LocalCluster:
    cluster = LocalCluster(project)
    up = cluster.strata("up")
    assert up.returncode == 0, up.stdout + up.stderr
    return cluster


@pytest.fixture(scope="session")
def cluster_layout() -> Layout:
    """The checkout whose tools directory holds the binaries, built here if need be (15 min cold)."""
    layout = project_layout()
    try:
        find_go()
    except StrataError:
        pytest.skip("Go is not installed: the cluster's binaries (etcd, Kubernetes, kwok) cannot be built")
    ensure_cluster_binaries(layout, StepRunner(layout.logs, console=Console(stderr=True, width=200)))
    return layout


@pytest.fixture(scope="session")
def cluster(cluster_layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    started = start_cluster(tmp_path_factory.mktemp("cluster-project"))
    yield started
    started.strata("down", "--purge")
