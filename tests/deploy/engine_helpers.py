"""What the Docker end-to-end tests share: the engine's CLI, free ports, copies of the project and the KB."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: What a copy of the checkout leaves out: builds, caches and state of this machine.
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "node_modules", ".strata", "cdktf.out", "__pycache__",
                                     "__marimo__", ".pytest_cache", ".hypothesis", "docker-compose.generated*")


def docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"docker {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def copy_kb(destination: Path) -> None:
    """The sample KB, readable by the containers' uid 10001."""
    shutil.copytree(ROOT / "stacks" / "sample-kb", destination)
    for folder, _, files in os.walk(destination):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(Path(folder) / name, 0o644)


def left_on_engine(stack: str) -> list[str]:
    """Every container, network, volume and image of ``stack`` on the engine."""
    containers = docker("ps", "-a", "--filter", f"label=strata.stack={stack}", "--format", "{{.Names}}").split()
    networks = docker("network", "ls", "--filter", f"name=^{stack}$", "--format", "{{.Name}}").split()
    volumes = [v for v in docker("volume", "ls", "--format", "{{.Name}}").split() if v.startswith(f"{stack}-")]
    images = [i for i in docker("images", "--format", "{{.Repository}}").split() if f"-{stack}-" in i]
    return [*containers, *networks, *volumes, *images]
