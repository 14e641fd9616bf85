"""The Docker target: agents as containers through kreuzwerker/docker (prebuilt cdktf bindings)."""

from agentstrata.targets.docker.target import DockerTarget

__all__ = ["DockerTarget"]
