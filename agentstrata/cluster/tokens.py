"""The admin bearer token: the API server's token file and the kubeconfig share it.

Every component and the user act as ``admin`` in ``system:masters``: this cluster is a single
user's, on 127.0.0.1, for tests and demos.
"""

from __future__ import annotations

import secrets
from pathlib import Path

ADMIN_USER = "admin"


def read_admin_token(token_file: Path) -> str | None:
    try:
        return token_file.read_text(encoding="utf-8").split(",", 1)[0]
    except OSError:
        return None


def ensure_admin_token(token_file: Path) -> str:
    """The admin token, made and written to the API server's ``--token-auth-file`` if missing."""
    existing = read_admin_token(token_file)
    if existing:
        return existing
    token = secrets.token_urlsafe(32)
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.touch(mode=0o600)
    # The format of --token-auth-file: token,user,uid,"group1,group2".
    token_file.write_text(f'{token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n', encoding="utf-8")
    return token
