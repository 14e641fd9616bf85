"""The ``deployment.kubernetes`` block of a stack file."""

from __future__ import annotations

from pydantic import Field

from agentstrata.schema import StrictModel


class KubernetesDeployment(StrictModel):
    namespace: str = Field(
        default="strata-agents",
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        max_length=63,
        description="Namespace the agents run in.",
    )
