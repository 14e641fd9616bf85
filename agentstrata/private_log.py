"""Log files readable by their owner only: a log can hold what a command printed, secrets included."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO


def open_private_log(log_file: Path) -> BinaryIO:
    """``log_file`` for appending, readable by its owner only (0600, even if it existed before)."""
    descriptor = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "ab")
