"""The host's HTTP API on a real uvicorn server with a real marimo notebook (agentstrata.runtime.host)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.runtime.conftest import get_json, running_host, stack_config, wait_until, write_notebook, write_stack

from agentstrata.runtime.encoding import encode_value

STACK = """
stack:
  name: hosttest
  agents:
    - name: producer
      layer: 0
      implementation: {path: producer.py}
      interface:
        inputs:
          - {name: data, type: data, source: "file:data.json"}
        outputs:
          - {name: doubled, type: doubled, exposed_as: "reactive_cell:doubled"}
          - {name: opaque, type: opaque, exposed_as: "reactive_cell:opaque"}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A one-agent stack: ``data.json`` -> producer -> doubled, opaque."""
    write_notebook(
        tmp_path / "producer.py",
        """
        @app.cell
        def _():
            data = {"n": 1}
            return (data,)
        """,
        """
        @app.cell
        def _(data):
            if data.get("fail"):
                raise ValueError("asked to fail")
            doubled = {"n": data["n"], "twice": data["n"] * 2, "blob": "x" * data.get("size", 0)}
            return (doubled,)
        """,
        """
        @app.cell
        def _(data):
            class Foo:
                pass

            opaque = {"a": [1, 2, 3, Foo()]} if data.get("opaque") else {"a": []}
            return (opaque,)
        """,
    )
    write_stack(tmp_path / "stack.yaml", STACK)
    return tmp_path


def set_data(project: Path, **data: object) -> None:
    (project / "data.json").write_text(json.dumps(data))


def envelope(url: str, name: str = "doubled") -> dict:
    return get_json(f"{url}/outputs/{name}")


def wait_value(url: str, expected: dict) -> dict:
    return wait_until(lambda: (e := envelope(url)).get("value") == expected and e, f"doubled == {expected}")


def test_output_envelope_carries_a_content_version(project: Path) -> None:
    set_data(project, n=2)
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        wait_until(lambda: httpx.get(f"{running.url}/ready").status_code == 200, "ready")
        response = httpx.get(f"{running.url}/outputs/doubled")
    body = response.json()
    value = {"n": 2, "twice": 4, "blob": ""}
    version = hashlib.sha256(encode_value(value)).hexdigest()[:16]
    assert body == {"agent": "producer", "name": "doubled", "version": version, "stale": False,
                    "updated_at": body["updated_at"], "value": value}
    assert response.headers["etag"] == f'"{version}"'


def test_if_none_match_answers_304(project: Path) -> None:
    set_data(project, n=2)
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        wait_value(running.url, {"n": 2, "twice": 4, "blob": ""})
        etag = httpx.get(f"{running.url}/outputs/doubled").headers["etag"]
        same = httpx.get(f"{running.url}/outputs/doubled", headers={"If-None-Match": etag})
        other = httpx.get(f"{running.url}/outputs/doubled", headers={"If-None-Match": '"0000"'})
    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", etag)
    assert other.status_code == 200


def test_versions_are_by_content(project: Path) -> None:
    set_data(project, n=2)
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        first = wait_value(running.url, {"n": 2, "twice": 4, "blob": ""})
        set_data(project, n=3)
        second = wait_value(running.url, {"n": 3, "twice": 6, "blob": ""})
        set_data(project, n=2, unused="changes the input, not the output")
        third = wait_value(running.url, {"n": 2, "twice": 4, "blob": ""})
    assert first["version"] != second["version"]
    assert third["version"] == first["version"]


def test_unknown_output_is_404_listing_the_outputs(project: Path) -> None:
    set_data(project, n=1)
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        response = httpx.get(f"{running.url}/outputs/nope")
    assert response.status_code == 404
    assert response.json() == {"error": "unknown output 'nope'", "outputs": ["doubled", "opaque"]}


def test_ready_is_503_until_every_input_resolves(project: Path) -> None:
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        before = httpx.get(f"{running.url}/ready")
        no_value = httpx.get(f"{running.url}/outputs/doubled")
        set_data(project, n=1)
        wait_until(lambda: httpx.get(f"{running.url}/ready").status_code == 200, "ready once data.json exists")
    assert before.status_code == 503
    assert before.json()["missing"] == ["input 'data' (file:data.json): data.json does not exist"]
    assert no_value.status_code == 503
    assert no_value.json()["error"] == "output 'doubled' has no value yet"


def test_a_notebook_that_raises_keeps_serving_its_last_good_outputs(project: Path) -> None:
    set_data(project, n=5)
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        good = wait_value(running.url, {"n": 5, "twice": 10, "blob": ""})
        set_data(project, n=6, fail=True)
        health = wait_until(lambda: (h := get_json(f"{running.url}/health"))["last_error"] and h, "the failure")
        after = envelope(running.url)
        ready = httpx.get(f"{running.url}/ready").status_code
    error = health["last_error"]
    source = (project / "producer.py").read_text().splitlines()
    assert source[error["line"] - 1].strip() == 'raise ValueError("asked to fail")'
    message = f"cell '_' (producer.py:{error['line']}) raised ValueError: asked to fail"
    assert error == {"kind": "notebook", "message": message, "file": "producer.py", "cell": "_",
                     "line": error["line"], "exception": "ValueError: asked to fail"}
    assert (health["status"], health["problems"]) == ("degraded", [f"last run failed: {message}"])
    assert after["version"] == good["version"] and after["stale"] is True
    assert ready == 200


def test_health_and_ready_show_no_traceback_path_or_pid(project: Path) -> None:
    set_data(project, n=1, fail=True)
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        health = wait_until(lambda: (h := httpx.get(f"{running.url}/health")).json()["last_error"] and h, "the error")
        ready = httpx.get(f"{running.url}/ready")
    for answer in (health, ready):
        assert "Traceback" not in answer.text and str(project) not in answer.text
    assert "pid" not in health.json()


def test_an_input_file_that_stops_parsing_degrades_health_until_it_parses_again(project: Path) -> None:
    set_data(project, n=3)
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        good = wait_value(running.url, {"n": 3, "twice": 6, "blob": ""})
        ok = get_json(f"{running.url}/health")
        (project / "data.json").write_text("{not json")
        degraded = wait_until(lambda: (h := get_json(f"{running.url}/health"))["status"] == "degraded" and h,
                              "health to say degraded")
        served, ready = envelope(running.url), httpx.get(f"{running.url}/ready").status_code
        set_data(project, n=4)
        recovered = wait_until(lambda: (h := get_json(f"{running.url}/health"))["status"] == "ok" and h,
                               "health to be ok again")
    assert (ok["status"], ok["problems"]) == ("ok", [])
    assert degraded["problems"] == [
        "input 'data' (file:data.json): cannot parse data.json: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1); keeping the last good value"
    ]
    assert (served["version"], served["stale"], ready) == (good["version"], True, 200)
    assert degraded["outputs"]["doubled"]["stale"] is True
    assert recovered["problems"] == [] and recovered["inputs"]["data"]["problem"] is None


@contextmanager
def tiny_tmpfs(path: Path) -> Iterator[Path]:
    """A real 64 KiB filesystem at ``path`` (needs root, as mounting does)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs to fill it needs root")
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def fill(directory: Path) -> Path:
    """Write ``directory/filler`` until the filesystem is full."""
    filler = directory / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(descriptor, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(descriptor)
    return filler


def test_a_state_write_that_fails_degrades_health_and_leaves_no_temp_file(project: Path) -> None:
    set_data(project, n=2)
    config = stack_config(project / "stack.yaml", "producer")
    with tiny_tmpfs(project / "state") as state:
        config.state_dir = state
        (state / "outputs").mkdir()
        filler = fill(state)
        with running_host(config) as running:
            wait_value(running.url, {"n": 2, "twice": 4, "blob": ""})
            degraded = wait_until(lambda: (h := get_json(f"{running.url}/health"))["status"] == "degraded" and h,
                                  "health to say degraded")
            ready = httpx.get(f"{running.url}/ready").status_code
            left = sorted(p.name for p in state.rglob("*.tmp"))
            filler.unlink()
            recovered = wait_until(lambda: (h := get_json(f"{running.url}/health"))["status"] == "ok" and h,
                                   "health to be ok once the disk has room")
        persisted = sorted(p.name for p in (state / "outputs").iterdir())
    assert degraded["problems"] == ["state: cannot persist output 'doubled': No space left on device",
                                    "state: cannot persist output 'opaque': No space left on device"]
    assert (ready, left) == (200, [])
    assert recovered["problems"] == [] and persisted == ["doubled.json", "opaque.json"]


def test_a_value_that_cannot_be_encoded_is_a_json_error(project: Path) -> None:
    set_data(project, n=1, opaque=True)
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        response = wait_until(lambda: (r := httpx.get(f"{running.url}/outputs/opaque")).status_code == 500 and r,
                              "the encoding error")
        health = get_json(f"{running.url}/health")
    assert response.json() == {
        "error": "output 'opaque' is not JSON-encodable: object of type Foo at value['a'][3]"
    }
    assert health["last_error"]["outputs"] == {"opaque": response.json()["error"]}
    assert health["ready"] is False


def test_an_output_over_the_payload_limit_is_refused(project: Path) -> None:
    set_data(project, n=1, size=5000)
    with running_host(stack_config(project / "stack.yaml", "producer", max_payload=1000)) as running:
        response = wait_until(lambda: (r := httpx.get(f"{running.url}/outputs/doubled")).status_code == 500 and r,
                              "the payload error")
    size = len(encode_value({"n": 1, "twice": 2, "blob": "x" * 5000}))
    assert response.json() == {
        "error": f"output 'doubled' is {size} bytes encoded, over the payload limit of 1000 bytes (--max-payload)"
    }


def test_events_announce_each_new_version(project: Path) -> None:
    set_data(project, n=1)
    with running_host(stack_config(project / "stack.yaml", "producer", keepalive=0.3)) as running:
        first = wait_value(running.url, {"n": 1, "twice": 2, "blob": ""})
        frames: list[str] = []
        deadline = time.monotonic() + 30
        with httpx.stream("GET", f"{running.url}/events", timeout=10) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            frames.append(next(line for line in lines if line.startswith("data:")))
            set_data(project, n=7)
            for line in lines:
                frames.append(line)
                data = [json.loads(f[5:]) for f in frames if f.startswith("data:")]
                if ": keepalive" in frames and data[-1]["versions"]["doubled"] != first["version"]:
                    break
                assert time.monotonic() < deadline, frames
    data = [json.loads(f.removeprefix("data: ")) for f in frames if f.startswith("data:")]
    assert set(f for f in frames if f.startswith("event:")) == {"event: version"}
    assert (data[0]["versions"]["doubled"], data[0]["pending"]) == (first["version"], False)
    assert any(d["pending"] for d in data[1:-1])  # the run was announced before its result
    new = data[-1]
    assert (new["agent"], new["changed"], new["pending"]) == ("producer", ["doubled"], False)
    assert new["versions"]["doubled"] != first["version"]
    assert ": keepalive" in frames


def test_interface_is_the_declared_contract(project: Path) -> None:
    set_data(project, n=1)
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        body = get_json(f"{running.url}/interface")
    assert body == {
        "agent": "producer", "stack": "hosttest", "layer": 0, "edit": False, "transport": "http",
        "inputs": [{"name": "data", "type": "data", "source": "file:data.json"}],
        "outputs": [{"name": "doubled", "type": "doubled", "exposed_as": "reactive_cell:doubled"},
                    {"name": "opaque", "type": "opaque", "exposed_as": "reactive_cell:opaque"}],
    }


def test_a_restarted_host_serves_its_last_outputs_as_stale_at_once(project: Path) -> None:
    set_data(project, n=4)
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        good = wait_value(running.url, {"n": 4, "twice": 8, "blob": ""})
    (project / "data.json").unlink()  # the restarted host cannot compute anything
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        restored = envelope(running.url)
        ready = httpx.get(f"{running.url}/ready").status_code
    assert (restored["version"], restored["value"], restored["stale"]) == (good["version"], good["value"], True)
    assert ready == 503


def test_saving_the_notebook_reloads_it_and_runs_again(project: Path) -> None:
    set_data(project, n=2)
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        wait_value(running.url, {"n": 2, "twice": 4, "blob": ""})
        notebook = project / "producer.py"
        notebook.write_text(notebook.read_text().replace('"twice": data["n"] * 2', '"twice": data["n"] * 200'))
        wait_value(running.url, {"n": 2, "twice": 400, "blob": ""})


def test_a_notebook_that_does_not_parse_is_reported_with_its_line(project: Path) -> None:
    set_data(project, n=2)
    notebook = project / "producer.py"
    notebook.write_text(notebook.read_text().replace("if data.get(\"fail\"):", "if data.get(\"fail\") ::"))
    line = next(i for i, text in enumerate(notebook.read_text().splitlines(), 1) if "::" in text)
    with running_host(stack_config(project / "stack.yaml", "producer")) as running:
        health = wait_until(lambda: (h := get_json(f"{running.url}/health"))["last_error"] and h, "the error")
        ready = get_json(f"{running.url}/ready")
    error = health["last_error"]
    assert (error["line"], error["exception"].split(":")[0]) == (line, "SyntaxError")
    assert ready["ready"] is False
    assert ready["missing"][0].startswith(f"first run failed: producer.py:{line}: SyntaxError")
