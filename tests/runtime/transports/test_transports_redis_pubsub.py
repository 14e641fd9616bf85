"""The Redis transport (agentstrata.runtime.transports.redis_pubsub) with a real redis-server:
propagation, late subscribers, losing the server."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from tests.runtime.conftest import free_port, output_value, wait_ready, wait_until, write_notebook, write_stack

STACK = """
stack:
  name: redistest
  agents:
    - name: up
      layer: 0
      implementation: {path: up.py}
      interface:
        inputs:
          - {name: raw, type: raw, source: "file:data.json"}
        outputs:
          - {name: total, type: number, exposed_as: "reactive_cell:total"}
    - name: down
      layer: 1
      implementation: {path: down.py}
      interface:
        inputs:
          - {name: total, type: number, source: "agent:up.total"}
        outputs:
          - {name: report, type: report, exposed_as: "reactive_cell:report"}
"""


@dataclass
class RedisServer:
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        wait_until(lambda: client.ping(), "redis-server to answer", timeout=15)
        client.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_notebook(
        tmp_path / "up.py",
        """
        @app.cell
        def _():
            raw = {"numbers": []}
            return (raw,)
        """,
        """
        @app.cell
        def _(raw):
            total = sum(raw["numbers"])
            return (total,)
        """,
    )
    write_notebook(
        tmp_path / "down.py",
        """
        @app.cell
        def _():
            total = 0
            return (total,)
        """,
        """
        @app.cell
        def _(total):
            report = f"total is {total}"
            return (report,)
        """,
    )
    write_stack(tmp_path / "stack.yaml", STACK)
    return tmp_path


def set_numbers(project: Path, *numbers: int) -> None:
    (project / "data.json").write_text(json.dumps({"numbers": list(numbers)}))


def start(serve, project: Path, agent: str, server: RedisServer):
    return serve("--stack", str(project / "stack.yaml"), "--agent", agent, "--no-ui",
                 "--transport", "redis", "--transport-url", server.url)


def test_outputs_propagate_through_redis(project: Path, serve, redis_server: RedisServer) -> None:
    set_numbers(project, 1, 2)
    up = start(serve, project, "up", redis_server)
    down = start(serve, project, "down", redis_server)
    wait_ready(up)
    wait_ready(down)
    assert output_value(down.url, "report") == "total is 3"
    set_numbers(project, 10, 20)
    wait_until(lambda: output_value(down.url, "report") == "total is 30", "the new total downstream")
    stored = json.loads(redis.Redis(port=redis_server.port).get("strata:redistest:up:total"))
    assert (stored["agent"], stored["name"], stored["value"]) == ("up", "total", 30)


def test_the_older_names_of_the_redis_url_still_work(project: Path, serve, redis_server: RedisServer) -> None:
    set_numbers(project, 6)
    stack = str(project / "stack.yaml")
    up = serve("--stack", stack, "--agent", "up", "--no-ui", "--transport", "redis", "--redis-url", redis_server.url)
    down = serve("--stack", stack, "--agent", "down", "--no-ui", "--transport", "redis",
                 env={"STRATA_REDIS_URL": redis_server.url})
    wait_ready(up)
    wait_ready(down)
    assert output_value(down.url, "report") == "total is 6"


def test_a_late_subscriber_catches_up_from_the_latest_key(project: Path, serve, redis_server: RedisServer) -> None:
    set_numbers(project, 4)
    up = start(serve, project, "up", redis_server)
    wait_ready(up)
    down = start(serve, project, "down", redis_server)
    wait_ready(down)
    assert output_value(down.url, "report") == "total is 4"


def test_losing_redis_and_getting_it_back(project: Path, serve, redis_server: RedisServer) -> None:
    set_numbers(project, 1)
    up = start(serve, project, "up", redis_server)
    down = start(serve, project, "down", redis_server)
    wait_ready(up)
    wait_ready(down)
    redis_server.kill()
    set_numbers(project, 2, 3)
    wait_until(lambda: output_value(up.url, "total") == 5, "the upstream to recompute without redis")
    time.sleep(1.0)  # both sides are now retrying against a dead server
    assert output_value(down.url, "report") == "total is 1"  # the last good value stays
    redis_server.start()  # empty: the publisher must re-send what it has
    wait_until(lambda: output_value(down.url, "report") == "total is 5", "the downstream to catch up")
