"""Reading a kubeconfig the way the provider does: contexts, CAs, tokens, client certificates, exec plugins."""

from __future__ import annotations

import base64
import ssl
import sys
from pathlib import Path

import pytest
import yaml

from agentstrata.cluster.certificates import ensure_certificates
from agentstrata.errors import StrataError
from agentstrata.targets.kubernetes.kube_client import object_path, read_kubeconfig


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A CA and a certificate it signed, made with openssl (as `strata cluster up` makes them)."""
    return ensure_certificates(tmp_path_factory.mktemp("pki"))


def write(path: Path, contexts: dict[str, dict], current: str | None = "a") -> Path:
    """A kubeconfig whose context X uses cluster X and user X, as ``contexts[X] = {"cluster": ..., "user": ...}``."""
    config = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": name, "cluster": c["cluster"]} for name, c in contexts.items()],
        "users": [{"name": name, "user": c["user"]} for name, c in contexts.items()],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}} for name in contexts],
    }
    if current:
        config["current-context"] = current
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_current_context_gives_the_server_its_ca_and_the_bearer_token(tmp_path: Path, pki):  # noqa: ANN001
    ca = base64.b64encode(pki.ca_cert.read_bytes()).decode()
    path = write(tmp_path / "config", {
        "a": {"cluster": {"server": "https://127.0.0.1:6443/", "certificate-authority-data": ca}, "user": {"token": "t"}},
        "b": {"cluster": {"server": "https://b:6443", "insecure-skip-tls-verify": True}, "user": {}},
    })
    access = read_kubeconfig(str(path))
    assert (access.server, access.context, access.headers) == ("https://127.0.0.1:6443", "a",
                                                               {"Authorization": "Bearer t"})
    assert isinstance(access.ssl, ssl.SSLContext) and access.ssl.verify_mode == ssl.CERT_REQUIRED
    other = read_kubeconfig(str(path), "b")
    assert (other.server, other.ssl, other.headers) == ("https://b:6443", False, {})


def test_files_named_by_the_kubeconfig_are_relative_to_it(tmp_path: Path, pki):  # noqa: ANN001
    (tmp_path / "token").write_text("from-file\n")
    (tmp_path / "ca.crt").write_bytes(pki.ca_cert.read_bytes())
    path = write(tmp_path / "config", {"a": {"cluster": {"server": "https://x", "certificate-authority": "ca.crt"},
                                             "user": {"tokenFile": "token"}}})
    assert read_kubeconfig(str(path)).headers == {"Authorization": "Bearer from-file"}


def test_a_client_certificate_is_loaded_into_the_tls_context(tmp_path: Path, pki):  # noqa: ANN001
    path = write(tmp_path / "config", {"a": {
        "cluster": {"server": "https://x", "certificate-authority": str(pki.ca_cert)},
        "user": {"client-certificate": str(pki.serving_cert), "client-key": str(pki.serving_key)}}})
    access = read_kubeconfig(str(path))
    assert access.headers == {} and isinstance(access.ssl, ssl.SSLContext)


def test_an_exec_credential_plugin_is_run_for_its_token(tmp_path: Path, pki):  # noqa: ANN001
    plugin = tmp_path / "plugin.py"
    plugin.write_text("import json, os\nprint(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', "
                      "'kind': 'ExecCredential', 'status': {'token': os.environ['TEAM'] + '-' + "
                      "json.loads(os.environ['KUBERNETES_EXEC_INFO'])['kind']}}))\n")
    path = write(tmp_path / "config", {"a": {
        "cluster": {"server": "https://x", "certificate-authority": str(pki.ca_cert)},
        "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
                          "args": [str(plugin)], "env": [{"name": "TEAM", "value": "ops"}]}}}})
    assert read_kubeconfig(str(path)).headers == {"Authorization": "Bearer ops-ExecCredential"}


def test_a_failing_exec_plugin_is_an_error_with_its_message(tmp_path: Path, pki):  # noqa: ANN001
    path = write(tmp_path / "config", {"a": {
        "cluster": {"server": "https://x", "certificate-authority": str(pki.ca_cert)},
        "user": {"exec": {"command": sys.executable, "args": ["-c", "import sys; sys.exit('not logged in')"]}}}})
    with pytest.raises(StrataError, match=f"^the kubeconfig {path}: its credential plugin `{sys.executable}` "
                                          "failed: not logged in$"):
        read_kubeconfig(str(path))


def test_a_missing_kubeconfig_says_how_to_get_one(tmp_path: Path):
    with pytest.raises(StrataError) as caught:
        read_kubeconfig(str(tmp_path / "nope"))
    assert caught.value.message == (f"cannot read the kubeconfig {tmp_path / 'nope'}: No such file or directory; "
                                    "set KUBECONFIG to yours (`strata cluster up` writes .strata/cluster/kubeconfig)")


def test_an_unknown_context_is_named(tmp_path: Path):
    path = write(tmp_path / "config", {"a": {"cluster": {"server": "https://x"}, "user": {}}})
    with pytest.raises(StrataError, match=r"has no context 'lab'$"):
        read_kubeconfig(str(path), "lab")
    path = write(tmp_path / "config", {"a": {"cluster": {"server": "https://x"}, "user": {}}}, current=None)
    with pytest.raises(StrataError, match=r"has no current-context; name one with the target's `context`$"):
        read_kubeconfig(str(path))


def test_object_paths_follow_the_api_groups():
    assert object_path("deployment", "ns", "x") == "/apis/apps/v1/namespaces/ns/deployments/x"
    assert object_path("network_policy", "ns") == "/apis/networking.k8s.io/v1/namespaces/ns/networkpolicies"
    assert object_path("namespace", None, "ns") == "/api/v1/namespaces/ns"
    assert object_path("config_map", "ns") == "/api/v1/namespaces/ns/configmaps"
