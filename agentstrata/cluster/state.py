"""``.strata/cluster/cluster.json``: the ports chosen at ``up`` and each component's process.

A process is its pid *and* start time (``ProcessRef``), so that a recycled pid is never taken
for a component. The ports are kept across ``down``/``up``; a recorded port that something
else has taken since is replaced by a free one.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field

from agentstrata.cluster.paths import ClusterPaths
from agentstrata.process_ref import ProcessRef


@dataclass
class ClusterState:
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, ProcessRef] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"ports": self.ports,
                           "processes": {name: vars(ref) for name, ref in self.processes.items()}}, indent=2)


def read_state(paths: ClusterPaths) -> ClusterState:
    """The recorded state; an empty one when there is none or it cannot be read."""
    try:
        data = json.loads(paths.state_file.read_text(encoding="utf-8"))
        return ClusterState(
            ports={str(name): int(port) for name, port in data["ports"].items()},
            processes={str(name): ProcessRef(int(ref["pid"]), float(ref["started"]))
                       for name, ref in data["processes"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ClusterState()


def write_state(paths: ClusterPaths, state: ClusterState) -> None:
    paths.base.mkdir(parents=True, exist_ok=True)
    temporary = paths.state_file.with_suffix(".tmp")
    temporary.write_text(state.to_json(), encoding="utf-8")
    os.replace(temporary, paths.state_file)


def assign_ports(state: ClusterState, names: list[str], in_use_by_us: set[int]) -> None:
    """Keep each recorded port that is still ours or free; give the others a free one."""
    for name in names:
        port = state.ports.get(name)
        if port is None or (port not in in_use_by_us and not port_is_free(port)):
            state.ports[name] = _free_port(set(state.ports.values()))


def port_is_free(port: int) -> bool:
    # SO_REUSEADDR as Go's listeners set it: a port in TIME_WAIT after our own `down` is free.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port(taken: set[int]) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in taken:
            return port
