"""The notebook's marimo UI mounted at / of the host, loaded for real (agentstrata.runtime.ui)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from conftest import running_host, stack_config, wait_until, write_notebook, write_stack

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


def test_a_browser_renders_the_notebook(tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with running_host(stack_config(project(tmp_path, edit=False), "shown", ui=True)) as running:
        dom = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=15000",
             "--dump-dom", f"{running.url}/"],
            capture_output=True, text=True, timeout=120,
        ).stdout
    assert "hello from the host" in dom
