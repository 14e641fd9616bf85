"""`strata serve`: bad invocations get one clear line and a non-zero exit; a lone notebook serves."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from tests.runtime.conftest import STRATA, output_value, wait_ready, write_notebook, write_stack

from agentstrata.cli.serve_cmd import parse_size
from agentstrata.errors import StrataError

STACK = """
stack:
  name: clitest
  agents:
    - name: only
      layer: 0
      implementation: {path: only.py}
"""


def strata(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_")}
    return subprocess.run([*STRATA, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    write_notebook(tmp_path / "only.py", "@app.cell\ndef _():\n    x = 1\n    return (x,)")
    return write_stack(tmp_path / "stack.yaml", STACK)


@pytest.mark.parametrize(
    "args, message",
    [
        (("only.py", "--stack", "stack.yaml"), "give either a notebook/agent file, or --stack STACK.yaml --agent NAME"),
        (("--stack", "stack.yaml"), "stack.yaml: which agent? pass --agent NAME (agents: only)"),
        (("--stack", "stack.yaml", "--agent", "other"),
         "stack.yaml: no agent named 'other' in stack 'clitest' (agents: only)"),
        (("only.py", "--input", "n={oops"), "--input n: invalid JSON: Expecting property name enclosed in double "
                                            "quotes: line 1 column 2 (char 1)"),
        (("only.py", "--input", "1n=2"), "--input '1n=2': expected name=JSON, with name a Python identifier"),
        (("missing.py",), "missing.py: no such notebook file"),
        (("only.py", "--transport", "carrier-pigeon"), "--transport: expected 'http' or 'redis', got 'carrier-pigeon'"),
        (("only.py", "--transport", "redis"),
         "--transport redis needs the Redis server's URL: --transport-url URL or STRATA_TRANSPORT_URL"),
        (("only.py", "--max-payload", "lots"), "--max-payload: expected a size such as 10MB, 512KiB or 1048576, "
                                               "got 'lots'"),
        (("only.py", "--allow-origin", "notebooks.example"),
         "--allow-origin 'notebooks.example': expected an origin such as https://notebooks.example.com:8443"),
    ],
)
def test_a_bad_invocation_is_one_clear_error(tmp_path: Path, stack: Path, args: tuple[str, ...], message: str) -> None:
    result = strata(tmp_path, "serve", *args)
    assert (result.returncode, result.stderr.strip()) == (2, message)


def test_a_busy_port_is_a_clear_error(tmp_path: Path, stack: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = strata(tmp_path, "serve", "only.py", "--port", str(port))
    assert (result.returncode, result.stderr.strip()) == (2, f"cannot listen on 127.0.0.1:{port}: the port is in use")


def test_a_lone_notebook_serves_its_public_definitions(tmp_path: Path, serve) -> None:
    write_notebook(
        tmp_path / "lone.py",
        "@app.cell\ndef _():\n    import marimo as mo\n    return (mo,)",
        "@app.cell\ndef _():\n    n = 1\n    return (n,)",
        "@app.cell\ndef _(n):\n    def helper():\n        return n\n    squares = [i * i for i in range(n)]\n"
        "    _hidden = 'private'\n    return helper, squares",
    )
    running = serve("lone.py", "--input", "n=4", "--no-ui")
    wait_ready(running)
    listing = httpx.get(f"{running.url}/outputs/nothing").json()
    assert listing == {"error": "unknown output 'nothing'", "outputs": ["squares"]}
    assert output_value(running.url, "squares") == [0, 1, 4, 9]


def test_a_lone_notebook_leaves_out_what_cannot_be_encoded_and_says_why(tmp_path: Path, serve) -> None:
    write_notebook(
        tmp_path / "lone.py",
        "@app.cell\ndef _():\n    with open(__file__) as f:\n        text = f.readline()\n    return f, text",
        "@app.cell\ndef _():\n    numbers = (n for n in range(3))\n    return (numbers,)",
    )
    running = serve("lone.py", "--no-ui")
    wait_ready(running)
    interface = httpx.get(f"{running.url}/interface").json()
    assert [o["name"] for o in interface["outputs"]] == ["text"]
    assert interface["left_out"] == {
        "f": "object of type TextIOWrapper (an iterator: encoding it would consume it) at value",
        "numbers": "object of type generator (an iterator: encoding it would consume it) at value",
    }
    assert output_value(running.url, "text") == "import marimo\n"


@pytest.mark.parametrize("text, size", [("10MB", 10_000_000), ("512KiB", 524_288), ("1048576", 1_048_576),
                                        ("1.5 MiB", 1_572_864), ("2k", 2000)])
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text, "--max-payload") == size


def test_size_without_a_number_is_refused() -> None:
    with pytest.raises(StrataError, match="--max-payload: expected a size"):
        parse_size("MB", "--max-payload")
