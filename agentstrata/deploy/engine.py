"""A running Docker engine: Debian's docker.io, started here when we are allowed to.

Measured in this sandbox: dockerd 20.10 starts with its defaults (overlay2, cgroupfs on
cgroup v1, iptables-nft), publishes ports on 127.0.0.1 and resolves container names on a
user-defined bridge network. The one fallback kept is ``--iptables=false``, for kernels
without netfilter, where dockerd cannot start otherwise; port publishing then still works
through docker-proxy. The storage driver needs no fallback: with none given, dockerd itself
falls back to vfs when overlay2 cannot work.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from agentstrata.deploy.layout import Layout
from agentstrata.deploy.steps import Step, StepRunner
from agentstrata.errors import StrataError
from agentstrata.private_log import open_private_log

_DEFAULT_SOCKET = "unix:///var/run/docker.sock"
_START_TIMEOUT_S = 60.0
_HINT = "read the daemon's log; `docker info` says whether the engine answers"


def ensure_engine(layout: Layout, runner: StepRunner) -> str:
    """Make sure ``docker info`` answers; return the engine's version."""
    with runner.step("Docker engine", "docker-engine", _HINT) as step:
        answer = docker_info()
        if answer.returncode == 0:
            step.outcome = f"running, {answer.stdout.strip()}"
            return answer.stdout.strip()
        step.log(answer.stdout + answer.stderr)
        host = os.environ.get("DOCKER_HOST", _DEFAULT_SOCKET)
        if host != _DEFAULT_SOCKET:
            raise StrataError(
                f"The Docker engine at DOCKER_HOST={host} does not answer: {_first_line(answer)}\n"
                "  What to do: start that engine, or unset DOCKER_HOST to use (and let Strata start) the local one."
            )
        if os.geteuid() != 0:
            raise StrataError(
                f"The Docker engine does not answer: {_first_line(answer)}\n"
                "  What to do: start it (`sudo systemctl start docker`, or `sudo dockerd &` where there is no systemd),\n"
                "  and let your user reach it (`sudo usermod -aG docker $USER`, then log in again).\n"
                "  With no engine installed: `sudo apt-get install -y docker.io`."
            )
        if shutil.which("dockerd") is None or shutil.which("docker") is None:
            _install_docker_io(step)
        version = _start_dockerd(layout, step)
        step.outcome = f"started dockerd {version}, log in {layout.logs / 'dockerd.log'}"
        return version


def docker_info() -> subprocess.CompletedProcess[str]:
    """``docker info`` reduced to the server version: exit 0 only when the engine answers."""
    docker = shutil.which("docker")
    if docker is None:
        return subprocess.CompletedProcess(["docker"], 127, "", "docker: command not found")
    try:
        return subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=30, check=False
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess([docker], 124, "", "docker info: no answer within 30 s")


def _install_docker_io(step: Step) -> None:
    if shutil.which("apt-get") is None:
        raise StrataError(
            "Docker is not installed and this is not a Debian-based system.\n"
            "  What to do: install Docker Engine (https://docs.docker.com/engine/install/), then re-run."
        )
    step.detail("apt-get install docker.io")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    step.run(["apt-get", "update", "-qq"], env=env, timeout=600)
    step.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "docker.io"], env=env, timeout=900)


def _start_dockerd(layout: Layout, step: Step) -> str:
    """Start dockerd in the background (it outlives us) and wait until it answers."""
    log_path = layout.logs / "dockerd.log"
    flags: list[str] = []
    while True:
        # Only this attempt's part of the log tells why this attempt failed.
        offset = log_path.stat().st_size if log_path.exists() else 0
        step.log(f"$ dockerd {' '.join(flags)}    (log: {log_path})")
        with open_private_log(log_path) as log:
            proc = subprocess.Popen(
                ["dockerd", *flags],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started = time.monotonic()
        while time.monotonic() - started < _START_TIMEOUT_S:
            answer = docker_info()
            if answer.returncode == 0:
                return answer.stdout.strip()
            if proc.poll() is not None:
                break
            step.detail(f"waiting for dockerd to answer ({time.monotonic() - started:.0f} s)")
            time.sleep(0.5)
        else:
            raise StrataError(
                f"dockerd was started (pid {proc.pid}) but did not answer within {_START_TIMEOUT_S:.0f} s.\n"
                f"  Its log: {log_path}\n"
                f"  What to do: read the log's last lines; stop it with `kill {proc.pid}` before trying again."
            )
        with log_path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", errors="replace")
        if "iptables" in text and "--iptables=false" not in flags:
            # No netfilter in this kernel: run without NAT rules (docker-proxy still publishes ports).
            flags.append("--iptables=false")
            continue
        tail = "\n".join(f"    {line}" for line in text.splitlines()[-10:])
        raise StrataError(
            f"dockerd exited with status {proc.returncode} while starting.\n{tail}\n"
            f"  Full log: {log_path}\n"
            "  What to do: fix what the log reports (a container without privileges cannot run dockerd), "
            "or point DOCKER_HOST at an engine that runs elsewhere."
        )


def _first_line(answer: subprocess.CompletedProcess[str]) -> str:
    text = (answer.stderr or answer.stdout).strip()
    return text.splitlines()[0] if text else f"exit status {answer.returncode}"
