"""A reference notebook opened alone fetches its inputs from the upstream agent, or computes them itself."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agentstrata.standalone import upstream_output


@pytest.fixture
def upstream():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"agent": "kb_base", "name": "answer", "value": {"n": 42}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


UP_NOTEBOOK = "import marimo\napp = marimo.App()\n\n@app.cell\ndef _():\n    answer = 6 * 7\n    return (answer,)\n"


def test_fetches_the_value_from_the_upstream_service(upstream, monkeypatch, tmp_path):
    monkeypatch.setenv("STRATA_UPSTREAM_KB_BASE_URL", f"http://127.0.0.1:{upstream}")
    assert upstream_output("kb_base", "answer", "unused.py", notebook_dir=tmp_path) == {"n": 42}


def test_the_variable_of_a_hyphenated_agent_is_the_one_targets_set(upstream, monkeypatch, tmp_path):
    monkeypatch.setenv("STRATA_UPSTREAM_KB_BASE_URL", f"http://127.0.0.1:{upstream}/")
    assert upstream_output("kb-base", "answer", "unused.py", notebook_dir=tmp_path) == {"n": 42}


def test_runs_the_upstream_notebook_when_no_service_answers(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("STRATA_UPSTREAM_KB_BASE_URL", "http://127.0.0.1:9")
    (tmp_path / "up.py").write_text(UP_NOTEBOOK)
    assert upstream_output("kb_base", "answer", "up.py", notebook_dir=tmp_path) == 42
    assert capsys.readouterr().out == (
        "kb_base.answer: http://127.0.0.1:9 did not answer; computed by running up.py here\n")


def test_runs_the_upstream_notebook_when_no_variable_names_the_service(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("STRATA_UPSTREAM_KB_BASE_URL", raising=False)
    (tmp_path / "up.py").write_text(UP_NOTEBOOK)
    assert upstream_output("kb_base", "answer", "up.py", notebook_dir=tmp_path) == 42
    assert capsys.readouterr().out == (
        "kb_base.answer: STRATA_UPSTREAM_KB_BASE_URL is not set; computed by running up.py here\n")
