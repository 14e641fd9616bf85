"""The ``deployment.docker`` block of a stack file."""

from __future__ import annotations

from pydantic import Field

from agentstrata.schema import StrictModel


class DockerDeployment(StrictModel):
    compose_file: str = Field(
        default="docker-compose.generated.yaml", description="Where `strata export compose` writes."
    )
    workspace_path: str = Field(
        default="~/.kb-conduit",
        description="Host KB directory, mounted read-only at /kb-conduit for the agents that declare "
        "'workspace: read'.",
    )
    bind_address: str = Field(
        default="127.0.0.1", description="Host address the agents' ports are published on."
    )
