"""The Docker target's Terraform resources (kreuzwerker/docker, prebuilt cdktf bindings).

Per stack: the provider, one network and the runtime image. Per agent: a named volume for its
state (it outlives container replacements), its container, and an output with its URL. Terraform
addresses read like the stack: ``docker_container.debriefer``, ``docker_volume.debriefer_state``,
``output.debriefer_url``. Imported only when a stack renders: the bindings load with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdktf import TerraformOutput
from cdktf_cdktf_provider_docker.container import Container, ContainerNetworksAdvanced
from cdktf_cdktf_provider_docker.network import Network
from cdktf_cdktf_provider_docker.provider import DockerProvider
from cdktf_cdktf_provider_docker.volume import Volume

from agentstrata.targets.base.packaged_spec import PackagedSpecs, read_notebook
from agentstrata.targets.base.start_order import start_after, upstreams
from agentstrata.targets.docker.container import ContainerPlan
from agentstrata.targets.docker.created_resources import DockerAgentResources, DockerStackResources
from agentstrata.runtime_image import runtime_inputs_hash
from agentstrata.targets.docker.agent_image import agent_context, agent_image
from agentstrata.targets.docker.image import runtime_image
from agentstrata.targets.docker.naming import container_name, volume_name
from agentstrata.schema import dns_label

if TYPE_CHECKING:
    from agentstrata.constructs.agent_stack import AgentStack
    from agentstrata.targets.docker.target import DockerTarget

#: The provider version the project's mirror serves (agentstrata.targets.docker.toolchain.DOCKER_PROVIDER, kept in
#: step by a test): the bindings are generated for 3.6.2, whose attributes 4.6.0 still takes as they are.
PROVIDER_VERSION = "4.6.0"


def render_docker(target: "DockerTarget", stack: "AgentStack") -> None:
    """The provider, the network, the image; per agent its volume, container and URL output."""
    spec, loaded, root = stack.spec, stack.source.loaded, stack.root
    kb_dir = target.kb_dir(root)
    # Stack-wide ids hold a '.', which no agent name can: agents' constructs are named after them.
    provider = DockerProvider(stack, "docker.provider", host=target.docker_host)
    stack.add_override("terraform.required_providers.docker.version", PROVIDER_VERSION)
    network = Network(stack, "docker.network", name=dns_label(spec.name))
    network.override_logical_id("network")
    image = runtime_image(stack, root, target.base_image)
    runtime_digest = runtime_inputs_hash(root)
    network_name = network.name
    specs = PackagedSpecs(spec, target.name, root, kb_dir)
    start = start_after(spec)
    ports = {a.name: a.port for a in spec.agent_specs}
    containers: dict[str, Container] = {}
    # Lower layers first: an agent's upstreams always have their container by then.
    for agent in sorted(spec.agent_specs, key=lambda a: a.layer):
        construct = stack.agents[agent.name]
        name = container_name(spec, agent.name)
        host_port = target.host_port(agent.name, agent.port)
        plan = ContainerPlan(
            stack=spec.name, agent=agent, container_name=name, volume_name=volume_name(spec, agent.name),
            host_port=host_port, bind_address=target.bind_address, kb_dir=str(kb_dir),
            upstream_urls={u: f"http://{container_name(spec, u)}:{ports[u]}" for u in upstreams(agent)},
            policies=spec.policies, user=target.user, wait_timeout=target.wait_timeout,
        )
        context = agent_context(root, spec.name, agent.name, agent.implementation.path, read_notebook(loaded, agent),
                                specs.for_agent(agent))
        own_image = agent_image(construct, spec.name, agent.name, context, image, runtime_digest)
        volume = Volume(construct, "state", name=plan.volume_name)
        volume.override_logical_id(f"{agent.name}_state")
        container = Container(
            construct, "Default", image=own_image.image_id, networks_advanced=[ContainerNetworksAdvanced(name=network_name)],
            depends_on=[volume, *(containers[u] for u in start[agent.name])], **plan.props(),
        )
        url = TerraformOutput(construct, "url", value=target.url(host_port),
                              description=f"URL of agent {agent.name} on the host")
        url.override_logical_id(f"{agent.name}_url")
        containers[agent.name] = container
        construct.attach(DockerAgentResources(container=container, volume=volume, url=url, image=own_image))
    stack.attach(DockerStackResources(provider=provider, network=network, image=image))
