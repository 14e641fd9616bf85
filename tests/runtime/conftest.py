"""Fixtures for the runtime: tiny real marimo notebooks, real hosts on loopback, real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from agentstrata.loader import load_stack
from agentstrata.runtime.host import AgentHost
from agentstrata.runtime.host_config import HostConfig, HostOptions, config_for_stack_agent
from agentstrata.runtime.server import bind, server_config

ROOT = Path(__file__).resolve().parents[2]
STRATA = [sys.executable, "-c", "import sys; from agentstrata.cli import main; sys.argv[0] = 'strata'; main()"]
WAIT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            last_error = exc
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error})")


def write_notebook(path: Path, *cells: str) -> Path:
    """A marimo notebook file made of the given ``@app.cell`` functions (as source text)."""
    body = "\n\n".join(textwrap.dedent(cell).strip() for cell in cells)
    path.write_text(f"import marimo\n\napp = marimo.App()\n\n\n{body}\n\n\nif __name__ == '__main__':\n    app.run()\n")
    return path


def write_stack(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def get_json(url: str, **kwargs: Any) -> Any:
    return httpx.get(url, timeout=5, **kwargs).json()


def output_value(url: str, name: str) -> Any:
    response = httpx.get(f"{url}/outputs/{name}", timeout=5)
    return response.json()["value"] if response.status_code == 200 else None


@dataclass
class RunningHost:
    host: AgentHost
    url: str


@contextmanager
def running_host(config: HostConfig) -> Iterator[RunningHost]:
    """The host of ``config`` on a real uvicorn server, configured as ``strata serve`` does, in a thread of this
    process."""
    sock = bind("127.0.0.1", 0)
    host = AgentHost(config)
    server = uvicorn.Server(server_config(host, config.options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, "the host to start", timeout=15)
    try:
        yield RunningHost(host, f"http://127.0.0.1:{sock.getsockname()[1]}")
    finally:
        host.begin_shutdown()
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def stack_config(stack_file: Path, agent: str, **options: Any) -> HostConfig:
    config = config_for_stack_agent(load_stack(stack_file), agent)
    config.options = HostOptions(**{"ui": False, "keepalive": 1.0, **options})
    return config


@dataclass
class ServeProcess:
    """A ``strata serve`` process; its output goes to ``log``."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Start ``strata serve ARGS... --port P``; every process started is stopped at the end."""
    started: list[ServeProcess] = []

    def start(*args: str, port: int | None = None, env: dict[str, str] | None = None) -> ServeProcess:
        port = port or free_port()
        log = tmp_path / f"serve-{len(started)}-{port}.log"
        with open(log, "wb") as handle:
            process = subprocess.Popen([*STRATA, "serve", *args, "--port", str(port)], cwd=tmp_path,
                                       env={**os.environ, **(env or {})}, stdout=handle, stderr=subprocess.STDOUT)
        running = ServeProcess(process, f"http://127.0.0.1:{port}", log)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def wait_ready(running: ServeProcess, timeout: float = WAIT_SECONDS) -> None:
    def ready() -> bool:
        if running.process.poll() is not None:
            pytest.fail(f"strata serve exited with {running.process.returncode}:\n{running.log_text()}")
        return httpx.get(f"{running.url}/ready", timeout=2).status_code == 200

    wait_until(ready, f"{running.url} to be ready", timeout)

