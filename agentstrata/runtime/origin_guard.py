"""Only pages of the agent's own origin, or of origins it is told to trust, may use its marimo UI.

Browsers send ``Origin`` on websocket handshakes and on every request that is not a plain page
load or a same-origin read. Without this check, any web page a user of the agent visits could open
the notebook's websocket (in edit mode: run code with the user's session cookie). Same origin
means the Origin's host and port are those the request was sent to (its ``Host`` header).
Requests without ``Origin`` (a page load, curl, another agent) are not concerned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class SameOriginOnly:
    def __init__(self, app: ASGIApp, allowed: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed = {origin.rstrip("/").lower() for origin in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and not self.allows(origin, headers.get("host")):
                log.warning("refused a %s request to %s from origin %r (not this agent's; see --allow-origin)",
                            scope["type"], scope["path"], origin)
                if scope["type"] == "websocket":
                    await receive()  # websocket.connect; closing before accepting answers HTTP 403
                    await send({"type": "websocket.close", "code": 1008})
                else:
                    await PlainTextResponse("cross-origin request refused\n", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def allows(self, origin: str, host: str | None) -> bool:
        origin = origin.rstrip("/").lower()
        if origin in self.allowed:
            return True
        address = _address(origin)
        return address is not None and host is not None and address == _address(
            f"{urlsplit(origin).scheme}://{host.lower()}")


def _address(url: str) -> tuple[str, int] | None:
    """``http://Host:8080`` -> ("host", 8080), default ports filled in; None when it is not such a URL."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname, port
