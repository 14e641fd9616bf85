"""Message-queue transport over Redis (``--transport redis --transport-url redis://...``).

Each new output version is published on the channel ``strata:<stack>:<agent>`` (payload: the
output envelope) and kept under the key ``strata:<stack>:<agent>:<output>``, so a subscriber that
starts late, or reconnects after Redis went away, catches up by reading the keys. Both sides
reconnect with backoff; the publisher re-sends its latest outputs on every reconnect (Redis may
have restarted empty).

Only versions travel over Redis, not the ``pending`` state of the HTTP transport: a downstream
agent here does not hold its runs for busy upstreams (the debounce still coalesces bursts).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from agentstrata.runtime.backoff import Backoff
from agentstrata.runtime.envelope import envelope_bytes
from agentstrata.runtime.host_config import HostConfig, Upstream
from agentstrata.runtime.inputs import InputBoard
from agentstrata.runtime.outputs import OutputStore
from agentstrata.runtime.tasks import cancel_and_wait
from agentstrata.runtime.transports.upstream_values import UpstreamInputs
from agentstrata.runtime.versions import OutputVersion

log = logging.getLogger(__name__)

#: Fail fast on a dead server, and notice a silently dropped connection.
_CLIENT_OPTIONS = {"socket_connect_timeout": 2.0, "health_check_interval": 5}


def channel_name(stack: str, agent: str) -> str:
    return f"strata:{stack}:{agent}"


def key_name(stack: str, agent: str, output: str) -> str:
    return f"{channel_name(stack, agent)}:{output}"


class RedisTransport:
    address = "the Redis server's URL"

    def __init__(self, config: HostConfig) -> None:
        url = config.options.transport_url
        assert url is not None  # transport_for refuses a missing address
        self.url = url
        self.stack = config.stack
        self.agent = config.agent
        self.max_payload = config.options.max_payload

    def subscribe(self, upstream: Upstream, board: InputBoard, on_state: Callable[[], None]) -> RedisUpstream:
        # Never busy, so on_state is never told anything.
        return RedisUpstream(self.url, self.stack, upstream, board, max_payload=self.max_payload)

    def publisher(self, store: OutputStore) -> RedisPublisher:
        return RedisPublisher(self.url, self.stack, self.agent, store)


class RedisPublisher:
    """Publishes this agent's new output versions; never blocks the runner (a queue in between)."""

    def __init__(self, url: str, stack: str, agent: str, store: OutputStore) -> None:
        self.url = url
        self.stack = stack
        self.agent = agent
        self.store = store
        self._queue: asyncio.Queue[OutputVersion] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        store.subscribe(self._enqueue)

    @property
    def name(self) -> str:
        return f"redis publisher {channel_name(self.stack, self.agent)}"

    def _enqueue(self, changed: dict[str, OutputVersion]) -> None:
        for record in changed.values():
            self._queue.put_nowait(record)

    def start(self) -> None:
        self._task = asyncio.create_task(self._publish(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _publish(self) -> None:
        backoff = Backoff()
        while True:
            client = aioredis.Redis.from_url(self.url, **_CLIENT_OPTIONS)
            try:
                # Everything current first: the server may be new, or subscribers may have missed it.
                for name in sorted(self.store.versions()):
                    record = self.store.get(name)
                    if record is not None:
                        await self._send(client, record)
                backoff.reset()
                while True:
                    record = await self._queue.get()
                    current = self.store.get(record.name)
                    await self._send(client, current or record)
            except (RedisError, OSError) as exc:
                delay = backoff.next()
                log.warning("redis %s: %s; reconnecting in %.1fs", self.url, exc, delay)
                await asyncio.sleep(delay)
            finally:
                await client.aclose()

    async def _send(self, client: aioredis.Redis, record: OutputVersion) -> None:
        payload = envelope_bytes(self.agent, record, stale=False)
        await client.set(key_name(self.stack, self.agent, record.name), payload)
        await client.publish(channel_name(self.stack, self.agent), payload)


class RedisUpstream:
    """Subscribes to an upstream agent's channel; reads the latest keys on every (re)connect."""

    #: No ``pending`` state travels over Redis: runs are never held for this upstream.
    busy = False

    def __init__(self, url: str, stack: str, upstream: Upstream, board: InputBoard, *, max_payload: int) -> None:
        self.url = url
        self.stack = stack
        self.inputs = UpstreamInputs(upstream, board, max_payload)
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return f"redis upstream {channel_name(self.stack, self.inputs.upstream.agent)}"

    def start(self) -> None:
        self._task = asyncio.create_task(self._follow(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _follow(self) -> None:
        backoff = Backoff()
        agent = self.inputs.upstream.agent
        while True:
            client = aioredis.Redis.from_url(self.url, **_CLIENT_OPTIONS)
            pubsub = client.pubsub()
            try:
                # Subscribe before reading the keys, so no version can fall between the two.
                await pubsub.subscribe(channel_name(self.stack, agent))
                for output in self.inputs.outputs:
                    latest = await client.get(key_name(self.stack, agent, output))
                    if latest is None:
                        self.inputs.report(output, f"no version of {agent}.{output} in Redis yet")
                    else:
                        self.inputs.apply(output, latest)
                backoff.reset()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._receive(message["data"])
            except (RedisError, OSError) as exc:
                delay = backoff.next()
                log.warning("redis %s: %s; reconnecting in %.1fs", self.url, exc, delay)
                self.inputs.report(None, f"redis unreachable at {self.url}: {exc}; retrying")
                await asyncio.sleep(delay)
            finally:
                await pubsub.aclose()
                await client.aclose()

    def _receive(self, data: bytes) -> None:
        if len(data) > self.inputs.max_payload:
            log.warning("dropping a %d-byte message from redis: over --max-payload", len(data))
            return
        try:
            output = json.loads(data)["name"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a message that is not an output envelope")
            return
        if output in self.inputs.outputs:
            self.inputs.apply(output, data)
