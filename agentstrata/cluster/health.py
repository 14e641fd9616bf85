"""Asking a component whether it is healthy, and why not."""

from __future__ import annotations

import ssl

import httpx

from agentstrata.cluster.components import Component

PROBE_TIMEOUT_SECONDS = 2.0


def probe(component: Component, ports: dict[str, int], ca: ssl.SSLContext) -> str | None:
    """None when the component's health endpoint answers 200, else why not."""
    url = component.health_url(ports)
    try:
        response = httpx.get(url, verify=ca, timeout=PROBE_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return f"{url} does not answer ({type(exc).__name__})"
    if response.status_code != 200:
        return f"{url} answered HTTP {response.status_code}"
    return None
