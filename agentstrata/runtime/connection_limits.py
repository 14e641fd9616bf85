"""The defaults of ``strata serve --header-timeout`` and ``--max-connections`` (enforced by :mod:`.http_guard`).

Apart from it, so that the CLI names them without importing uvicorn.
"""

from __future__ import annotations

#: Seconds a connection has to send a complete request head.
DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
#: Most connections an agent keeps open at once: downstream agents' event streams, browsers, probes.
DEFAULT_MAX_CONNECTIONS = 100
