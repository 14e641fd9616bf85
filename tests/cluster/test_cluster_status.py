"""`strata cluster status`: every component's state; a crash is reported, not hidden."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

pytestmark = pytest.mark.timeout(2400)

COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]


def test_status_reports_every_component_ready(cluster):
    code, report = cluster.status()
    assert code == 0
    assert [(c["name"], c["state"]) for c in report["components"]] == [(name, "ready") for name in COMPONENTS]
    assert report["node"] == {"name": "strata-kwok-node", "ready": True}


def test_a_killed_component_is_reported_exited_and_up_restarts_only_it(cluster):
    pids = cluster.pids()
    os.kill(pids["kube-scheduler"], signal.SIGKILL)
    _wait_gone(pids["kube-scheduler"])
    try:
        code, report = cluster.status()
        assert code == 1
        states = {c["name"]: c["state"] for c in report["components"]}
        assert states == {**{name: "ready" for name in COMPONENTS}, "kube-scheduler": "exited"}
    finally:
        repaired = cluster.strata("up")
    assert repaired.returncode == 0, repaired.stderr
    after = cluster.pids()
    assert after["kube-scheduler"] != pids["kube-scheduler"]
    assert {k: v for k, v in after.items() if k != "kube-scheduler"} == {
        k: v for k, v in pids.items() if k != "kube-scheduler"}
    assert cluster.status()[0] == 0


def _wait_gone(pid: int) -> None:
    for _ in range(100):
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
