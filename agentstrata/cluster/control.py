"""``up`` and ``down`` of the local cluster.

``up`` starts whatever is not running, in order, each once the one before it answers: etcd,
kube-apiserver, then the controller manager, the scheduler and kwok, and creates the fake Node.
It returns when the cluster can run a Deployment: every component healthy, the Node Ready and the
``default`` ServiceAccount made (pods are not admitted before). What runs already is left alone,
so ``up`` is idempotent and restarts only a crashed component.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import httpx

from agentstrata.cluster.binaries import ensure_cluster_binaries
from agentstrata.cluster.certificates import ensure_certificates
from agentstrata.cluster.components import APISERVER, COMPONENTS, ETCD, Component, Launch
from agentstrata.cluster.fake_node import NODE_NAME, ensure_fake_node, node_ready
from agentstrata.cluster.health import probe
from agentstrata.cluster.kube_api import api_client, cluster_ssl_context
from agentstrata.cluster.kubeconfig import write_kubeconfig
from agentstrata.cluster.paths import ClusterPaths
from agentstrata.cluster.processes import start_detached, stop, strays
from agentstrata.cluster.state import ClusterState, assign_ports, read_state, write_state
from agentstrata.cluster.tokens import ensure_admin_token
from agentstrata.deploy.layout import Layout
from agentstrata.deploy.steps import StepRunner
from agentstrata.errors import StrataError

DEFAULT_TIMEOUT_SECONDS = 60.0
_POLL_SECONDS = 0.1
_LOG_TAIL_LINES = 15
_HINT = "see the component's log under .strata/cluster/logs/; `strata cluster down` then `up` starts afresh"


def up(paths: ClusterPaths, layout: Layout, runner: StepRunner, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
    with _locked(paths):
        binaries = ensure_cluster_binaries(layout, runner)
        with runner.step("certificates", "cluster-certificates", _HINT):
            certs = ensure_certificates(paths.pki)
            token = ensure_admin_token(paths.token_file)
        state = read_state(paths)
        state.processes = {name: ref for name, ref in state.processes.items() if ref.alive()}
        ours = {state.ports[port] for c in COMPONENTS if c.name in state.processes for port in c.ports}
        assign_ports(state, [port for c in COMPONENTS for port in c.ports], ours)
        write_state(paths, state)
        server = f"https://127.0.0.1:{state.ports[APISERVER.ports[0]]}"
        write_kubeconfig(paths.kubeconfig, server, certs.ca_cert, token)
        launch = Launch(binaries.bin_dir, paths, certs, paths.token_file, binaries.kwok_stages, state.ports)
        ca = cluster_ssl_context(certs.ca_cert)
        deadline = time.monotonic() + timeout
        started: list[str] = []
        try:
            with api_client(server, certs.ca_cert, token) as api:
                for component in COMPONENTS:
                    with runner.step(f"start {component.name}", f"cluster-{component.name}", _HINT) as step:
                        step.outcome = _start(component, launch, state, paths, started)
                        # What comes after etcd and the API server talks to them from its first second.
                        if component in (ETCD, APISERVER):
                            _wait(partial(probe, component, state.ports, ca), component, state, paths, deadline)
                    if component is APISERVER:
                        ensure_fake_node(api)
                with runner.step("cluster ready", "cluster-ready", _HINT):
                    _wait(lambda: _cluster_problem(api, state, ca), None, state, paths, deadline)
        except BaseException:
            stop([state.processes.pop(name) for name in reversed(started)])
            write_state(paths, state)
            raise


def down(paths: ClusterPaths, layout: Layout, purge: bool = False) -> bool:
    """Stop every component (and any our binaries left for this cluster); True if one was running."""
    if not paths.base.is_dir():
        return False
    with _locked(paths):
        state = read_state(paths)
        found = strays({c.name: layout.tools_bin / c.name for c in COMPONENTS}, paths.base)
        running = {ref.pid: (name, ref) for name, ref in [*state.processes.items(), *found] if ref.alive()}
        # What talks to etcd stops first, so that none of it logs a storm of etcd errors.
        stop([ref for name, ref in running.values() if name != ETCD.name])
        stop([ref for name, ref in running.values() if name == ETCD.name])
        state.processes = {}
        write_state(paths, state)
    if purge:
        shutil.rmtree(paths.base)
    return bool(running)


def _start(component: Component, launch: Launch, state: ClusterState, paths: ClusterPaths,
           started: list[str]) -> str:
    running = state.processes.get(component.name)
    if running is not None:
        return f"running, pid {running.pid}"
    # kwok reads ~/.kwok/kwok.yaml when there is one: a home of its own keeps a user's out.
    env = {**os.environ, "HOME": str(paths.base)}
    state.processes[component.name] = start_detached(component.argv(launch), paths.log(component.name),
                                                     paths.base, env)
    started.append(component.name)
    write_state(paths, state)
    return f"pid {state.processes[component.name].pid}, port {state.ports[component.ports[0]]}"


def _cluster_problem(api: httpx.Client, state: ClusterState, ca: ssl.SSLContext) -> str | None:
    """Why the cluster cannot run a Deployment yet, or None."""
    for component in COMPONENTS:
        problem = probe(component, state.ports, ca)
        if problem:
            return f"{component.name}: {problem}"
    try:
        if not node_ready(api):
            return f"the Node {NODE_NAME} is not Ready"
        if api.get("/api/v1/namespaces/default/serviceaccounts/default").status_code != 200:
            return "the `default` ServiceAccount is not made yet (kube-controller-manager makes it)"
    except httpx.HTTPError as exc:
        return f"the API server does not answer ({type(exc).__name__})"
    return None


def _wait(problem: Callable[[], str | None], component: Component | None, state: ClusterState,
          paths: ClusterPaths, deadline: float) -> None:
    """Until ``problem()`` is None; fail at once when a component exits, or at the deadline."""
    while True:
        for name, ref in state.processes.items():
            if not ref.alive():
                raise StrataError(f"{name} exited while the cluster was starting; the end of its log "
                                  f"({paths.log(name)}):\n{_tail(paths, name)}", exit_code=1)
        why = problem()
        if why is None:
            return
        if time.monotonic() > deadline:
            name = component.name if component else why.split(":", 1)[0]
            log = f"\nthe end of its log ({paths.log(name)}):\n{_tail(paths, name)}" if name in state.processes else ""
            raise StrataError(f"the cluster was not ready in time: {why}{log}", exit_code=1)
        time.sleep(_POLL_SECONDS)


def _tail(paths: ClusterPaths, name: str) -> str:
    """The last lines its latest run logged (each run starts with a ``# <command line>`` line)."""
    try:
        lines = paths.log(name).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "  (no log)"
    runs = [index for index, line in enumerate(lines) if line.startswith("# ")]
    latest = [line for line in lines[runs[-1] + 1 if runs else 0:] if line.strip()]
    return "\n".join(f"  {line}" for line in latest[-_LOG_TAIL_LINES:]) or "  (it logged nothing)"


@contextmanager
def _locked(paths: ClusterPaths) -> Iterator[None]:
    """One `up` or `down` at a time for a cluster; a second one waits for the first."""
    paths.base.mkdir(parents=True, exist_ok=True)
    with paths.lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
