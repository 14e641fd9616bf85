"""CPU and memory as Kubernetes writes them back: the canonical form of a resource quantity.

The API server stores ``1.5`` cores as ``1500m`` and ``1.5Gi`` as ``1536Mi``; the provider reads
back what is stored. Written in canonical form from the start, a second plan shows no change.
"""

from __future__ import annotations

import re
from decimal import Decimal

from agentstrata.schema import MEMORY_PATTERN

_BINARY = (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))
_DECIMAL = (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3))
_FACTORS = {"": 1, **dict(_BINARY), **dict(_DECIMAL)}


def millicores(cpu: str) -> Decimal:
    """``"1.5"`` -> 1500, ``"250m"`` -> 250 (possibly fractional: the caller rejects that)."""
    return Decimal(cpu[:-1]) if cpu.endswith("m") else Decimal(cpu) * 1000


def memory_bytes(memory: str) -> Decimal:
    """``"1.5Gi"`` -> 1610612736, exactly (possibly fractional: the caller rejects that)."""
    match = re.fullmatch(MEMORY_PATTERN, memory)
    if match is None:
        raise ValueError(f"not a memory quantity: {memory!r}")
    unit = match.group(2) or ""
    return Decimal(memory[: len(memory) - len(unit)]) * _FACTORS[unit]


def canonical_cpu(cpu: str) -> str:
    """Whole cores as a number, anything else in millicores: ``"2.0"`` -> ``"2"``, ``"1.5"`` -> ``"1500m"``."""
    milli = int(millicores(cpu))
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def canonical_memory(memory: str) -> str:
    """A binary-suffixed quantity keeps the largest binary suffix that divides it (``1.5Gi`` -> ``1536Mi``),
    anything else the largest decimal one (``1.5G`` -> ``1500M``, ``1000`` -> ``1k``), as Kubernetes does."""
    value = int(memory_bytes(memory))
    if memory.endswith("i"):
        for suffix, factor in _BINARY:
            if value % factor == 0 and value:
                return f"{value // factor}{suffix}"
    for suffix, factor in _DECIMAL:
        if value % factor == 0 and value:
            return f"{value // factor}{suffix}"
    return str(value)
