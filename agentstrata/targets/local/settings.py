"""The ``deployment.local`` block of a stack file."""

from __future__ import annotations

from pydantic import Field

from agentstrata.schema import StrictModel
from agentstrata.wire import KB_ROOT_ENV


class LocalDeployment(StrictModel):
    workspace_path: str = Field(
        default="~/.kb-conduit", description=f"The KB directory ({KB_ROOT_ENV}); the env var overrides it."
    )
