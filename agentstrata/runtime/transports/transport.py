"""What a transport is: how output versions travel from an agent to the agents that read them.

A transport has two sides. **Subscribing**: for each upstream agent, a downstream agent learns of
the new versions of the outputs it reads and gets their envelopes (``{"version", "value", ...}``,
as ``GET /outputs/{name}`` answers), which :class:`~.upstream_values.UpstreamInputs` checks,
transforms and puts on the input board. **Publishing**: an agent sends its own new versions out,
unless the transport reads them from the routes every host serves whatever its transport
(``/events`` and ``/outputs/{name}``): HTTP/SSE does, so it has no publisher of its own.

The transports are named in :data:`agentstrata.runtime.transports.TRANSPORTS`.

**Why ``file:`` is not a transport.** A ``file:`` input has no agent at the other end: nothing
publishes it and no agent is subscribed to for it. It is an input source, like ``env:`` and a lone
notebook's ``--input``: :class:`~agentstrata.runtime.sources.input_source.InputSource`. A
transport's subscription is one more input source (:class:`Subscription` extends it), so both feed
the same board. Input sources have no registry: their kinds are the ``source:`` syntax of a stack
file (``agent:``, ``file:``, ``env:``), fixed by the schema and the validator, so a new kind is a
change there as well, never one line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Protocol

from agentstrata.runtime.sources.input_source import InputSource

if TYPE_CHECKING:
    from agentstrata.runtime.host_config import HostConfig, Upstream
    from agentstrata.runtime.inputs import InputBoard
    from agentstrata.runtime.outputs import OutputStore


class Subscription(InputSource, Protocol):
    """Follows one upstream agent, keeping the inputs it feeds current."""

    @property
    def busy(self) -> bool:
        """The upstream announced a run in progress, or new values are being fetched: the runner
        holds its runs meanwhile, so a change reaches each agent once."""
        ...


class Publisher(Protocol):
    """Sends this agent's new output versions out; never blocks the runner."""

    @property
    def name(self) -> str: ...

    def start(self) -> None: ...

    async def stop(self) -> None: ...


class Transport(Protocol):
    #: What ``--transport-url`` gives this transport ("the Redis server's URL"), named in the error
    #: when it is missing; None when it needs no address of its own.
    address: ClassVar[str | None]

    def __init__(self, config: HostConfig) -> None:
        """Take the agent's settings (``config.options.transport_url`` among them); connect nothing yet."""
        ...

    def subscribe(self, upstream: Upstream, board: InputBoard, on_state: Callable[[], None]) -> Subscription:
        """The subscription to ``upstream``; ``on_state`` is told whenever its ``busy`` may have changed.

        Raises StrataError when the upstream cannot be reached this way at all (no address)."""
        ...

    def publisher(self, store: OutputStore) -> Publisher | None:
        """What publishes ``store``'s new versions, or None when downstream agents read the host's routes."""
        ...
