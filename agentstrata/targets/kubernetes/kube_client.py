"""A small client of the Kubernetes API, configured from a kubeconfig: what status, readiness and recovery need.

It reads the kubeconfig the provider reads (its path and context): the server, its CA, and the
user's bearer token, token file, client certificate, or exec credential plugin (as EKS, GKE and
AKS configure). Terraform does the applying; this client only reads objects and deletes leftovers.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from agentstrata.errors import StrataError

_EXEC_TIMEOUT_S = 60

#: Kind -> (API group path, resource): where the API serves the kinds the target writes.
KIND_PATHS = {
    "namespace": ("/api/v1", "namespaces"),
    "config_map": ("/api/v1", "configmaps"),
    "service": ("/api/v1", "services"),
    "persistent_volume_claim": ("/api/v1", "persistentvolumeclaims"),
    "network_policy": ("/apis/networking.k8s.io/v1", "networkpolicies"),
    "deployment": ("/apis/apps/v1", "deployments"),
    "pod": ("/api/v1", "pods"),
}


def object_path(kind: str, namespace: str | None, name: str | None = None) -> str:
    """``deployment``, ``ns``, ``x`` -> ``/apis/apps/v1/namespaces/ns/deployments/x`` (no name: the collection)."""
    group, resource = KIND_PATHS[kind]
    path = f"{group}/{resource}" if namespace is None else f"{group}/namespaces/{namespace}/{resource}"
    return path if name is None else f"{path}/{name}"


@dataclass(frozen=True)
class ClusterAccess:
    """Where the API server is and how to talk to it, as a kubeconfig context says."""

    server: str
    context: str
    ssl: ssl.SSLContext | bool
    headers: dict[str, str]

    def client(self, timeout: float = 10.0) -> httpx.Client:
        return httpx.Client(base_url=self.server, verify=self.ssl, headers=self.headers, timeout=timeout)


def read_kubeconfig(path: str, context: str | None = None) -> ClusterAccess:
    """The access a kubeconfig gives through ``context`` (default: its current context)."""
    file = Path(os.path.expanduser(path))
    try:
        config = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StrataError(f"cannot read the kubeconfig {file}: {exc.strerror}; set KUBECONFIG to yours "
                          "(`strata cluster up` writes .strata/cluster/kubeconfig)", exit_code=1) from None
    except yaml.YAMLError as exc:
        raise StrataError(f"the kubeconfig {file} is not YAML: {exc}", exit_code=1) from None
    if not isinstance(config, dict):
        raise StrataError(f"the kubeconfig {file} is not a kubeconfig (no mapping at its top)", exit_code=1)
    name = context or config.get("current-context")
    if not name:
        raise StrataError(f"the kubeconfig {file} has no current-context; name one with the target's `context`",
                          exit_code=1)
    chosen = _named(config, "contexts", name, file).get("context", {})
    cluster = _named(config, "clusters", chosen.get("cluster"), file).get("cluster", {})
    user = _named(config, "users", chosen.get("user"), file).get("user", {}) if chosen.get("user") else {}
    server = cluster.get("server")
    if not server:
        raise StrataError(f"the kubeconfig {file}: cluster {chosen.get('cluster')!r} has no server", exit_code=1)
    base = file.parent
    verify: ssl.SSLContext | bool
    if cluster.get("insecure-skip-tls-verify"):
        verify = False
    else:
        verify = ssl.create_default_context(cadata=_pem(cluster, "certificate-authority", base))
    if "exec" in user:
        status = _exec_credential(user["exec"], file)
        token, certificate, key = status.get("token"), status.get("clientCertificateData"), status.get("clientKeyData")
    else:
        token = user.get("token")
        if token is None and user.get("tokenFile"):
            token = _read(base / os.path.expanduser(user["tokenFile"])).strip()
        certificate, key = _pem(user, "client-certificate", base), _pem(user, "client-key", base)
    if certificate and isinstance(verify, ssl.SSLContext):
        _load_client_certificate(verify, certificate, key or "")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return ClusterAccess(server.rstrip("/"), name, verify, headers)


def _named(config: dict[str, Any], section: str, name: str | None, file: Path) -> dict[str, Any]:
    for entry in config.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    raise StrataError(f"the kubeconfig {file} has no {section[:-1]} {name!r}", exit_code=1)


def _pem(section: dict[str, Any], key: str, base: Path) -> str | None:
    """``<key>-data`` (base64) or ``<key>`` (a file) of a kubeconfig section, as PEM text."""
    data = section.get(f"{key}-data")
    if data:
        return base64.b64decode(data).decode("ascii")
    path = section.get(key)
    return _read(base / os.path.expanduser(path)) if path else None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StrataError(f"cannot read {path}, which the kubeconfig names: {exc.strerror}", exit_code=1) from None


def _exec_credential(spec: dict[str, Any], file: Path) -> dict[str, Any]:
    """Run a kubeconfig's exec credential plugin; its answer's ``status`` (token or client certificate)."""
    command = [spec.get("command", ""), *(spec.get("args") or [])]
    env = {**os.environ, **{e["name"]: e["value"] for e in spec.get("env") or []}}
    env["KUBERNETES_EXEC_INFO"] = json.dumps({"apiVersion": spec.get("apiVersion"), "kind": "ExecCredential",
                                              "spec": {"interactive": False}})
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=_EXEC_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StrataError(f"the kubeconfig {file}: its credential plugin `{command[0]}` did not run: {exc}",
                          exit_code=1) from None
    if done.returncode != 0:
        raise StrataError(f"the kubeconfig {file}: its credential plugin `{command[0]}` failed: "
                          f"{done.stderr.strip()[-500:]}", exit_code=1)
    try:
        return json.loads(done.stdout)["status"]
    except (ValueError, KeyError, TypeError):
        raise StrataError(f"the kubeconfig {file}: its credential plugin `{command[0]}` answered no "
                          "ExecCredential status", exit_code=1) from None


def _load_client_certificate(context: ssl.SSLContext, certificate: str, key: str) -> None:
    # The ssl module loads a certificate chain from files only: written to a private folder, read, removed.
    with tempfile.TemporaryDirectory(prefix="strata-kube-") as folder:
        chain = Path(folder) / "client.pem"
        chain.touch(mode=0o600)
        chain.write_text(certificate + "\n" + key, encoding="ascii")
        context.load_cert_chain(chain)


def api_error(response: httpx.Response, what: str) -> StrataError:
    """A failed API call as a message: what was asked, the status, and the API server's own message."""
    try:
        message = response.json().get("message") or response.text
    except ValueError:
        message = response.text
    return StrataError(f"{what}: HTTP {response.status_code}: {message.strip()[:500]}", exit_code=1)
