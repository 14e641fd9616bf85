"""The names and labels the Kubernetes target gives a stack's objects, and the URLs agents reach each other at.

Every object of an agent is called ``<stack>-<agent>`` (DNS labels: ``kb-conduit-kb-base``), so that
several stacks can share a namespace; the namespace itself is a prop. Every object carries
``strata.stack`` (how an interrupted run's leftovers are found) and ``app.kubernetes.io/managed-by``;
an agent's also ``strata.agent``, which with ``strata.stack`` is its pods' selector.
"""

from __future__ import annotations

from agentstrata.schema import dns_label

#: Longest name of a Service (a DNS-1035 label): every agent object is named alike.
MAX_NAME = 63
STACK_LABEL = "strata.stack"
AGENT_LABEL = "strata.agent"
MANAGED_BY = {"app.kubernetes.io/managed-by": "strata"}
#: The pod-template annotation holding the hash of the agent's notebook and spec: an edit rolls that Deployment.
CONFIG_HASH_ANNOTATION = "strata.config-hash"
#: The one container of an agent's pods.
CONTAINER = "agent"


def object_name(stack: str, agent: str) -> str:
    """``kb-conduit`` + ``kb_base`` -> ``kb-conduit-kb-base``: the agent's ConfigMap, Deployment, Service, policy."""
    return f"{dns_label(stack)}-{dns_label(agent)}"


def state_claim_name(stack: str, agent: str) -> str:
    return f"{object_name(stack, agent)}-state"


def kb_claim_name(stack: str) -> str:
    """The KB claim the target creates when the stack brings none."""
    return f"{dns_label(stack)}-kb"


def stack_labels(stack: str) -> dict[str, str]:
    return {**MANAGED_BY, STACK_LABEL: dns_label(stack)}


def selector(stack: str, agent: str) -> dict[str, str]:
    """What selects an agent's pods (its Deployment's selector, its Service's, its peers' policies)."""
    return {STACK_LABEL: dns_label(stack), AGENT_LABEL: dns_label(agent)}


def agent_labels(stack: str, agent: str) -> dict[str, str]:
    return {**MANAGED_BY, **selector(stack, agent)}


def service_url(stack: str, agent: str, namespace: str, port: int) -> str:
    """The agent's URL inside the cluster. ``<service>.<namespace>.svc`` resolves through the pods' DNS
    search path whatever the cluster domain is."""
    return f"http://{object_name(stack, agent)}.{namespace}.svc:{port}"
