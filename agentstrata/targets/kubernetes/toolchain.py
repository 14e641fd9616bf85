"""What the Kubernetes target builds from source: its provider, and the local cluster's binaries.

Each is a wrapper Go module under ``tools/`` with a committed go.sum, built by the same
mechanism as ``tofu`` (agentstrata.deploy.toolchain), with a stamp of its own: a pin change
rebuilds only the tool whose module it touches.
"""

from __future__ import annotations

from agentstrata.deploy.toolchain import GoTool, MirroredProvider

#: The only version of hashicorp/kubernetes that the Go module proxy serves (see its go.mod).
#: Its main package has no version variable to set.
KUBERNETES_PROVIDER = MirroredProvider(
    namespace="hashicorp",
    type="kubernetes",
    version="1.13.4",
    tool=GoTool(
        name="terraform-provider-kubernetes",
        module_dir="tools/terraform-provider-kubernetes",
        packages=("github.com/hashicorp/terraform-provider-kubernetes",),
        ldflags="-s -w",
    ),
)

KUBERNETES_VERSION = "v1.34.4"


def _kubernetes_version_ldflags(version: str) -> str:
    """What Kubernetes' own build sets (hack/lib/version.sh); without it /version says v0.0.0-master."""
    major, minor = version.removeprefix("v").split(".")[:2]
    values = {"gitVersion": version, "gitMajor": major, "gitMinor": minor, "gitTreeState": "clean"}
    return " ".join(
        f"-X {package}.{key}={value}"
        for key, value in values.items()
        for package in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version")
    )


#: The three control-plane commands in one `go build`: they share most of their code, which
#: then compiles once (about 10 minutes and 1.9 GB on 2 cores when the build cache is cold).
CONTROL_PLANE = GoTool(
    name="kubernetes",
    module_dir="tools/kubernetes",
    packages=(
        "k8s.io/kubernetes/cmd/kube-apiserver",
        "k8s.io/kubernetes/cmd/kube-controller-manager",
        "k8s.io/kubernetes/cmd/kube-scheduler",
    ),
    ldflags=f"-s -w {_kubernetes_version_ldflags(KUBERNETES_VERSION)}",
)

ETCD = GoTool(
    name="etcd",
    module_dir="tools/etcd",
    packages=("go.etcd.io/etcd/server/v3",),
    ldflags="-s -w",
)

KWOK = GoTool(
    name="kwok",
    module_dir="tools/kwok",
    packages=("sigs.k8s.io/kwok/cmd/kwok",),
    ldflags="-s -w",
)

#: What `strata cluster up` runs, smallest build first.
CLUSTER_TOOLS: tuple[GoTool, ...] = (ETCD, KWOK, CONTROL_PLANE)
