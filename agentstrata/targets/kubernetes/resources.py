"""The Kubernetes target's Terraform resources: the stack's objects (:mod:`.stack_objects`) as lean resources.

Per stack: the provider (pinned per profile), the Namespace and the KB claim when the target creates
them. Per agent: ``kubernetes_config_map.<agent>``, ``kubernetes_service.<agent>``,
``kubernetes_network_policy.<agent>``, ``kubernetes_deployment.<agent>`` (``_v1`` types in profile "2"),
its state claim ``<agent>_state`` on request, and ``output.<agent>_url``. Imported only when a stack
renders: cdktf loads with it, no provider bindings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cdktf import TerraformOutput

from agentstrata.targets.kubernetes.created_resources import KubernetesAgentResources, KubernetesStackResources
from agentstrata.targets.kubernetes.lean_resources import CLASSES, KubernetesProvider, KubernetesResource
from agentstrata.targets.kubernetes.namespace import ADDRESS as NAMESPACE_ADDRESS
from agentstrata.targets.kubernetes.pvc import KB_ADDRESS, state_address
from agentstrata.targets.kubernetes.stack_objects import agent_urls, stack_objects

if TYPE_CHECKING:
    from agentstrata.constructs.agent_stack import AgentStack
    from agentstrata.targets.kubernetes.target import KubernetesTarget

#: Seconds beyond the rollout's own deadline that Terraform waits before it gives up on a Deployment.
_TIMEOUT_MARGIN_S = 60


def render_kubernetes(target: "KubernetesTarget", stack: "AgentStack") -> None:
    loaded = stack.source.loaded
    objects = stack_objects(loaded, target)
    # Stack-wide ids hold a '.', which no agent name can: agents' constructs are named after them.
    provider = KubernetesProvider(stack, "kubernetes.provider", profile=target.profile,
                                  config_path=target.kubeconfig, config_context=target.context)
    created: dict[tuple[str, str], KubernetesResource] = {}
    for obj in objects:
        scope = stack.agents[obj.agent] if obj.agent else stack
        construct_id = obj.kind if obj.agent else f"kubernetes.{obj.address}"
        created[(obj.kind, obj.address)] = CLASSES[obj.kind](
            scope, construct_id, obj, profile=target.profile, extras=_extras(target, obj.kind),
            depends_on=[created[needed] for needed in obj.depends_on],
        )
    urls = agent_urls(loaded, target)
    for agent in loaded.stack.agent_specs:
        construct = stack.agents[agent.name]
        url = TerraformOutput(construct, "url", value=urls[agent.name],
                              description=f"URL of agent {agent.name} inside the cluster")
        url.override_logical_id(f"{agent.name}_url")
        construct.attach(KubernetesAgentResources(
            config_map=created[("config_map", agent.name)],  # type: ignore[arg-type]
            deployment=created[("deployment", agent.name)],  # type: ignore[arg-type]
            service=created[("service", agent.name)],  # type: ignore[arg-type]
            network_policy=created[("network_policy", agent.name)],  # type: ignore[arg-type]
            url=url,
            state_claim=created.get(("persistent_volume_claim", state_address(agent.name))),  # type: ignore[arg-type]
        ))
    stack.attach(KubernetesStackResources(
        provider=provider,
        namespace=created.get(("namespace", NAMESPACE_ADDRESS)),  # type: ignore[arg-type]
        kb_claim=created.get(("persistent_volume_claim", KB_ADDRESS)),  # type: ignore[arg-type]
    ))


def _extras(target: "KubernetesTarget", kind: str) -> dict[str, Any]:
    """What the provider takes besides the object: bounded waits."""
    if kind == "deployment":
        timeout = f"{target.rollout_timeout + _TIMEOUT_MARGIN_S}s"
        return {"wait_for_rollout": target.wait_for_rollout,
                "timeouts": {"create": timeout, "update": timeout, "delete": timeout}}
    if kind == "persistent_volume_claim":
        # A claim of a WaitForFirstConsumer class binds only once a pod uses it: the rollout is what waits.
        return {"wait_until_bound": False}
    return {}
