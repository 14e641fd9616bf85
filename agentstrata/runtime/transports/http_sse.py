"""HTTP/SSE transport (the default): follow an upstream agent's ``/events`` and fetch the outputs
this agent uses.

On each announced version that differs from the one held, ``GET /outputs/{name}`` with
``If-None-Match``; the outputs announced together are fetched together and applied at once, so
they start one run. The stream is reopened with backoff whenever it ends or fails, so an upstream
that restarts (or is not up yet) is picked up again without anyone acting.

``busy`` is true while the upstream announces it is pending, or while its new values are being
fetched: the runner holds its runs meanwhile.

Publishing is the host's own ``/events`` and ``/outputs/{name}`` routes, served under every
transport: this transport has no publisher of its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
from httpx_sse import SSEError, aconnect_sse

from agentstrata.errors import StrataError
from agentstrata.runtime.backoff import Backoff
from agentstrata.runtime.host_config import HostConfig, Upstream
from agentstrata.runtime.inputs import InputBoard
from agentstrata.runtime.outputs import OutputStore
from agentstrata.runtime.tasks import cancel_and_wait
from agentstrata.runtime.transports.upstream_values import UpstreamInputs
from agentstrata.wire import EVENTS_PATH, output_path, upstream_env_var

log = logging.getLogger(__name__)


class HttpSseTransport:
    address = None  # each upstream has its own URL (STRATA_UPSTREAM_<AGENT>_URL, or its port in the stack)

    def __init__(self, config: HostConfig) -> None:
        self.agent = config.agent
        self.options = config.options

    def subscribe(self, upstream: Upstream, board: InputBoard, on_state: Callable[[], None]) -> HttpUpstream:
        if upstream.url is None:
            raise StrataError(
                f"agent {self.agent!r}: no address for upstream {upstream.agent!r}; "
                f"set {upstream_env_var(upstream.agent)}"
            )
        options = self.options
        return HttpUpstream(upstream.url, upstream, board, on_state, max_payload=options.max_payload,
                            keepalive=options.keepalive, timeout=options.upstream_timeout)

    def publisher(self, store: OutputStore) -> None:
        """None: downstream agents read this host's own ``/events`` and ``/outputs/{name}``."""
        return None


class HttpUpstream:
    def __init__(
        self, url: str, upstream: Upstream, board: InputBoard, on_state: Callable[[], None], *,
        max_payload: int, keepalive: float, timeout: float,
    ) -> None:
        self.url = url
        self.inputs = UpstreamInputs(upstream, board, max_payload)
        # Silence longer than a few keepalives means the connection is dead.
        self._stream_timeout = httpx.Timeout(timeout, read=max(3 * keepalive, timeout))
        self._fetch_timeout = httpx.Timeout(timeout)
        self._task: asyncio.Task[None] | None = None
        self.upstream_pending = False
        self.fetching = False
        #: Told whenever ``busy`` may have changed.
        self.on_state = on_state

    @property
    def busy(self) -> bool:
        return self.upstream_pending or self.fetching

    @property
    def name(self) -> str:
        return f"http upstream {self.inputs.upstream.agent} ({self.url})"

    def start(self) -> None:
        self._task = asyncio.create_task(self._follow(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _follow(self) -> None:
        backoff = Backoff()
        agent = self.inputs.upstream.agent
        async with httpx.AsyncClient(timeout=self._fetch_timeout) as client:
            while True:
                try:
                    events = f"{self.url}{EVENTS_PATH}"
                    async with aconnect_sse(client, "GET", events, timeout=self._stream_timeout) as source:
                        if source.response.status_code != 200:
                            raise SSEError(f"{EVENTS_PATH} answered HTTP {source.response.status_code}")
                        async for event in source.aiter_sse():
                            if event.event == "version":
                                backoff.reset()
                                await self._sync(client, _state(event.data))
                    problem = "event stream closed"
                except (httpx.HTTPError, SSEError, ValueError) as exc:
                    problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if self.upstream_pending:
                    self.upstream_pending = False  # unknown now: never hold runs for an absent upstream
                    self.on_state()
                delay = backoff.next()
                log.info("upstream %s at %s: %s; reconnecting in %.1fs", agent, self.url, problem, delay)
                self.inputs.report(None, f"upstream {agent} unreachable at {self.url}: {problem}; retrying")
                await asyncio.sleep(delay)

    async def _sync(self, client: httpx.AsyncClient, state: dict[str, Any]) -> None:
        versions = state["versions"]
        wanted = []
        for output in self.inputs.outputs:
            version = versions.get(output)
            if version is None:
                self.inputs.report(output, f"upstream {self.inputs.upstream.agent} has no value for {output!r} yet")
            elif version != self.inputs.seen.get(output):
                wanted.append(output)
            else:
                self.inputs.still_current(output)  # reachable again, and what we hold is the latest
        self.upstream_pending = state["pending"]
        self.fetching = bool(wanted)
        self.on_state()
        if not wanted:
            return
        try:
            bodies = await asyncio.gather(*(self._fetch(client, output) for output in wanted))
            for output, body in zip(wanted, bodies):
                if body is not None:
                    self.inputs.apply(output, body)
        finally:
            self.fetching = False
            self.on_state()

    async def _fetch(self, client: httpx.AsyncClient, output: str) -> bytes | None:
        """The envelope's bytes, or None (the problem reported) for 304, errors and oversize."""
        held = self.inputs.seen.get(output)
        headers = {"If-None-Match": f'"{held}"'} if held else {}
        limit = self.inputs.max_payload
        try:
            async with client.stream("GET", f"{self.url}{output_path(output)}", headers=headers) as response:
                if response.status_code == 304:
                    return None
                declared = int(response.headers.get("content-length") or 0)
                if declared > limit:
                    self.inputs.too_large(output, declared)
                    return None
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > limit:
                        self.inputs.too_large(output, len(body))
                        return None
                if response.status_code != 200:
                    answer = bytes(body[:300]).decode(errors="replace")
                    self.inputs.refuse(output, f"HTTP {response.status_code}: {answer}")
                    return None
        except httpx.HTTPError as exc:
            self.inputs.refuse(output, f"fetch failed: {type(exc).__name__}: {exc}")
            return None
        return bytes(body)


def _state(data: str) -> dict[str, Any]:
    """An event's data: ``versions`` (output -> version) and ``pending``; ValueError if it is not that."""
    state = json.loads(data)
    if not isinstance(state, dict) or not isinstance(state.get("versions", {}), dict):
        raise ValueError("an event that is not a version announcement")
    return {"versions": state.get("versions") or {}, "pending": bool(state.get("pending"))}
