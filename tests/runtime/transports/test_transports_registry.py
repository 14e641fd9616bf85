"""The transport registry (agentstrata.runtime.transports): a transport is one module and one line.

``SharedDirTransport`` below exists only in this test: versions travel through a directory, one
envelope file per output. Registered with one line, it is used by a host and by ``strata serve``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from tests.runtime.conftest import (
    ROOT,
    ServeProcess,
    free_port,
    get_json,
    output_value,
    running_host,
    stack_config,
    wait_ready,
    wait_until,
    write_notebook,
    write_stack,
)

from agentstrata.errors import StrataError
from agentstrata.runtime.envelope import envelope_bytes
from agentstrata.runtime.host_config import HostConfig, HostOptions, Upstream
from agentstrata.runtime.inputs import InputBoard
from agentstrata.runtime.outputs import OutputStore
from agentstrata.runtime.tasks import cancel_and_wait
from agentstrata.runtime.transports import TRANSPORTS, transport_for
from agentstrata.runtime.transports.upstream_values import UpstreamInputs
from agentstrata.runtime.versions import OutputVersion

NAME = "shared-dir"
POLL_SECONDS = 0.05

STACK = """
stack:
  name: regtest
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


def envelope_file(directory: Path, stack: str, agent: str, output: str) -> Path:
    return directory / f"{stack}.{agent}.{output}.json"


class SharedDirTransport:
    address = "a directory shared by the agents"

    def __init__(self, config: HostConfig) -> None:
        assert config.options.transport_url is not None
        self.directory = Path(config.options.transport_url)
        self.stack = config.stack
        self.agent = config.agent
        self.max_payload = config.options.max_payload

    def subscribe(self, upstream: Upstream, board: InputBoard, on_state: Callable[[], None]) -> DirSubscription:
        return DirSubscription(self, UpstreamInputs(upstream, board, self.max_payload))

    def publisher(self, store: OutputStore) -> DirPublisher:
        return DirPublisher(self, store)


class DirPublisher:
    def __init__(self, transport: SharedDirTransport, store: OutputStore) -> None:
        self.transport = transport
        self.store = store
        self.name = f"{NAME} publisher"
        store.subscribe(self._write)

    def _write(self, changed: dict[str, OutputVersion]) -> None:
        t = self.transport
        for record in changed.values():
            path = envelope_file(t.directory, t.stack, t.agent, record.name)
            staged = path.with_suffix(".tmp")
            staged.write_bytes(envelope_bytes(t.agent, record, stale=False))
            staged.replace(path)  # readers never see half a file

    def start(self) -> None:
        self._write({name: record for name in self.store.versions() if (record := self.store.get(name))})

    async def stop(self) -> None:
        """Nothing runs in the background: each version is written as it is published."""


class DirSubscription:
    busy = False

    def __init__(self, transport: SharedDirTransport, inputs: UpstreamInputs) -> None:
        self.transport = transport
        self.inputs = inputs
        self.name = f"{NAME} subscription to {inputs.upstream.agent}"
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._poll(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _poll(self) -> None:
        t, held = self.transport, {}
        while True:
            for output in self.inputs.outputs:
                path = envelope_file(t.directory, t.stack, self.inputs.upstream.agent, output)
                raw = path.read_bytes() if path.exists() else None
                if raw is not None and raw != held.get(output):
                    held[output] = raw
                    self.inputs.apply(output, raw)
            await asyncio.sleep(POLL_SECONDS)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_notebook(tmp_path / "up.py", "@app.cell\ndef _():\n    raw = {'numbers': []}\n    return (raw,)",
                   "@app.cell\ndef _(raw):\n    total = sum(raw['numbers'])\n    return (total,)")
    write_notebook(tmp_path / "down.py", "@app.cell\ndef _():\n    total = 0\n    return (total,)",
                   "@app.cell\ndef _(total):\n    report = f'total is {total}'\n    return (report,)")
    write_stack(tmp_path / "stack.yaml", STACK)
    (tmp_path / "shared").mkdir()
    return tmp_path


def set_numbers(project: Path, *numbers: int) -> None:
    (project / "data.json").write_text(json.dumps({"numbers": list(numbers)}))


def test_a_registered_transport_carries_versions_between_hosts(project: Path, monkeypatch) -> None:
    monkeypatch.setitem(TRANSPORTS, NAME, f"{__name__}:SharedDirTransport")
    set_numbers(project, 1, 2)
    shared = str(project / "shared")
    stack = project / "stack.yaml"
    # No ports in the stack: over HTTP, "down" would have no address for "up" at all.
    with running_host(stack_config(stack, "up", transport=NAME, transport_url=shared)) as up, \
            running_host(stack_config(stack, "down", transport=NAME, transport_url=shared)) as down:
        wait_until(lambda: output_value(down.url, "report") == "total is 3", "the total downstream")
        set_numbers(project, 10, 20)
        wait_until(lambda: output_value(down.url, "report") == "total is 30", "the new total downstream")
        assert get_json(f"{up.url}/health")["transport"] == NAME
    stored = json.loads(envelope_file(project / "shared", "regtest", "up", "total").read_bytes())
    assert (stored["agent"], stored["name"], stored["value"]) == ("up", "total", 30)


def test_strata_serve_accepts_a_registered_transport(project: Path) -> None:
    registration = f"TRANSPORTS[{NAME!r}] = 'tests.runtime.transports.test_transports_registry:SharedDirTransport'"
    command = [sys.executable, "-c", "import sys; from agentstrata.runtime.transports import TRANSPORTS; "
               f"{registration}; from agentstrata.cli import main; sys.argv[0] = 'strata'; main()"]
    port = free_port()
    log = project / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    set_numbers(project, 4, 5)
    with open(log, "wb") as handle:
        process = subprocess.Popen([*command, "serve", "--stack", "stack.yaml", "--agent", "up", "--no-ui",
                                    "--port", str(port), "--transport", NAME, "--transport-url", "shared"],
                                   cwd=project, env=env, stdout=handle, stderr=subprocess.STDOUT)
    running = ServeProcess(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_ready(running)
        assert httpx.get(f"{running.url}/health").json()["transport"] == NAME
        published = envelope_file(project / "shared", "regtest", "up", "total")
        wait_until(published.exists, "the envelope in the shared directory")
        assert json.loads(published.read_bytes())["value"] == 9
    finally:
        running.stop()


def test_a_registered_transport_without_its_address_is_refused(monkeypatch) -> None:
    monkeypatch.setitem(TRANSPORTS, NAME, f"{__name__}:SharedDirTransport")
    with pytest.raises(StrataError) as caught:
        transport_for(HostOptions(transport=NAME))
    assert caught.value.message == (f"--transport {NAME} needs a directory shared by the agents: "
                                    "--transport-url URL or STRATA_TRANSPORT_URL")


def test_an_agent_served_over_http_never_imports_redis(project: Path) -> None:
    code = ("import sys; from agentstrata.runtime.host import AgentHost; "
            "from agentstrata.runtime.host_config import config_for_stack_agent; "
            "from agentstrata.loader import load_stack; "
            "AgentHost(config_for_stack_agent(load_stack(sys.argv[1]), 'up')); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'redis'))")
    result = subprocess.run([sys.executable, "-c", code, str(project / "stack.yaml")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr
