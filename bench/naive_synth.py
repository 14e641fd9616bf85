"""The baseline bench_synth.py compares with: a stack file straight into the prebuilt docker bindings.

No validation, no packaged spec, no conflict checks: the same resources Strata's Docker target
creates (network, image, and per agent a volume, a container uploading its notebook, an output),
written the most direct way. Usage: naive_synth.py STACK.yaml OUTDIR
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")

from cdktf import App, LocalBackend, TerraformOutput, TerraformStack  # noqa: E402
from cdktf_cdktf_provider_docker.container import (  # noqa: E402
    Container,
    ContainerMounts,
    ContainerNetworksAdvanced,
    ContainerPorts,
    ContainerUpload,
    ContainerVolumes,
)
from cdktf_cdktf_provider_docker.image import Image  # noqa: E402
from cdktf_cdktf_provider_docker.network import Network  # noqa: E402
from cdktf_cdktf_provider_docker.provider import DockerProvider  # noqa: E402
from cdktf_cdktf_provider_docker.volume import Volume  # noqa: E402


def main(stack_path: Path, outdir: str) -> None:
    root = stack_path.resolve().parent.parent
    document = yaml.safe_load(stack_path.read_text())
    name = document["stack"]["name"]
    app = App(outdir=outdir)
    stack = TerraformStack(app, f"{name}-docker")
    LocalBackend(stack, path=f"{name}.tfstate")
    DockerProvider(stack, "docker")
    network = Network(stack, "network", name=name)
    image = Image(stack, "runtime", name="strata-runtime:latest", keep_locally=True,
                  build_attribute={"context": str(root / ".strata/build/runtime")})
    containers = {}
    for agent in document["stack"]["agents"]:
        agent_name, port = agent["name"], agent["port"]
        volume = Volume(stack, f"{agent_name}_state", name=f"{name}-{agent_name}-state")
        notebook = (root / agent["implementation"]["path"]).read_text()
        upstream = [containers[d["agent_name"]] for d in agent.get("dependencies", [])]
        containers[agent_name] = Container(
            stack, agent_name, name=f"{name}-{agent_name}", image=image.image_id,
            command=["--stack", "/app/stack.yaml", "--agent", agent_name, "--port", str(port)],
            env=["KB_CONDUIT_ROOT=/kb-conduit"],
            ports=[ContainerPorts(internal=port, external=port, ip="127.0.0.1")],
            upload=[ContainerUpload(file=f"/app/agents/{agent_name}.py", content=notebook)],
            mounts=[ContainerMounts(type="bind", source=str(root / "kb"), target="/kb-conduit", read_only=True)],
            volumes=[ContainerVolumes(volume_name=f"{name}-{agent_name}-state", container_path="/var/lib/strata")],
            networks_advanced=[ContainerNetworksAdvanced(name=network.name)],
            healthcheck={"test": ["CMD", "true"], "interval": "5s"},
            depends_on=[volume, *upstream],
        )
        TerraformOutput(stack, f"{agent_name}_url", value=f"http://127.0.0.1:{port}")
    app.synth()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
