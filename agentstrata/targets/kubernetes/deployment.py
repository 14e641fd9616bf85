"""An agent's Deployment: one pod running ``strata serve`` for it, hardened, probed, and rolled on edits.

The pod mounts its ConfigMap's two keys at the wire paths (``/app/agents/<notebook>``,
``/app/stack.yaml``) through ``subPath``, an emptyDir at ``/tmp`` (also ``HOME``), its state at
``/var/lib/strata`` (an emptyDir, or its claim) and, for the agents that read it, the KB claim
read-only at ``/kb-conduit``. Requests equal limits, from the agent's ``resources``. Values the API
server would default are written out, so that a plan right after an apply shows no change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentstrata.schema import AgentSpec
from agentstrata.targets.kubernetes.config_map import NOTEBOOK_KEY, SPEC_KEY
from agentstrata.targets.kubernetes.environment import TMP_DIR
from agentstrata.targets.kubernetes.kube_object import KubeObject
from agentstrata.targets.kubernetes.naming import (
    CONFIG_HASH_ANNOTATION,
    CONTAINER,
    agent_labels,
    object_name,
    selector,
)
from agentstrata.targets.kubernetes.profiles import ProviderProfile
from agentstrata.targets.kubernetes.quantities import canonical_cpu, canonical_memory
from agentstrata.targets.kubernetes.security import container_security_context, pod_security_context
from agentstrata.targets.kubernetes.service import PORT_NAME
from agentstrata.wire import (
    HEALTH_PATH,
    KB_DIR,
    PROBE_TIMEOUT_SECONDS,
    READY_PATH,
    STACK_FILE,
    STATE_DIR,
    image_notebook_path,
    serve_args,
)

#: ``/tmp`` (and HOME) is bounded like the Docker target's tmpfs.
TMP_SIZE = "128Mi"
READINESS = {"initialDelaySeconds": 2, "periodSeconds": 5, "timeoutSeconds": PROBE_TIMEOUT_SECONDS,
             "successThreshold": 1, "failureThreshold": 3}
#: A notebook's first run may take a while; a hung host is restarted after a minute of failed checks.
LIVENESS = {"initialDelaySeconds": 30, "periodSeconds": 10, "timeoutSeconds": PROBE_TIMEOUT_SECONDS,
            "successThreshold": 1, "failureThreshold": 6}


@dataclass(frozen=True)
class PodPlan:
    """What one agent's Deployment needs besides the agent itself."""

    stack: str
    namespace: str
    image: str
    profile: ProviderProfile
    env: list[dict[str, str]]
    config_hash: str
    #: The KB claim, for an agent that reads the KB.
    kb_claim: str | None
    #: Its state claim, or None for an emptyDir.
    state_claim: str | None
    rollout_timeout: int


def deployment_object(agent: AgentSpec, plan: PodPlan, depends_on: tuple[tuple[str, str], ...]) -> KubeObject:
    name = object_name(plan.stack, agent.name)
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": plan.namespace, "labels": agent_labels(plan.stack, agent.name)},
        "spec": {
            "replicas": 1,
            "progressDeadlineSeconds": plan.rollout_timeout,
            "selector": {"matchLabels": selector(plan.stack, agent.name)},
            "strategy": _strategy(plan),
            "template": {
                "metadata": {"labels": agent_labels(plan.stack, agent.name),
                             "annotations": {CONFIG_HASH_ANNOTATION: plan.config_hash}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security_context(plan.profile),
                    "containers": [_container(agent, plan)],
                    "volumes": _volumes(name, plan),
                },
            },
        },
    }
    return KubeObject("deployment", agent.name, manifest, depends_on, agent=agent.name)


def _strategy(plan: PodPlan) -> dict[str, Any]:
    # A claim attaches to one node at a time: the old pod must go before the new one can mount it.
    if plan.kb_claim or plan.state_claim:
        return {"type": "Recreate"}
    return {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}


def _container(agent: AgentSpec, plan: PodPlan) -> dict[str, Any]:
    port = agent.port
    assert port is not None  # the stack assigns every agent a port
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": plan.image,
        "args": serve_args(str(STACK_FILE), agent.name, "0.0.0.0", port),
        "ports": [{"name": PORT_NAME, "containerPort": port, "protocol": "TCP"}],
        "env": plan.env,
        "readinessProbe": {"httpGet": _http_get(READY_PATH, port), **READINESS},
        "livenessProbe": {"httpGet": _http_get(HEALTH_PATH, port), **LIVENESS},
        "securityContext": container_security_context(),
        "volumeMounts": _mounts(agent, plan),
    }
    limits = {}
    if agent.resources.cpu is not None:
        limits["cpu"] = canonical_cpu(agent.resources.cpu)
    if agent.resources.memory is not None:
        limits["memory"] = canonical_memory(agent.resources.memory)
    if limits:
        # Requests equal to limits: the scheduler reserves what the agent may use.
        container["resources"] = {"limits": limits, "requests": dict(limits)}
    return container


def _http_get(path: str, port: int) -> dict[str, Any]:
    return {"path": path, "port": port, "scheme": "HTTP"}


def _mounts(agent: AgentSpec, plan: PodPlan) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = [
        {"name": "files", "mountPath": str(image_notebook_path(agent.implementation.path)), "subPath": NOTEBOOK_KEY,
         "readOnly": True},
        {"name": "files", "mountPath": str(STACK_FILE), "subPath": SPEC_KEY, "readOnly": True},
        {"name": "tmp", "mountPath": TMP_DIR},
        {"name": "state", "mountPath": str(STATE_DIR)},
    ]
    if plan.kb_claim is not None:
        mounts.append({"name": "kb", "mountPath": str(KB_DIR), "readOnly": True})
    return mounts


def _volumes(config_map: str, plan: PodPlan) -> list[dict[str, Any]]:
    state: dict[str, Any] = ({"persistentVolumeClaim": {"claimName": plan.state_claim}} if plan.state_claim
                             else {"emptyDir": {}})
    volumes: list[dict[str, Any]] = [
        {"name": "files", "configMap": {"name": config_map}},
        {"name": "tmp", "emptyDir": {"sizeLimit": TMP_SIZE}},
        {"name": "state", **state},
    ]
    if plan.kb_claim is not None:
        volumes.append({"name": "kb", "persistentVolumeClaim": {"claimName": plan.kb_claim, "readOnly": True}})
    return volumes
