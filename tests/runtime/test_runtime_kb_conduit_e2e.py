"""End to end: the kb-conduit stack on the local target reacts to a session logged in its KB.

The stack file, the reference notebooks and the kb-conduit tool are copied as they are into a
temporary project (so this test's `.strata/` state never mixes with a stack someone runs from the
repository); KB_CONDUIT_ROOT points at a temporary copy of the sample KB.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from tests.runtime.conftest import ROOT, STRATA, wait_until

from agentstrata.loader import load_stack

STACK = ROOT / "stacks" / "kb-conduit.yaml"


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for needed in (STACK, ROOT / "agents" / "kb_base" / "kb-conduit", ROOT / "stacks" / "sample-kb"):
        if not needed.exists():
            pytest.skip(f"{needed.relative_to(ROOT)} does not exist yet")
    busy = [a.port for a in load_stack(STACK).stack.agent_specs if port_in_use(a.port)]  # type: ignore[arg-type]
    if busy:
        pytest.skip(f"the kb-conduit ports {busy} are taken on this machine (another stack is up)")
    shutil.copy(ROOT / "cdktf.json", tmp_path / "cdktf.json")
    shutil.copytree(ROOT / "agents", tmp_path / "agents", ignore=shutil.ignore_patterns("__pycache__", "__marimo__"))
    (tmp_path / "stacks").mkdir()
    shutil.copy(STACK, tmp_path / "stacks" / "kb-conduit.yaml")
    shutil.copytree(ROOT / "stacks" / "sample-kb", tmp_path / "kb")
    return tmp_path


def test_a_logged_session_changes_the_concierges_recommendations(project: Path) -> None:
    env = {**os.environ, "KB_CONDUIT_ROOT": str(project / "kb")}
    env.pop("STRATA_STATE_DIR", None)

    def strata(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*STRATA, *args], cwd=project, env=env, capture_output=True, text=True, timeout=timeout)

    up = strata("up", "stacks/kb-conduit.yaml", "--target", "local", "--timeout", "150")
    try:
        assert up.returncode == 0, up.stderr
        status = json.loads(strata("status", "stacks/kb-conduit.yaml", "--format", "json").stdout)
        assert [a["ready"] for a in status["agents"]] == [True] * 6
        concierge = next(a["url"] for a in status["agents"] if a["name"] == "concierge")
        before = httpx.get(f"{concierge}/outputs/recommendations", timeout=5).json()
        workspace = sorted(p.name for p in (project / "kb" / "workspaces").iterdir() if p.is_dir())[0]
        logged = subprocess.run(
            [str(project / "agents" / "kb_base" / "kb-conduit"), "log", workspace,
             "blocked on the end-to-end test", "--tag", "blocked"],
            env=env, capture_output=True, text=True, timeout=30,
        )
        assert logged.returncode == 0, logged.stderr
        after = wait_until(
            lambda: (e := httpx.get(f"{concierge}/outputs/recommendations", timeout=5).json())["version"]
            != before["version"] and e,
            "the concierge's recommendations to change", timeout=60,
        )
        assert after["value"] != before["value"]
        assert any(item["workspace"] == workspace and "end-to-end test" in json.dumps(item)
                   for item in after["value"]["items"])
    finally:
        down = strata("down", "stacks/kb-conduit.yaml", timeout=120)
    assert down.returncode == 0, down.stderr
