"""``strata cluster``: a local Kubernetes control plane on 127.0.0.1 for tests and demos.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler, built from source, with a
kwok fake Node standing in for a kubelet: Deployments become available, and nothing runs
inside their pods.
"""
