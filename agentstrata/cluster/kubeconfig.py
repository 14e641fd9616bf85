"""The kubeconfig of the local cluster, for the user, the components and the tests."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

CONTEXT = "strata-local"


def write_kubeconfig(path: Path, server: str, ca_cert: Path, token: str) -> None:
    """A kubeconfig with one context, ``strata-local``; the CA is inline so that it can be copied."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {
            "server": server,
            "certificate-authority-data": base64.b64encode(ca_cert.read_bytes()).decode("ascii"),
        }}],
        "users": [{"name": CONTEXT, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}],
        "current-context": CONTEXT,
    }
    temporary = path.with_suffix(".tmp")
    temporary.touch(mode=0o600)
    temporary.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    temporary.replace(path)
