"""Which Compose implementation this machine has: the v2 plugin (`docker compose`) or v1 (`docker-compose`).

Debian 12 ships docker-compose 1.29 (Python) and no v2 plugin; either reads the files Strata writes,
which use only what both support (the Compose specification without ``version:``, long-form
``depends_on`` with ``condition: service_healthy``).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from typing import Mapping

from agentstrata.errors import StrataError


@dataclass(frozen=True)
class ComposeTool:
    command: tuple[str, ...]
    version: str


def find_compose(env: Mapping[str, str] | None = None) -> ComposeTool:
    """The first Compose that answers ``version``; an error says how to install one."""
    candidates = [("docker", "compose"), ("docker-compose",)]
    for command in candidates:
        if shutil.which(command[0], path=(env or {}).get("PATH")) is None:
            continue
        try:
            done = subprocess.run([*command, "version", "--short"], capture_output=True, text=True,
                                  env=env, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0 and done.stdout.strip():
            return ComposeTool(command, done.stdout.strip())
    raise StrataError(
        "no Docker Compose found (neither `docker compose` nor `docker-compose`); "
        "install Debian's `docker-compose` package: apt-get install docker-compose",
        exit_code=1,
    )
