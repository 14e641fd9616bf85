"""The anchor bench_synth.py measures the Kubernetes target against: a stack file straight into the prebuilt
hashicorp/kubernetes bindings (cdktf-cdktf-provider-kubernetes, about 4 s and 300 MB to import).

No validation, no packaged spec, no checks: the same kinds of objects the Kubernetes target creates (a
namespace, a KB claim, and per agent a ConfigMap with its notebook, a Deployment, a Service, a
NetworkPolicy and an output), written the most direct way. Usage: naive_synth_kubernetes.py STACK.yaml OUTDIR
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")

from cdktf import App, LocalBackend, TerraformOutput, TerraformStack  # noqa: E402
from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1  # noqa: E402
from cdktf_cdktf_provider_kubernetes.deployment_v1 import (  # noqa: E402
    DeploymentV1,
    DeploymentV1SpecTemplateSpecContainer,
    DeploymentV1SpecTemplateSpecContainerPort,
    DeploymentV1SpecTemplateSpecVolume,
)
from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1  # noqa: E402
from cdktf_cdktf_provider_kubernetes.network_policy_v1 import NetworkPolicyV1  # noqa: E402
from cdktf_cdktf_provider_kubernetes.persistent_volume_claim_v1 import PersistentVolumeClaimV1  # noqa: E402
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider  # noqa: E402
from cdktf_cdktf_provider_kubernetes.service_v1 import ServiceV1, ServiceV1SpecPort  # noqa: E402


def main(stack_path: Path, outdir: str) -> None:
    root = stack_path.resolve().parent.parent
    document = yaml.safe_load(stack_path.read_text())
    name = document["stack"]["name"]
    namespace = f"{name}-agents"
    app = App(outdir=outdir)
    stack = TerraformStack(app, f"{name}-kubernetes")
    LocalBackend(stack, path=f"{name}.tfstate")
    KubernetesProvider(stack, "kubernetes", config_path="~/.kube/config")
    ns = NamespaceV1(stack, "namespace", metadata={"name": namespace})
    PersistentVolumeClaimV1(stack, "kb", metadata={"name": f"{name}-kb", "namespace": namespace},
                            spec={"access_modes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
                            wait_until_bound=False, depends_on=[ns])
    for agent in document["stack"]["agents"]:
        agent_name, port = agent["name"], agent["port"]
        object_name = f"{name}-{agent_name.replace('_', '-')}"
        labels = {"app": object_name}
        notebook = (root / agent["implementation"]["path"]).read_text()
        ConfigMapV1(stack, f"{agent_name}_files", metadata={"name": object_name, "namespace": namespace},
                    data={"notebook.py": notebook}, depends_on=[ns])
        DeploymentV1(stack, agent_name, metadata={"name": object_name, "namespace": namespace}, depends_on=[ns], spec={
            "selector": {"match_labels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {
                # Blocks in lists are the bindings' structs: jsii passes plain dicts in lists through unconverted.
                "container": [DeploymentV1SpecTemplateSpecContainer(
                    name="agent", image="strata-runtime:latest",
                    args=["--stack", "/app/stack.yaml", "--agent", agent_name, "--port", str(port)],
                    port=[DeploymentV1SpecTemplateSpecContainerPort(container_port=port)])],
                "volume": [DeploymentV1SpecTemplateSpecVolume(name="files", config_map={"name": object_name})],
            }},
        })
        ServiceV1(stack, f"{agent_name}_service", metadata={"name": object_name, "namespace": namespace},
                  spec={"selector": labels, "port": [ServiceV1SpecPort(port=port, target_port=str(port))]},
                  depends_on=[ns])
        NetworkPolicyV1(stack, f"{agent_name}_policy", metadata={"name": object_name, "namespace": namespace},
                        spec={"pod_selector": {"match_labels": labels}, "policy_types": ["Ingress", "Egress"]},
                        depends_on=[ns])
        TerraformOutput(stack, f"{agent_name}_url", value=f"http://{object_name}.{namespace}.svc:{port}")
    app.synth()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
