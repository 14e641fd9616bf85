"""uvicorn's HTTP/1.1 protocol with a deadline for request heads and a bound on open connections.

uvicorn starts no timer while a request's head is on its way: its keep-alive timeout covers only
the idle time between requests, and any byte received cancels it. A client that sends its
headers slowly, or never ("slowloris"), would hold a connection for ever, and enough of them
would hold every file descriptor. Here a connection must deliver a complete request head within
``header_timeout`` seconds of opening (or of its first byte after a response), and a connection
that would make more than ``max_connections`` open at once (websockets and event streams
included) is answered 503 and closed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

_BUSY_TEXT = b"too many open connections\n"
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
         b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_BUSY_TEXT), _BUSY_TEXT))


class GuardedH11Protocol(H11Protocol):
    def __init__(self, *args: Any, header_timeout: float, max_connections: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.max_connections = max_connections
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            # Debug only: a flood of refused connections must not become a flood of log lines.
            log.debug("refusing a connection from %s: %d connections are open (--max-connections)",
                      _peer(self.client), self.max_connections)
            transport.write(_BUSY)
            transport.close()
            return
        self._await_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            self._await_head()  # a request head has begun (or not yet): it has until the deadline
        else:
            self._head_received()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._head_received()
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_received()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        if self._head_deadline is None and not self.transport.is_closing():
            self._head_deadline = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _head_received(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            log.debug("closing a connection from %s: no complete request head within %.1f s (--header-timeout)",
                      _peer(self.client), self.header_timeout)
            self.transport.close()


def guarded_http(header_timeout: float, max_connections: int) -> Any:
    """What uvicorn's ``Config(http=...)`` takes: the protocol factory, with these limits."""
    return functools.partial(GuardedH11Protocol, header_timeout=header_timeout, max_connections=max_connections)


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "an unknown peer"
