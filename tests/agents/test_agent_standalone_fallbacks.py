"""Standalone use of the agents: injected inputs skip the fallback cells (no network call), otherwise the
fallback fetches GET /outputs/<name> from the upstream agent or computes from the sample KB."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_KB = ROOT / "stacks" / "sample-kb"
UPSTREAMS = ("KB_BASE", "CONTEXT_LOADER", "VALIDATOR", "DEBRIEFER", "PATTERN_DETECTOR")

#: Each agent's inputs, as stacks/kb-conduit.yaml declares them.
AGENT_INPUTS = {
    "kb_base": ("kb_root",),
    "context_loader": ("workspace_context",),
    "validator": ("workspace_context", "session_log"),
    "debriefer": ("history", "validated_context"),
    "pattern_detector": ("history",),
    "concierge": ("context", "insights", "patterns"),
}


@dataclass
class UpstreamStub:
    """A real HTTP server on loopback answering like a Strata agent host; it records every request."""

    values: dict[str, Any]
    requests: list[str] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch, sample_stack) -> Iterator[UpstreamStub]:
    values = {name: defs[name] for defs in sample_stack.values() for name in
              ("workspace_context", "session_log", "validated_context", "context", "insights", "patterns")
              if name in defs}
    stub = UpstreamStub(values)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            stub.requests.append(self.path)
            name = self.path.removeprefix("/outputs/")
            if not self.path.startswith("/outputs/") or name not in stub.values:
                self.send_error(404)
                return
            body = json.dumps({"agent": "stub", "name": name, "version": "v1", "stale": False,
                               "updated_at": "2025-03-28T11:00:00.000Z", "value": stub.values[name]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    for name in UPSTREAMS:
        monkeypatch.setenv(f"STRATA_UPSTREAM_{name}_URL", stub.url)
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize("agent", sorted(AGENT_INPUTS))
def test_injected_inputs_replace_the_fallback_cells(load_agent, upstream: UpstreamStub, agent: str,
                                                    sample_stack) -> None:
    injected = {name: sample_stack[agent][name] for name in AGENT_INPUTS[agent]}
    _, defs = load_agent(agent).run(defs=injected)
    assert upstream.requests == []  # the fallback cells did not run
    for name, value in injected.items():
        assert defs[name] is value


def test_a_fallback_fetches_the_upstream_output(load_agent, upstream: UpstreamStub) -> None:
    upstream.values["workspace_context"] = {"served": {"owner": "zed"}}
    _, defs = load_agent("context_loader").run()
    assert upstream.requests == ["/outputs/workspace_context"]
    assert defs["context"]["workspaces"]["served"]["owner"] == "zed"


def test_the_history_fallback_applies_parse_yaml_log(load_agent, upstream: UpstreamStub) -> None:
    upstream.values["session_log"] = {"w": '- timestamp: "2025-03-01T00:00:00.000Z"\n  message: "hi"\n'}
    _, defs = load_agent("pattern_detector").run()
    assert defs["history"] == [{"workspace": "w", "timestamp": "2025-03-01T00:00:00.000Z", "message": "hi"}]


def test_each_input_has_its_own_fallback_cell(load_agent, upstream: UpstreamStub, sample_stack) -> None:
    validated = sample_stack["validator"]["validated_context"]
    _, defs = load_agent("debriefer").run(defs={"validated_context": validated})
    assert upstream.requests == ["/outputs/session_log"]
    assert defs["insights"]["session_count"] == 45


def test_without_upstreams_the_stack_is_computed_from_the_sample_kb(load_agent, sample_stack,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # No variable names an upstream's service (a notebook knows no other agent's port): each fallback
    # runs its upstream notebook. A service that does not answer is tested in tests/test_standalone.py.
    for name in UPSTREAMS:
        monkeypatch.delenv(f"STRATA_UPSTREAM_{name}_URL")
    _, defs = load_agent("concierge").run()
    expected = sample_stack["concierge"]["recommendations"]
    assert json.dumps(defs["recommendations"]) == json.dumps(expected)


def test_no_notebook_knows_where_another_agent_listens() -> None:
    from agentstrata.loader import load_stack

    ports = {agent.port for agent in load_stack(ROOT / "stacks" / "kb-conduit.yaml").stack.agent_specs}
    found = [f"{path.name}:{node.lineno}" for path in sorted((ROOT / "agents").glob("*.py"))
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Constant) and type(node.value) is int and node.value in ports]
    assert found == []


def test_the_standalone_ui_renders_without_errors(tmp_path: Path) -> None:
    output = tmp_path / "concierge.html"
    # marimo caches sessions in __marimo__/ beside the notebook, or under sys.pycache_prefix when set
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache")}
    cache_in_repo = ROOT / "agents" / "__marimo__"
    cached_before = cache_in_repo.exists()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "marimo"), "export", "html", str(ROOT / "agents" / "concierge.py"),
         "-o", str(output)],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert cache_in_repo.exists() == cached_before  # the test leaves nothing in the repository
    page = output.read_text(encoding="utf-8")
    assert "application/vnd.marimo+error" not in page
    assert "Concierge (layer 3)" in page
    assert "Unblock api-gateway" in page
