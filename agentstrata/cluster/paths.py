"""Where a local cluster keeps its state: ``.strata/cluster/`` of the project root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agentstrata.loader import PROJECT_MARKER, project_root


@dataclass(frozen=True)
class ClusterPaths:
    base: Path

    @property
    def state_file(self) -> Path:
        return self.base / "cluster.json"

    @property
    def lock_file(self) -> Path:
        return self.base / "lock"

    @property
    def kubeconfig(self) -> Path:
        return self.base / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.base / "pki"

    @property
    def token_file(self) -> Path:
        return self.pki / "tokens.csv"

    @property
    def etcd_data(self) -> Path:
        return self.base / "etcd"

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"


def cluster_paths(directory: Path) -> ClusterPaths:
    """The cluster of the project ``directory`` is in (its nearest ancestor holding cdktf.json)."""
    return ClusterPaths(project_root(directory.resolve() / PROJECT_MARKER) / ".strata" / "cluster")
