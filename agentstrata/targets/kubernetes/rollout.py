"""Whether each agent's Deployment is available, read from the API server.

Agents' URLs are in-cluster: the deploying machine cannot ``GET /ready`` on them. The kubelet can:
a Deployment is available when its pods pass the readiness probe on ``/ready``. So a deploy waits
for availability through the API, and says why a Deployment is not available yet (a pod that cannot
be scheduled or pulled, or pods the namespace's Pod Security level rejects).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from agentstrata.errors import StrataError
from agentstrata.targets.kubernetes.kube_client import api_error, object_path
from agentstrata.targets.kubernetes.naming import CONTAINER

_POLL_S = 1.0


@dataclass(frozen=True)
class DeploymentState:
    """A Deployment as the API server reports it; ``problem`` is why it is not available, when known."""

    name: str
    exists: bool
    replicas: int = 0
    available: int = 0
    current: bool = False
    restarts: int = 0
    problem: str | None = None

    @property
    def ready(self) -> bool:
        return self.exists and self.current and self.replicas > 0 and self.available >= self.replicas

    def describe(self) -> str:
        if not self.exists:
            return "absent"
        counts = f"{self.available}/{self.replicas}"
        if self.ready:
            return f"available {counts}"
        return f"not available {counts}" + (f": {self.problem}" if self.problem else "")


def deployment_state(api: httpx.Client, namespace: str, name: str) -> DeploymentState:
    response = api.get(object_path("deployment", namespace, name))
    if response.status_code == 404:
        return DeploymentState(name, exists=False)
    if response.status_code != 200:
        raise api_error(response, f"reading Deployment {namespace}/{name}")
    deployment = response.json()
    spec, status = deployment.get("spec", {}), deployment.get("status", {})
    replicas = spec.get("replicas", 1)
    # The status describes the current spec only once the controller has seen it.
    current = (status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 0)
               and status.get("updatedReplicas", 0) >= replicas)
    pods = _pods(api, namespace, spec.get("selector", {}).get("matchLabels", {}))
    restarts = sum(c.get("restartCount", 0) for pod in pods for c in pod.get("status", {}).get("containerStatuses") or [])
    available = status.get("availableReplicas", 0)
    problem = None if current and available >= replicas else _problem(status, pods)
    return DeploymentState(name, True, replicas, available, current, restarts, problem)


def wait_until_available(api: httpx.Client, namespace: str, names: Mapping[str, str], timeout: float,
                         on_progress: Callable[[dict[str, DeploymentState]], None] = lambda states: None,
                         hint: str = "") -> dict[str, DeploymentState]:
    """Agent -> its Deployment's state once every one is available; an error naming the laggards at ``timeout``."""
    started = time.monotonic()
    while True:
        states = {agent: deployment_state(api, namespace, name) for agent, name in names.items()}
        on_progress(states)
        if all(state.ready for state in states.values()):
            return states
        if time.monotonic() - started >= timeout:
            laggards = ", ".join(f"{agent} (Deployment {namespace}/{state.name}: {state.describe()})"
                                 for agent, state in states.items() if not state.ready)
            raise StrataError(f"not available after {timeout:.0f} s: {laggards}." + (f"\n{hint}" if hint else ""),
                              exit_code=1)
        time.sleep(_POLL_S)


def _pods(api: httpx.Client, namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    selector = ",".join(f"{key}={value}" for key, value in labels.items())
    response = api.get(object_path("pod", namespace), params={"labelSelector": selector})
    if response.status_code != 200:
        raise api_error(response, f"listing the pods of {namespace} ({selector})")
    return response.json().get("items", [])


def _problem(status: dict[str, Any], pods: list[dict[str, Any]]) -> str | None:
    """The most telling reason: a failed replica (Pod Security rejections land here), a waiting container,
    an unschedulable pod, or the rollout's own condition."""
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    failure = conditions.get("ReplicaFailure")
    if failure and failure.get("status") == "True":
        return failure.get("message")
    for pod in pods:
        for container in pod.get("status", {}).get("containerStatuses") or []:
            waiting = container.get("state", {}).get("waiting")
            if container.get("name") == CONTAINER and waiting and waiting.get("reason") != "ContainerCreating":
                return f"{waiting.get('reason')}: {waiting.get('message', '')}".rstrip(": ")
        for condition in pod.get("status", {}).get("conditions") or []:
            if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
                return condition.get("message")
    progressing = conditions.get("Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return progressing.get("message")
    return None
