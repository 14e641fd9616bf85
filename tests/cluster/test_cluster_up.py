"""`strata cluster up`: a real control plane of the pinned version that runs Deployments via kwok."""

from __future__ import annotations

import time
import uuid

import pytest

from agentstrata.cluster.fake_node import NODE_NAME
from tests.cluster.conftest import LocalCluster

# The first test of a session may build the binaries: about 15 minutes on 2 cold cores.
pytestmark = pytest.mark.timeout(2400)


def test_the_api_server_is_the_pinned_kubernetes_release(cluster):
    with cluster.api() as api:
        version = api.get("/version").json()
    assert (version["gitVersion"], version["major"], version["minor"]) == ("v1.34.4", "1", "34")


def test_the_kubeconfig_reaches_the_api_server_as_admin(cluster):
    import yaml

    config = yaml.safe_load(cluster.paths.kubeconfig.read_text())
    assert config["current-context"] == "strata-local"
    assert config["clusters"][0]["cluster"]["server"] == cluster.status()[1]["server"]
    with cluster.api() as api:
        review = api.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", json={
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": "*", "resource": "*", "group": "*"}}})
    assert review.json()["status"]["allowed"] is True


def test_a_deployment_becomes_available_on_the_fake_node(cluster):
    namespace = f"cluster-test-{uuid.uuid4().hex[:8]}"
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": "never-pulled.invalid/web:1"}]}},
        },
    }
    with cluster.api() as api:
        assert api.post("/api/v1/namespaces", json={"metadata": {"name": namespace}}).status_code == 201
        try:
            created = api.post(f"/apis/apps/v1/namespaces/{namespace}/deployments", json=deployment)
            assert created.status_code == 201, created.text
            status: dict = {}
            for _ in range(600):
                status = api.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/web").json()["status"]
                if status.get("availableReplicas") == 2:
                    break
                time.sleep(0.1)
            assert status.get("availableReplicas") == 2, status
            pods = api.get(f"/api/v1/namespaces/{namespace}/pods").json()["items"]
            assert {(pod["spec"]["nodeName"], pod["status"]["phase"]) for pod in pods} == {(NODE_NAME, "Running")}
        finally:
            api.delete(f"/api/v1/namespaces/{namespace}")


def test_up_again_restarts_nothing(cluster):
    before = cluster.pids()
    again = cluster.strata("up")
    assert again.returncode == 0, again.stderr
    assert cluster.pids() == before


def test_a_component_that_exits_fails_up_with_its_log_and_leaves_nothing_running(cluster_layout, tmp_path):
    cluster = LocalCluster(tmp_path)
    cluster.paths.base.mkdir(parents=True)
    cluster.paths.etcd_data.write_text("not a directory")  # etcd refuses it and exits
    up = cluster.strata("up")
    assert up.returncode == 1
    assert f"etcd exited while the cluster was starting; the end of its log ({cluster.paths.log('etcd')}):" in up.stderr
    assert cluster.processes() == []
    assert cluster.status()[0] == 3
