"""The Kubernetes target: agents as Deployments on a cluster, through hashicorp/kubernetes (lean resource classes)."""

from agentstrata.targets.kubernetes.target import KubernetesTarget

__all__ = ["KubernetesTarget"]
