"""The Kubernetes target: agents as Deployments on a cluster (its resources are not built yet)."""
