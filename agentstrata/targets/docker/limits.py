"""Docker's resource limits, as the provider takes them."""

from __future__ import annotations

import math

#: Docker refuses smaller memory limits.
MIN_MEMORY_MIB = 6
CPU_PERIOD_US = 100_000


def memory_mib(memory_bytes: int) -> int:
    """The provider takes whole MiB; round up so that the limit is never below what was asked."""
    return math.ceil(memory_bytes / 2**20)
