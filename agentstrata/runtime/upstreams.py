"""Where an agent finds its upstream agents over HTTP.

``STRATA_UPSTREAM_<AGENT>_URL`` (agent name upper-cased, '-' -> '_') overrides the default
``http://127.0.0.1:<port from the stack>``. The Docker target sets it to container DNS names,
and the reference notebooks read the same variable for their standalone fallback.
"""

from __future__ import annotations

import os


def upstream_url_env(agent: str) -> str:
    return f"STRATA_UPSTREAM_{agent.upper().replace('-', '_')}_URL"


def upstream_url(agent: str, port: int | None) -> str | None:
    """The base URL of ``agent`` (no trailing slash), or None when neither the env var nor a port says."""
    override = os.environ.get(upstream_url_env(agent))
    if override:
        return override.rstrip("/")
    return f"http://127.0.0.1:{port}" if port is not None else None
