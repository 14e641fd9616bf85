"""The ``deployment.local`` block of a stack file."""

from __future__ import annotations

from pydantic import Field

from agentstrata.schema import StrictModel


class LocalDeployment(StrictModel):
    workspace_path: str = Field(
        default="~/.kb-conduit", description="The KB directory (KB_CONDUIT_ROOT); the env var overrides it."
    )
