"""Asking an agent whether it is ready, and why not."""

from __future__ import annotations

import httpx

from agentstrata.wire import HEALTH_PATH, READY_PATH

#: Shorter than the wire's probe timeout: the supervisor probes every agent of a stack in turn.
PROBE_TIMEOUT_SECONDS = 1.0


def probe_ready(client: httpx.Client, url: str) -> tuple[bool, str | None]:
    """(ready, why not) from ``GET {url}/ready``; an agent that does not answer is not ready."""
    try:
        response = client.get(f"{url}{READY_PATH}", timeout=PROBE_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return False, f"not answering ({type(exc).__name__})"
    if response.status_code == 200:
        return True, None
    try:
        missing = response.json().get("missing") or []
    except ValueError:
        missing = []
    return False, "; ".join(missing) or f"{READY_PATH} answered HTTP {response.status_code}"


def last_error(client: httpx.Client, url: str) -> str | None:
    """The failure an agent reports at /health, if it answers and has one."""
    health = _health(client, url)
    error = health.get("last_error")
    return error.get("message") if isinstance(error, dict) else None


def settled_failure(client: httpx.Client, url: str) -> str | None:
    """The failure of an agent that has every input and nothing pending: it will not fix itself."""
    health = _health(client, url)
    error = health.get("last_error")
    inputs = health.get("inputs") or {}
    if not isinstance(error, dict) or health.get("pending") or not all(i.get("resolved") for i in inputs.values()):
        return None
    return error.get("message")


def _health(client: httpx.Client, url: str) -> dict:
    try:
        health = client.get(f"{url}{HEALTH_PATH}", timeout=PROBE_TIMEOUT_SECONDS).json()
    except (httpx.HTTPError, ValueError):
        return {}
    return health if isinstance(health, dict) else {}
