"""The server around a host (agentstrata.runtime.server): slow clients, connection bounds, the edit token."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import httpx
from tests.runtime.conftest import get_json, wait_ready, write_notebook, write_stack

SLOW_CLIENTS = 50
MAX_CONNECTIONS = 10
#: Longest the test waits for the server to close a slow client (the server is told 2 s).
CLOSE_WAIT_SECONDS = 30

STACK = """
stack:
  name: servertest
  agents:
    - name: editable
      layer: 0
      edit: true
      implementation: {path: editable.py}
      interface:
        outputs:
          - {name: x, type: number, exposed_as: "reactive_cell:x"}
"""


def notebook(tmp_path: Path) -> Path:
    return write_notebook(tmp_path / "editable.py", "@app.cell\ndef _():\n    x = 1\n    return (x,)")


def answer(client: socket.socket) -> bytes:
    """Everything the server sends before it closes the connection."""
    received = b""
    try:
        while chunk := client.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def test_slow_clients_are_bounded_and_timed_out(tmp_path: Path, serve) -> None:
    notebook(tmp_path)
    running = serve("editable.py", "--no-ui", "--header-timeout", "2", "--max-connections", str(MAX_CONNECTIONS))
    wait_ready(running)
    port = int(running.url.rsplit(":", 1)[1])
    clients = []
    try:
        for _ in range(SLOW_CLIENTS):
            client = socket.create_connection(("127.0.0.1", port), timeout=CLOSE_WAIT_SECONDS)
            client.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never the blank line that ends it
            clients.append(client)
        answers = [answer(client) for client in clients]  # socket.timeout here: a connection left open
    finally:
        for client in clients:
            client.close()
    refused = [a for a in answers if a.startswith(b"HTTP/1.1 503 ")]
    closed = [a for a in answers if a == b""]
    assert len(refused) >= SLOW_CLIENTS - MAX_CONNECTIONS and len(refused) + len(closed) == SLOW_CLIENTS
    assert get_json(f"{running.url}/health")["status"] == "ok"  # still serving


def test_the_edit_token_from_the_environment_is_never_logged(tmp_path: Path, serve) -> None:
    notebook(tmp_path)
    stack = write_stack(tmp_path / "stack.yaml", STACK)
    token = "not-for-logs-8d1f0c"
    running = serve("--stack", str(stack), "--agent", "editable", env={"STRATA_EDIT_TOKEN": token})
    wait_ready(running)
    with httpx.Client(follow_redirects=True) as browser:
        page = browser.get(f"{running.url}/?access_token={token}")
    running.stop()
    assert page.status_code == 200 and "marimo" in page.text
    log = running.log_text()
    assert token not in log
    assert "edit mode: the UI asks for the token in STRATA_EDIT_TOKEN" in log


def test_a_generated_edit_token_is_kept_in_a_private_file_not_in_the_log(tmp_path: Path, serve) -> None:
    notebook(tmp_path)
    stack = write_stack(tmp_path / "stack.yaml", STACK)
    state = tmp_path / "state"
    running = serve("--stack", str(stack), "--agent", "editable",
                    env={"STRATA_EDIT_TOKEN": "", "STRATA_STATE_DIR": str(state)})
    wait_ready(running)
    token_file = state / "edit-token"
    token = token_file.read_text().strip()
    with httpx.Client(follow_redirects=True) as browser:
        page = browser.get(f"{running.url}/?access_token={token}")
    running.stop()
    assert page.status_code == 200 and "marimo" in page.text
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    log = running.log_text()
    assert token not in log
    assert f"edit mode: the UI asks for the token in {token_file}" in log
