"""An HTTP client of the local cluster's API, as its admin: TLS verified against the cluster CA."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx


def cluster_ssl_context(ca_cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_cert))


def api_client(server: str, ca_cert: Path, token: str, timeout: float = 10.0) -> httpx.Client:
    return httpx.Client(base_url=server, verify=cluster_ssl_context(ca_cert), timeout=timeout,
                        headers={"Authorization": f"Bearer {token}"})
