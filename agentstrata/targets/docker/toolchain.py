"""What the Docker target builds from source where no registry is reachable: its provider."""

from __future__ import annotations

from agentstrata.deploy.toolchain import GoTool, MirroredProvider

# The only version of the docker provider the Go proxy serves here declares itself 4.6.0
# (see tools/terraform-provider-docker/go.mod). `no_compose` is the provider's own build tag
# that leaves out docker_compose (docker/compose and its dependencies): Strata does not use it.
DOCKER_PROVIDER = MirroredProvider(
    namespace="kreuzwerker",
    type="docker",
    version="4.6.0",
    tool=GoTool(
        name="terraform-provider-docker",
        module_dir="tools/terraform-provider-docker",
        packages=("github.com/terraform-providers/terraform-provider-docker",),
        ldflags="-s -w -X main.version=4.6.0",
        tags="no_compose",
    ),
)
