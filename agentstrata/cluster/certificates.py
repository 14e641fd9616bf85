"""The cluster's keys and certificates, made with openssl: a CA of its own, nothing from outside.

- a CA, which signs the serving certificate and is the cluster-signing CA of the controller manager;
- one serving certificate for every component's HTTPS port, valid for 127.0.0.1 and for the
  names and service IP (10.0.0.1, the first of the service range) that pods use to reach the API;
- the service-account signing key pair.

Made once and kept: a later ``up`` reuses them, so kubeconfigs handed out stay valid.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from agentstrata.errors import StrataError

_DAYS = "3650"
_SUBJECT_ALT_NAMES = (
    "IP:127.0.0.1, IP:10.0.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, "
    "DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local"
)


@dataclass(frozen=True)
class Certificates:
    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def serving_cert(self) -> Path:
        return self.folder / "serving.crt"

    @property
    def serving_key(self) -> Path:
        return self.folder / "serving.key"

    @property
    def service_account_key(self) -> Path:
        return self.folder / "service-account.key"

    @property
    def service_account_public_key(self) -> Path:
        return self.folder / "service-account.pub"


def ensure_certificates(folder: Path) -> Certificates:
    """The cluster's certificates, made where missing (a new CA re-issues the serving certificate)."""
    certs = Certificates(folder)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    new_ca = not (certs.ca_cert.is_file() and certs.ca_key.is_file())
    if new_ca:
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", certs.ca_key, "-out", certs.ca_cert, "-days", _DAYS, "-subj", "/CN=strata-cluster-ca",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    if new_ca or not (certs.serving_cert.is_file() and certs.serving_key.is_file()):
        _issue_serving_certificate(certs)
    if not (certs.service_account_key.is_file() and certs.service_account_public_key.is_file()):
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-out", certs.service_account_key)
        _openssl("pkey", "-in", certs.service_account_key, "-pubout", "-out", certs.service_account_public_key)
    return certs


def _issue_serving_certificate(certs: Certificates) -> None:
    request = certs.folder / "serving.csr"
    extensions = certs.folder / "serving.ext"
    extensions.write_text(
        "basicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature, keyEncipherment\n"
        "extendedKeyUsage = serverAuth\n"
        f"subjectAltName = {_SUBJECT_ALT_NAMES}\n",
        encoding="utf-8",
    )
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", certs.serving_key, "-out", request, "-subj", "/CN=kube-apiserver")
    _openssl("x509", "-req", "-in", request, "-CA", certs.ca_cert, "-CAkey", certs.ca_key, "-CAcreateserial",
             "-days", _DAYS, "-extfile", extensions, "-out", certs.serving_cert)
    request.unlink()
    extensions.unlink()


def _openssl(*args: str | Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise StrataError("`strata cluster up` makes its certificates with openssl, which is not installed.\n"
                          "  What to do: install it (Debian: `apt-get install openssl`).")
    done = subprocess.run([openssl, *map(str, args)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise StrataError(f"`openssl {args[0]}` failed while making the cluster's certificates:\n"
                          f"{done.stderr.strip()}")
