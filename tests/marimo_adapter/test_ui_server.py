"""The notebook's marimo UI mounted at / of the host, loaded for real (agentstrata.marimo_adapter.ui_server)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from tests.runtime.conftest import free_port, running_host, stack_config, wait_until, write_notebook, write_stack
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

STACK = """
stack:
  name: uitest
  agents:
    - name: shown
      layer: 0
      edit: {edit}
      implementation: {{path: shown.py}}
      interface:
        outputs:
          - {{name: greeting, type: text, exposed_as: "reactive_cell:greeting"}}
"""


def project(tmp_path: Path, edit: bool) -> Path:
    write_notebook(
        tmp_path / "shown.py",
        """
        @app.cell
        def _():
            import marimo as mo
            return (mo,)
        """,
        """
        @app.cell
        def _():
            greeting = "hello from the host"
            return (greeting,)
        """,
        """
        @app.cell
        def _(greeting, mo):
            mo.md(f"# {greeting}")
            return
        """,
    )
    return write_stack(tmp_path / "stack.yaml", STACK.format(edit="true" if edit else "false"))


def test_the_ui_and_its_assets_load_next_to_the_json_api(tmp_path: Path) -> None:
    with running_host(stack_config(project(tmp_path, edit=False), "shown", ui=True)) as running:
        page = httpx.get(f"{running.url}/")
        asset = re.search(r'src="\./(assets/[^"]+\.js)"', page.text)
        assert asset is not None, page.text[:500]
        script = httpx.get(f"{running.url}/{asset.group(1)}")
        wait_until(lambda: httpx.get(f"{running.url}/ready").status_code == 200, "ready")
        output = httpx.get(f"{running.url}/outputs/greeting").json()
    assert page.status_code == 200 and "marimo" in page.text
    assert script.status_code == 200
    assert script.headers["content-type"].split(";")[0] in ("application/javascript", "text/javascript")
    assert output["value"] == "hello from the host"


def test_edit_mode_needs_the_token(tmp_path: Path) -> None:
    config = stack_config(project(tmp_path, edit=True), "shown", ui=True, edit_token="sesame")
    with running_host(config) as running:
        anonymous = httpx.get(f"{running.url}/", follow_redirects=False)
        with httpx.Client(follow_redirects=True) as browser:
            allowed = browser.get(f"{running.url}/?access_token=sesame")  # sets the session cookie
        health = httpx.get(f"{running.url}/health")
    assert anonymous.status_code in (302, 303, 307, 401)
    assert allowed.status_code == 200 and "marimo" in allowed.text
    assert health.status_code == 200  # the JSON API needs no token


def test_the_page_names_the_notebook_without_its_absolute_path(tmp_path: Path) -> None:
    with running_host(stack_config(project(tmp_path, edit=False), "shown", ui=True)) as running:
        page = httpx.get(f"{running.url}/")
    assert page.status_code == 200 and "shown.py" in page.text
    assert str(tmp_path) not in page.text and quote(str(tmp_path), safe="") not in page.text


@pytest.mark.parametrize("edit", [False, True])
def test_no_answer_allows_any_origin(tmp_path: Path, edit: bool) -> None:
    config = stack_config(project(tmp_path, edit=edit), "shown", ui=True, edit_token="sesame")
    origin = {"Origin": "http://elsewhere.example"}
    with running_host(config) as running:
        wait_until(lambda: httpx.get(f"{running.url}/ready").status_code == 200, "ready")
        with httpx.Client(follow_redirects=True) as browser:
            browser.get(f"{running.url}/?access_token=sesame")
            answers = [
                httpx.options(f"{running.url}/outputs/greeting",
                              headers={**origin, "Access-Control-Request-Method": "GET"}),
                httpx.get(f"{running.url}/outputs/greeting", headers=origin),
                httpx.get(f"{running.url}/health", headers=origin),
                browser.get(f"{running.url}/", headers=origin),
                browser.options(f"{running.url}/api/kernel/run",
                                headers={**origin, "Access-Control-Request-Method": "POST"}),
            ]
    assert [a.headers.get("access-control-allow-origin") for a in answers] == [None] * len(answers)
    assert answers[0].status_code == 405


def kernel_socket(url: str, origin: str) -> str:
    """Open the notebook's websocket as a page of ``origin`` would: "talking" once marimo's kernel sends its
    first message (``kernel-ready``, or ``reconnected`` to the one edit session), else the refusal."""
    address = url.replace("http://", "ws://") + f"/ws?session_id=s-{uuid.uuid4().hex}&access_token=sesame"
    try:
        with connect(address, origin=origin, open_timeout=30) as socket:  # type: ignore[arg-type]
            first = json.loads(socket.recv(timeout=30))["op"]
    except InvalidStatus as refused:
        return f"HTTP {refused.response.status_code}"
    return "talking" if first in ("kernel-ready", "reconnected") else first


def test_the_edit_mode_websocket_accepts_only_its_own_origin_and_those_allowed(tmp_path: Path) -> None:
    config = stack_config(project(tmp_path, edit=True), "shown", ui=True, edit_token="sesame",
                          allowed_origins=("https://notebooks.example",))
    with running_host(config) as running:
        elsewhere = kernel_socket(running.url, "http://elsewhere.example")
        same = kernel_socket(running.url, running.url)
        allowed = kernel_socket(running.url, "https://notebooks.example")
    assert (elsewhere, same, allowed) == ("HTTP 403", "talking", "talking")


class HeadlessChromium:
    """Chromium driven over the DevTools protocol: open a page, read its text, take a screenshot."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={self.port}",
             f"--user-data-dir={profile}", "--window-size=1200,800", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self._ids = 0
        self._connections = ExitStack()

    def open(self, url: str) -> None:
        """A new tab, connected first and navigated then, so no early page event is missed."""
        page = wait_until(lambda: httpx.put(f"http://127.0.0.1:{self.port}/json/new?about:blank").json(), "chromium")
        self.socket = self._connections.enter_context(connect(page["webSocketDebuggerUrl"], max_size=50_000_000))
        self.call("Page.navigate", url=url)

    def call(self, method: str, **params: object) -> dict:
        self._ids += 1
        self.socket.send(json.dumps({"id": self._ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == self._ids:
                return message["result"]

    def evaluate(self, expression: str) -> str:
        return str(self.call("Runtime.evaluate", expression=expression)["result"].get("value", ""))

    def text(self) -> str:
        return self.evaluate("document.body ? document.body.innerText : ''")

    def diagnosis(self) -> str:
        """What the page got to: its state, and the requests it made (to tell a hang from an error)."""
        state = self.evaluate("location.href + ' ' + document.readyState")
        requests = self.evaluate("performance.getEntriesByType('resource').length")
        return f"page {state}, {requests} requests, text {self.text()[:200]!r}"

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        self._connections.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def test_a_browser_renders_the_notebook_without_computing_outputs(tmp_path: Path) -> None:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    browser = HeadlessChromium(binary, tmp_path / "profile")
    try:
        with running_host(stack_config(project(tmp_path, edit=False), "shown", ui=True)) as running:
            wait_until(lambda: httpx.get(f"{running.url}/ready").status_code == 200, "ready")
            browser.open(f"{running.url}/")
            deadline = time.monotonic() + 60
            while "hello from the host" not in browser.text():
                if time.monotonic() > deadline:
                    browser.screenshot(tmp_path / "ui.png")
                    pytest.fail(f"the notebook did not render in 60 s: {browser.diagnosis()} "
                                f"(screenshot {tmp_path / 'ui.png'})")
                time.sleep(0.2)
            browser.screenshot(tmp_path / "ui.png")
            runs = httpx.get(f"{running.url}/health").json()["runs"]
    finally:
        browser.close()
    assert (tmp_path / "ui.png").read_bytes().startswith(b"\x89PNG")
    assert runs == 1  # the browser's session ran its own kernel, not the host's computation
