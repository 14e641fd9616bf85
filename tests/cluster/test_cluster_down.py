"""`strata cluster down`: no process is left behind."""

from __future__ import annotations

import pytest

from tests.cluster.conftest import start_cluster

pytestmark = pytest.mark.timeout(2400)


def test_down_leaves_no_process_behind_and_status_says_not_up(cluster_layout, tmp_path):
    # A cluster of its own: the session's stays up for the other tests.
    cluster = start_cluster(tmp_path)
    assert len(cluster.processes()) == 5
    down = cluster.strata("down")
    assert (down.returncode, down.stderr.strip()) == (0, "cluster is down")
    assert cluster.processes() == []
    code, report = cluster.status()
    assert (code, report["up"]) == (3, False)


def test_down_purge_deletes_the_cluster_folder(cluster_layout, tmp_path):
    cluster = start_cluster(tmp_path)
    down = cluster.strata("down", "--purge")
    assert down.returncode == 0, down.stderr
    assert cluster.processes() == []
    assert not cluster.paths.base.exists()


def test_down_stops_the_clusters_processes_even_when_its_state_file_is_lost(cluster_layout, tmp_path):
    cluster = start_cluster(tmp_path)
    cluster.paths.state_file.unlink()  # as after an `up` interrupted before it recorded them
    down = cluster.strata("down")
    assert (down.returncode, down.stderr.strip()) == (0, "cluster is down")
    assert cluster.processes() == []
