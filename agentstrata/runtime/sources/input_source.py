"""What an input source is: something the host starts that keeps inputs on the board current.

A ``file:`` input's watcher is one, and so is the subscription to an upstream agent (see
:class:`agentstrata.runtime.transports.transport.Subscription`). ``env:`` and ``--input`` values are
set once when the host is built and need none.
"""

from __future__ import annotations

from typing import Protocol


class InputSource(Protocol):
    @property
    def name(self) -> str:
        """What it watches, for logs and task names."""
        ...

    def start(self) -> None:
        """Begin feeding the board (called in the server's event loop)."""
        ...

    async def stop(self) -> None:
        """Stop for good; its inputs keep their last values."""
        ...
