"""The names the Docker target gives a stack's objects on the engine."""

from __future__ import annotations

from agentstrata.schema import StackSpec, dns_label

#: Longest DNS label: container names are the hostnames agents reach each other by.
MAX_CONTAINER_NAME = 63


def container_name(spec: StackSpec, agent: str) -> str:
    """``kb-conduit`` + ``kb_base`` -> ``kb-conduit-kb-base``: unique on the engine, and a hostname."""
    return f"{dns_label(spec.name)}-{dns_label(agent)}"


def volume_name(spec: StackSpec, agent: str) -> str:
    """The named volume holding an agent's state: ``<container>-state``."""
    return f"{container_name(spec, agent)}-state"
