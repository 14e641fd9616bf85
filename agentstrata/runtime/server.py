"""Running a host on uvicorn, on a socket bound up front so a busy port is a clear error."""

from __future__ import annotations

import errno
import logging
import socket
from types import FrameType

import uvicorn

from agentstrata.errors import StrataError
from agentstrata.runtime.host import AgentHost
from agentstrata.runtime.host_config import HostConfig, HostOptions
from agentstrata.runtime.http_guard import guarded_http

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn, telling the host when a stop is requested (before it waits for open connections)."""

    def __init__(self, config: uvicorn.Config, host: AgentHost) -> None:
        super().__init__(config)
        self.agent_host = host

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.agent_host.begin_shutdown()
        super().handle_exit(sig, frame)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP (not 0): asyncio sets TCP_NODELAY on accepted connections only then,
    # and without it Nagle + delayed ACKs cap a keep-alive connection at a few requests per second.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise StrataError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def server_config(agent_host: AgentHost, options: HostOptions) -> uvicorn.Config:
    """uvicorn's settings for a host: request heads time out, open connections are bounded."""
    return uvicorn.Config(
        agent_host.app,
        http=guarded_http(options.header_timeout, options.max_connections),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )


def serve(config: HostConfig, *, host: str, port: int) -> None:
    """Serve the agent until SIGINT/SIGTERM."""
    sock = bind(host, port)
    agent_host = AgentHost(config, listen_host=host)
    token = agent_host.edit_token
    if token is not None:
        # Where to find the token, never the token: logs are read by more people than the UI is meant for.
        log.warning("edit mode: the UI asks for the token in %s (fingerprint %s): "
                    "open http://%s:%d/?access_token=TOKEN", token.where, token.fingerprint, host, port)
    log.info("agent %s listening on http://%s:%d", config.agent, host, port)
    _Server(server_config(agent_host, config.options), agent_host).run(sockets=[sock])
