"""The transports by name: how versions travel between agents (``strata serve --transport NAME``).

Each name maps to ``"module:Class"``, a class implementing
:class:`~agentstrata.runtime.transports.transport.Transport`, imported only once it is chosen: an
agent served over HTTP never imports redis. Adding a transport is one module and one line here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from agentstrata.errors import StrataError
from agentstrata.wire import TRANSPORT_URL_ENV

if TYPE_CHECKING:
    from agentstrata.runtime.host_config import HostOptions
    from agentstrata.runtime.transports.transport import Transport

TRANSPORTS: dict[str, str] = {
    "http": "agentstrata.runtime.transports.http_sse:HttpSseTransport",
    "redis": "agentstrata.runtime.transports.redis_pubsub:RedisTransport",
}
#: The transport of an agent that names none.
DEFAULT_TRANSPORT = "http"


def transport_for(options: HostOptions) -> type[Transport]:
    """The class of ``options.transport``, once its settings are complete; StrataError if they are not."""
    target = TRANSPORTS.get(options.transport)
    if target is None:
        raise StrataError(f"--transport: expected {_one_of(list(TRANSPORTS))}, got {options.transport!r}")
    module, _, name = target.partition(":")
    transport: type[Transport] = getattr(importlib.import_module(module), name)
    if transport.address is not None and not options.transport_url:
        raise StrataError(f"--transport {options.transport} needs {transport.address}: "
                          f"--transport-url URL or {TRANSPORT_URL_ENV}")
    return transport


def _one_of(names: list[str]) -> str:
    """``'a'``, ``'a' or 'b'``, ``'a', 'b' or 'c'``."""
    quoted = [repr(name) for name in names]
    return " or ".join(filter(None, [", ".join(quoted[:-1]), quoted[-1]]))
