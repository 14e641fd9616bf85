"""The one Node of the local cluster: an API object that kwok keeps Ready and runs pods "on".

kwok sets the Node's conditions and leases and moves its pods through their phases; no
container runs. Its capacity is a generous machine's, so that any stack's requests fit.
"""

from __future__ import annotations

import httpx

from agentstrata.cluster.components import FAKE_NODE_ANNOTATION
from agentstrata.errors import StrataError

NODE_NAME = "strata-kwok-node"
_CAPACITY = {"cpu": "32", "memory": "256Gi", "pods": "110"}


def ensure_fake_node(api: httpx.Client) -> None:
    """Create the Node object unless it exists (it survives `down` in etcd's data)."""
    key, value = FAKE_NODE_ANNOTATION
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE_NAME,
            "annotations": {key: value},
            "labels": {"kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux",
                       "kubernetes.io/arch": "amd64", "type": "kwok"},
        },
        "status": {"capacity": _CAPACITY, "allocatable": _CAPACITY},
    }
    try:
        response = api.post("/api/v1/nodes", json=node)
    except httpx.HTTPError as exc:
        raise StrataError(f"could not create the fake Node {NODE_NAME}: {type(exc).__name__}: {exc}") from None
    if response.status_code not in (201, 409):  # 409: it is there already
        raise StrataError(f"could not create the fake Node {NODE_NAME}: HTTP {response.status_code} {response.text}")


def node_ready(api: httpx.Client) -> bool:
    response = api.get(f"/api/v1/nodes/{NODE_NAME}")
    if response.status_code != 200:
        return False
    conditions = response.json().get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
