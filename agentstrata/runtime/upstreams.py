"""Where an agent finds its upstream agents over HTTP.

The variable :func:`agentstrata.wire.upstream_env_var` names overrides the default
``http://127.0.0.1:<port from the stack>``. The Docker target sets it to container DNS names,
and the reference notebooks read the same variable for their standalone fallback.
"""

from __future__ import annotations

import os

from agentstrata.wire import local_url, upstream_env_var


def upstream_url(agent: str, port: int | None) -> str | None:
    """The base URL of ``agent`` (no trailing slash), or None when neither the env var nor a port says."""
    override = os.environ.get(upstream_env_var(agent))
    if override:
        return override.rstrip("/")
    return local_url(port) if port is not None else None
