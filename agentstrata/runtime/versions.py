"""Output versions: a version is the content hash of the value's canonical encoding.

Two runs that produce the same value produce the same version, so consumers re-run only when
data really changed, and a version can never name two different values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass


def content_version(data: bytes) -> str:
    """The version of an encoded value: 16 hex digits of its SHA-256."""
    return hashlib.sha256(data).hexdigest()[:16]


def utc_now() -> str:
    """An ISO 8601 UTC timestamp with milliseconds, as used in envelopes and health."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class OutputVersion:
    """One version of one output: its canonical JSON bytes and when this content first appeared."""

    name: str
    version: str
    updated_at: str
    data: bytes

    @classmethod
    def of(cls, name: str, data: bytes) -> "OutputVersion":
        return cls(name, content_version(data), utc_now(), data)
