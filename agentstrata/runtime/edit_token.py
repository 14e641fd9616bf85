"""The token that guards an agent's marimo UI in edit mode, and where an operator finds it.

The token itself is never logged: the log names where it is (the environment variable, or a file
readable by the agent's user only) and a short fingerprint, to tell two tokens apart.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from agentstrata.errors import StrataError
from agentstrata.wire import EDIT_TOKEN_ENV

#: The file in the agent's state directory holding a generated token (kept across restarts).
TOKEN_FILE_NAME = "edit-token"


@dataclass(frozen=True)
class EditToken:
    value: str
    #: Where an operator reads it: for the log, instead of the token.
    where: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.value.encode()).hexdigest()[:8]


def edit_token(configured: str | None, state_dir: Path | None) -> EditToken:
    """As configured, else ``$STRATA_EDIT_TOKEN``, else the one kept in the state directory (made once)."""
    if configured:
        return EditToken(configured, "the host's options")
    from_env = os.environ.get(EDIT_TOKEN_ENV)
    if from_env:
        return EditToken(from_env, EDIT_TOKEN_ENV)
    if state_dir is None:
        raise StrataError(f"edit mode needs a token: set {EDIT_TOKEN_ENV}")
    file = state_dir / TOKEN_FILE_NAME
    return EditToken(_kept_token(file), str(file))


def _kept_token(file: Path) -> str:
    """The token in ``file``, or a new random one written there, readable by its owner only."""
    try:
        kept = file.read_text().strip()
    except FileNotFoundError:
        kept = ""
    except OSError as exc:
        raise StrataError(f"edit mode: cannot read the token in {file}: {exc.strerror}; "
                          f"set {EDIT_TOKEN_ENV}") from None
    if kept:
        return kept
    token = secrets.token_urlsafe(24)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # O_CREAT's mode applies only to a new file
        with os.fdopen(descriptor, "w") as handle:
            handle.write(f"{token}\n")
    except OSError as exc:
        raise StrataError(f"edit mode: cannot keep a generated token in {file}: {exc.strerror}; "
                          f"set {EDIT_TOKEN_ENV}") from None
    return token
