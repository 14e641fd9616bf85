"""The output envelope: ``{"agent", "name", "version", "stale", "updated_at", "value"}``.

The value's canonical bytes are spliced in as they are, never decoded and re-encoded per request.
"""

from __future__ import annotations

import json

from agentstrata.runtime.versions import OutputVersion


def envelope_bytes(agent: str, record: OutputVersion, stale: bool) -> bytes:
    head = json.dumps(
        {"agent": agent, "name": record.name, "version": record.version, "stale": stale,
         "updated_at": record.updated_at},
        separators=(",", ":"),
    )
    return head[:-1].encode() + b',"value":' + record.data + b"}"
