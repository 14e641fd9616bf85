"""An agent's ConfigMap: its notebook and its packaged spec (:mod:`agentstrata.targets.base.packaged_spec`).

The API server refuses a ConfigMap whose keys and values exceed 1 MiB together; the target checks
that before anything is applied. The hash of the data goes on the Deployment's pod template, so an
edit rolls exactly that agent (changing a ConfigMap alone restarts nothing).
"""

from __future__ import annotations

import hashlib

from agentstrata.targets.kubernetes.kube_object import KubeObject
from agentstrata.targets.kubernetes.naming import agent_labels, object_name

#: The API server's limit on a ConfigMap's data, keys included.
MAX_BYTES = 1024 * 1024
#: Keys of the data; the Deployment mounts each at its wire path.
NOTEBOOK_KEY = "notebook.py"
SPEC_KEY = "stack.yaml"


def config_map_data(notebook: str, spec: str) -> dict[str, str]:
    return {NOTEBOOK_KEY: notebook, SPEC_KEY: spec}


def data_size(data: dict[str, str]) -> int:
    """Bytes the API server counts: every key and value, UTF-8 encoded."""
    return sum(len(key.encode()) + len(value.encode()) for key, value in data.items())


def data_hash(data: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for key, value in sorted(data.items()):
        digest.update(key.encode() + b"\0" + value.encode() + b"\0")
    return digest.hexdigest()[:16]


def config_map_object(stack: str, agent: str, namespace: str, data: dict[str, str],
                      depends_on: tuple[tuple[str, str], ...]) -> KubeObject:
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": object_name(stack, agent), "namespace": namespace, "labels": agent_labels(stack, agent)},
        "data": data,
    }
    return KubeObject("config_map", agent, manifest, depends_on, agent=agent)
