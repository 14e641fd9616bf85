"""Waiting for /ready: bounded, reports progress, names the agents that never got ready."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from agentstrata.deploy.readiness import wait_until_ready
from agentstrata.errors import StrataError

# /ready answers 503 until the flag file exists, then 200: an agent that becomes ready later.
SERVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    flag = Path(sys.argv[2])

    async def ready(request):
        return JSONResponse({"ready": flag.exists()}, status_code=200 if flag.exists() else 503)

    uvicorn.run(Starlette(routes=[Route("/ready", ready)]), host="127.0.0.1", port=int(sys.argv[1]), log_level="error")
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def agent(tmp_path: Path):
    port = _free_port()
    flag = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(flag)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/ready", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("test server did not start")
        yield url, flag
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_returns_once_every_agent_answers_200(agent) -> None:
    url, flag = agent
    seen = []

    def on_progress(states, waited):
        seen.append(states["kb_base"].describe())
        if len(seen) == 2:
            flag.touch()

    states = wait_until_ready({"kb_base": url}, timeout=30, on_progress=on_progress, poll=0.05)
    assert states["kb_base"].ready
    assert seen[:2] == ["HTTP 503", "HTTP 503"]
    assert seen[-1] == "HTTP 200"


def test_timeout_names_each_agent_not_ready_and_why(agent) -> None:
    url, _ = agent
    down = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(StrataError) as raised:
        wait_until_ready({"kb_base": url, "concierge": down}, timeout=0.2, poll=0.05, hint="see docker logs")
    assert raised.value.exit_code == 1
    assert raised.value.message == (
        f"not ready after 0 s: kb_base ({url}/ready: HTTP 503), concierge ({down}/ready: ConnectError).\n"
        "see docker logs"
    )
