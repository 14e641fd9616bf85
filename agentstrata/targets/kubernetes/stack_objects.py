"""Every Kubernetes object of a stack, once: what the Terraform resources and the exported manifests are made of.

Per stack: the Namespace (unless it is brought) and the KB claim (only if an agent declares
``workspace: read`` and the stack brings no claim). Per agent: its ConfigMap, Service, NetworkPolicy, Deployment and, on
request, its state claim. Objects come in the order they can be applied; each names what it needs
to exist first (the namespace, the claims and ConfigMap it mounts, and the agents it starts after).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from agentstrata.loader import LoadedStack
from agentstrata.targets.base.packaged_spec import PackagedSpecs, read_notebook
from agentstrata.targets.base.start_order import start_after, upstreams
from agentstrata.targets.kubernetes.config_map import config_map_data, config_map_object, data_hash
from agentstrata.targets.kubernetes.deployment import PodPlan, deployment_object
from agentstrata.targets.kubernetes.environment import container_env
from agentstrata.targets.kubernetes.kube_object import KubeObject
from agentstrata.targets.kubernetes.namespace import namespace_object
from agentstrata.targets.kubernetes.naming import kb_claim_name, service_url, state_claim_name
from agentstrata.targets.kubernetes.network_policy import network_policy_object
from agentstrata.targets.kubernetes.pvc import KB_ADDRESS, kb_claim_object, state_address, state_claim_object
from agentstrata.targets.kubernetes.service import service_object
from agentstrata.wire import KB_DIR
from agentstrata.workspace import uses_workspace

if TYPE_CHECKING:
    from agentstrata.targets.kubernetes.target import KubernetesTarget


def stack_objects(loaded: LoadedStack, target: "KubernetesTarget") -> list[KubeObject]:
    """The objects of a validated stack on ``target``; a missing image or notebook is a located error."""
    spec = loaded.stack
    image = target.require_image(loaded)
    agents = spec.agent_specs
    readers = {a.name for a in agents if uses_workspace(a)}
    claims_kept = bool(target.state_claim_size) or bool(readers and target.kb_claim is None)
    objects: list[KubeObject] = []
    first: tuple[tuple[str, str], ...] = ()
    if target.create_namespace:
        objects.append(namespace_object(spec.name, target.namespace, target.profile, keeps_state=claims_kept))
        first = (("namespace", objects[-1].address),)
    kb_claim = target.kb_claim
    if readers and kb_claim is None:
        kb_claim = kb_claim_name(spec.name)
        objects.append(kb_claim_object(spec.name, target.namespace, target.kb_claim_size, target.storage_class, first))
    specs = PackagedSpecs(spec, target.name, loaded.root, Path(str(KB_DIR)))
    consumers: dict[str, list[str]] = {a.name: [] for a in agents}
    for agent in agents:
        for upstream in upstreams(agent):
            consumers[upstream].append(agent.name)
    ports = {a.name: a.port for a in agents}
    ui = target.ui_ingress_from
    ui_agents = set(ui.agents) if ui is not None and ui.agents is not None else set(ports)
    start = start_after(spec)
    for agent in sorted(agents, key=lambda a: a.layer):
        port = ports[agent.name]
        assert port is not None  # the stack assigns every agent a port
        data = config_map_data(read_notebook(loaded, agent), specs.for_agent(agent))
        mounts = [("config_map", agent.name)]
        state_claim = None
        if target.state_claim_size:
            state_claim = state_claim_name(spec.name, agent.name)
            objects.append(state_claim_object(spec.name, agent.name, target.namespace, target.state_claim_size,
                                              target.storage_class, first))
            mounts.append(("persistent_volume_claim", state_address(agent.name)))
        reads_kb = agent.name in readers
        if reads_kb and target.kb_claim is None:
            mounts.append(("persistent_volume_claim", KB_ADDRESS))
        objects.append(config_map_object(spec.name, agent.name, target.namespace, data, first))
        objects.append(service_object(spec.name, agent.name, target.namespace, port, first))
        agent_ups = {u: ports[u] for u in upstreams(agent)}
        objects.append(network_policy_object(
            spec.name, agent.name, target.namespace, port, consumers[agent.name],
            agent_ups, ui if agent.name in ui_agents else None, first))  # type: ignore[arg-type]
        plan = PodPlan(
            stack=spec.name, namespace=target.namespace, image=image, profile=target.profile,
            env=container_env(agent, {u: service_url(spec.name, u, target.namespace, p)
                                      for u, p in agent_ups.items()}),  # type: ignore[arg-type]
            config_hash=data_hash(data), kb_claim=kb_claim if reads_kb else None, state_claim=state_claim,
            rollout_timeout=target.rollout_timeout,
        )
        after = tuple(("deployment", name) for name in start[agent.name])
        objects.append(deployment_object(agent, plan, (*first, *mounts, *after)))
    return objects


def agent_urls(loaded: LoadedStack, target: "KubernetesTarget") -> dict[str, str]:
    """Agent -> its in-cluster URL (its Service)."""
    return {a.name: service_url(loaded.stack.name, a.name, target.namespace, a.port)  # type: ignore[arg-type]
            for a in loaded.stack.agent_specs}

