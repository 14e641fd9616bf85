"""What the Docker target creates, as typed escape hatches (see :mod:`agentstrata.constructs.escape_hatches`).

``stack.agents["debriefer"].container`` is the agent's ``docker_container``; ``stack.network`` the
stack's ``docker_network``. The binding types are imported for type checkers only: this module
loads no bindings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentstrata.constructs.target_resources import TargetResources

if TYPE_CHECKING:
    from cdktf import TerraformOutput
    from cdktf_cdktf_provider_docker.container import Container
    from cdktf_cdktf_provider_docker.image import Image
    from cdktf_cdktf_provider_docker.network import Network
    from cdktf_cdktf_provider_docker.provider import DockerProvider
    from cdktf_cdktf_provider_docker.volume import Volume


@dataclass(frozen=True)
class DockerAgentResources(TargetResources):
    """One agent's: its container, the named volume holding its state, the output with its URL, and
    its own image (the runtime image plus its notebook)."""

    container: Container
    volume: Volume
    url: TerraformOutput
    image: Image


@dataclass(frozen=True)
class DockerStackResources(TargetResources):
    """The stack's: the provider, the network its containers share, and the runtime image."""

    provider: DockerProvider
    network: Network
    image: Image
