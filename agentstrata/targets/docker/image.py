"""The runtime image every agent container runs: built locally from the project's runtime context.

The provider rebuilds an image only when its ``triggers`` change, so they hold the hash of the
runtime's inputs, known at plan time; the tag carries it too, so a container names the runtime
it runs.
"""

from __future__ import annotations

from pathlib import Path

from cdktf_cdktf_provider_docker.image import Image
from constructs import Construct

from agentstrata.runtime_image import RUNTIME_CONTEXT_DIR, RUNTIME_IMAGE_NAME, runtime_inputs_hash


def runtime_image(scope: Construct, root: Path, base_image: str) -> Image:
    """``docker_image.runtime``: ``strata-runtime:<hash>`` built from ``<root>/.strata/build/runtime``."""
    digest = runtime_inputs_hash(root)
    image = Image(
        scope,
        "docker.runtime",
        name=f"{RUNTIME_IMAGE_NAME}:{digest[:12]}",
        build_attribute={"context": str(root / RUNTIME_CONTEXT_DIR), "build_args": {"BASE_IMAGE": base_image}},
        triggers={"runtime_inputs": digest},
        # Other stacks of the project run the same image: destroying one must not delete it.
        keep_locally=True,
    )
    image.override_logical_id("runtime")
    return image
