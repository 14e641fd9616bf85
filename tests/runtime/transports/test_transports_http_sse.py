"""Changes propagating between hosts over HTTP/SSE (agentstrata.runtime.transports.http_sse): /events +
conditional GET, transforms in flight, upstreams that are late, restart, answer garbage, time out or send too much."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from tests.runtime.conftest import (
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
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from agentstrata.runtime.encoding import encode_value
from agentstrata.runtime.server import bind
from agentstrata.runtime.versions import content_version

STACK = """
stack:
  name: proptest
  agents:
    - name: source
      layer: 0
      port: {source_port}
      implementation: {{path: source.py}}
      interface:
        inputs:
          - {{name: raw, type: raw, source: "file:data.yaml"}}
        outputs:
          - {{name: log_text, type: log, exposed_as: "reactive_cell:log_text"}}
          - {{name: numbers, type: numbers, exposed_as: "reactive_cell:numbers"}}
    - name: sink
      layer: 1
      port: {sink_port}
      implementation: {{path: sink.py}}
      interface:
        inputs:
          - {{name: entries, type: log, source: "agent:source.log_text"}}
          - {{name: doubled, type: numbers, source: "agent:source.numbers"}}
        outputs:
          - {{name: summary, type: summary, exposed_as: "reactive_cell:summary"}}
  data_flow:
    - {{from: source, to: sink, data: log_text, transform: parse_yaml_log}}
    - {{from: source, to: sink, data: numbers, transform: "strata_test_transforms:double"}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """source reads data.yaml and writes a YAML log; sink gets it parsed, and the numbers doubled."""
    write_notebook(
        tmp_path / "source.py",
        """
        @app.cell
        def _():
            raw = {"messages": [], "numbers": []}
            return (raw,)
        """,
        """
        @app.cell
        def _(raw):
            log_text = "".join(
                f"- timestamp: '2024-01-0{i + 1}T00:00:00'\\n  message: {m}\\n" for i, m in enumerate(raw["messages"])
            )
            numbers = list(raw["numbers"])
            return log_text, numbers
        """,
    )
    write_notebook(
        tmp_path / "sink.py",
        """
        @app.cell
        def _():
            entries = []
            return (entries,)
        """,
        """
        @app.cell
        def _():
            doubled = []
            return (doubled,)
        """,
        """
        @app.cell
        def _(doubled, entries):
            summary = {"count": len(entries), "last": entries[-1]["message"] if entries else None,
                       "doubled": doubled}
            return (summary,)
        """,
    )
    (tmp_path / "strata_test_transforms.py").write_text("def double(value):\n    return [2 * v for v in value]\n")
    return tmp_path


def stack_file(project: Path) -> Path:
    return write_stack(project / "stack.yaml", STACK.format(source_port=free_port(), sink_port=free_port()))


def set_data(project: Path, messages: list[str], numbers: list[int]) -> None:
    (project / "data.yaml").write_text(json.dumps({"messages": messages, "numbers": numbers}))


def env(project: Path) -> dict[str, str]:
    return {"PYTHONPATH": str(project)}


def test_a_change_propagates_from_one_host_to_the_next_with_transforms_in_flight(project: Path, serve) -> None:
    stack = stack_file(project)
    set_data(project, ["first"], [1, 2])
    source = serve("--stack", str(stack), "--agent", "source", "--no-ui", port=_port(stack, "source"), env=env(project))
    sink = serve("--stack", str(stack), "--agent", "sink", "--no-ui", port=_port(stack, "sink"), env=env(project))
    wait_ready(source)
    wait_ready(sink)
    assert output_value(sink.url, "summary") == {"count": 1, "last": "first", "doubled": [2, 4]}
    set_data(project, ["first", "second"], [5])
    wait_until(lambda: output_value(sink.url, "summary") == {"count": 2, "last": "second", "doubled": [10]},
               "the change to reach the sink")
    health = get_json(f"{sink.url}/health")
    assert health["inputs"]["entries"]["version"] == get_json(f"{source.url}/outputs/log_text")["version"]


def test_a_downstream_started_first_becomes_ready_once_its_upstream_appears(project: Path, serve) -> None:
    stack = stack_file(project)
    set_data(project, ["only"], [3])
    sink = serve("--stack", str(stack), "--agent", "sink", "--no-ui", port=_port(stack, "sink"), env=env(project))
    not_ready = wait_until(lambda: (r := httpx.get(f"{sink.url}/ready", timeout=2)).status_code == 503
                           and "unreachable" in json.dumps(r.json()) and r.json(), "the sink to report its upstream")
    url = f"http://127.0.0.1:{_port(stack, 'source')}"
    expected = f"input 'entries' (agent:source.log_text): upstream source unreachable at {url}"
    assert not_ready["missing"][0].startswith(expected)
    source = serve("--stack", str(stack), "--agent", "source", "--no-ui", port=_port(stack, "source"), env=env(project))
    wait_ready(source)
    wait_ready(sink)
    assert output_value(sink.url, "summary") == {"count": 1, "last": "only", "doubled": [6]}


def test_a_restarted_upstream_is_followed_again(project: Path, serve) -> None:
    stack = stack_file(project)
    set_data(project, ["before"], [1])
    args = ("--stack", str(stack), "--agent", "source", "--no-ui")
    source = serve(*args, port=_port(stack, "source"), env=env(project))
    sink = serve("--stack", str(stack), "--agent", "sink", "--no-ui", port=_port(stack, "sink"), env=env(project))
    wait_ready(source)
    wait_ready(sink)
    source.kill()
    health = wait_until(lambda: (h := get_json(f"{sink.url}/health"))["inputs"]["entries"]["problem"] and h,
                        "the sink to notice")
    assert "upstream source unreachable" in health["inputs"]["entries"]["problem"]
    assert output_value(sink.url, "summary") == {"count": 1, "last": "before", "doubled": [2]}
    set_data(project, ["before", "after"], [4])
    source = serve(*args, port=_port(stack, "source"), env=env(project))
    wait_until(lambda: output_value(sink.url, "summary") == {"count": 2, "last": "after", "doubled": [8]},
               "the sink to follow the restarted source")


def _port(stack: Path, agent: str) -> int:
    from agentstrata.loader import load_stack

    return load_stack(stack).stack.agent(agent).port  # type: ignore[union-attr,return-value]


# -- a fake upstream, to make it misbehave on purpose -------------------------------------------


class FakeUpstream:
    """Serves /events and /outputs/log_text for 'source' with whatever body the test sets."""

    def __init__(self) -> None:
        self.version = ""
        self.body = b""
        self.delay = 0.0
        self.announce = asyncio.Event()

    def serve_value(self, value: object) -> None:
        data = encode_value(value)
        self.version = content_version(data)
        self.body = b'{"name":"log_text","version":"' + self.version.encode() + b'","value":' + data + b"}"

    def app(self) -> Starlette:
        async def events(_: Request) -> Response:
            async def stream() -> AsyncIterator[bytes]:
                while True:
                    payload = json.dumps({"agent": "source", "versions": {"log_text": self.version,
                                                                           "numbers": "n1"}})
                    yield f"event: version\ndata: {payload}\n\n".encode()
                    await asyncio.sleep(0.2)

            return StreamingResponse(stream(), media_type="text/event-stream")

        async def output(request: Request) -> Response:
            await asyncio.sleep(self.delay)
            if request.path_params["name"] == "numbers":
                data = b"[1]"
                return Response(b'{"name":"numbers","version":"' + content_version(data).encode()
                                + b'","value":[1]}', media_type="application/json")
            return Response(self.body, media_type="application/json")

        return Starlette(routes=[Route("/events", events), Route("/outputs/{name}", output)])


@contextmanager
def fake_upstream() -> Iterator[tuple[FakeUpstream, str]]:
    fake = FakeUpstream()
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(fake.app(), log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, "the fake upstream")
    try:
        yield fake, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sink_behind(project: Path, url: str, monkeypatch: pytest.MonkeyPatch, **options: object):
    monkeypatch.setenv("STRATA_UPSTREAM_SOURCE_URL", url)
    monkeypatch.syspath_prepend(str(project))
    return running_host(stack_config(stack_file(project), "sink", **options))


GOOD_LOG = "- timestamp: '2024-01-01'\n  message: good\n"


def test_an_upstream_answering_garbage_leaves_the_last_good_value(project: Path, monkeypatch) -> None:
    with fake_upstream() as (fake, url):
        fake.serve_value(GOOD_LOG)
        with sink_behind(project, url, monkeypatch) as sink:
            wait_until(lambda: output_value(sink.url, "summary") == {"count": 1, "last": "good", "doubled": [2]},
                       "the good value")
            fake.version, fake.body = "feedfacefeedface", b'{"version": "feedfacefeedface", "value": "not it'
            health = wait_until(lambda: (h := get_json(f"{sink.url}/health"))["inputs"]["entries"]["problem"] and h,
                                "the garbage to be noticed")
            summary = output_value(sink.url, "summary")
    assert health["inputs"]["entries"]["problem"].startswith("upstream source.log_text: invalid envelope (")
    assert health["inputs"]["entries"]["problem"].endswith("; keeping the last good value")
    assert summary == {"count": 1, "last": "good", "doubled": [2]}


def test_an_envelope_whose_version_does_not_match_its_value_is_refused(project: Path, monkeypatch) -> None:
    with fake_upstream() as (fake, url):
        fake.serve_value(GOOD_LOG)
        with sink_behind(project, url, monkeypatch) as sink:
            wait_until(lambda: output_value(sink.url, "summary") is not None, "the good value")
            fake.version = "0123456789abcdef"
            fake.body = b'{"name":"log_text","version":"0123456789abcdef","value":"- message: forged\\n"}'
            health = wait_until(lambda: (h := get_json(f"{sink.url}/health"))["inputs"]["entries"]["problem"] and h,
                                "the forged envelope to be noticed")
    assert health["inputs"]["entries"]["problem"] == (
        "upstream source.log_text: invalid envelope (ValueError: version 0123456789abcdef does not match "
        "the value's content); keeping the last good value"
    )


def test_an_upstream_that_times_out_leaves_the_last_good_value(project: Path, monkeypatch) -> None:
    with fake_upstream() as (fake, url):
        fake.serve_value(GOOD_LOG)
        with sink_behind(project, url, monkeypatch, upstream_timeout=0.5) as sink:
            wait_until(lambda: output_value(sink.url, "summary") is not None, "the good value")
            fake.delay = 3.0
            fake.serve_value("- timestamp: '2024-01-02'\n  message: late\n")
            health = wait_until(lambda: (h := get_json(f"{sink.url}/health"))["inputs"]["entries"]["problem"] and h,
                                "the timeout to be noticed")
            summary = output_value(sink.url, "summary")
    assert health["inputs"]["entries"]["problem"].startswith("upstream source.log_text: fetch failed: ReadTimeout")
    assert summary == {"count": 1, "last": "good", "doubled": [2]}


def test_an_upstream_payload_over_the_limit_is_refused(project: Path, monkeypatch) -> None:
    with fake_upstream() as (fake, url):
        fake.serve_value("- message: " + "x" * 5000 + "\n")
        with sink_behind(project, url, monkeypatch, max_payload=1000) as sink:
            ready = wait_until(lambda: (r := get_json(f"{sink.url}/ready")) and r["missing"] != [] and
                               "over the limit" in " ".join(r["missing"]) and r, "the refusal")
    assert any(
        line.startswith("input 'entries' (agent:source.log_text): upstream source.log_text: payload of ")
        and line.endswith("bytes is over the limit of 1000 bytes (--max-payload); keeping the last good value")
        for line in ready["missing"]
    )


def test_a_failing_transform_degrades_health_until_a_value_passes_it(project: Path, monkeypatch) -> None:
    with fake_upstream() as (fake, url):
        fake.serve_value(GOOD_LOG)
        with sink_behind(project, url, monkeypatch) as sink:
            wait_until(lambda: output_value(sink.url, "summary") is not None, "the good value")
            fake.serve_value("- [not closed\n")
            degraded = wait_until(lambda: (h := get_json(f"{sink.url}/health"))["status"] == "degraded" and h,
                                  "health to say degraded")
            served = get_json(f"{sink.url}/outputs/summary")
            ready = httpx.get(f"{sink.url}/ready").status_code
            fake.serve_value("- timestamp: '2024-01-02'\n  message: better\n")
            recovered = wait_until(lambda: (h := get_json(f"{sink.url}/health"))["status"] == "ok" and h,
                                   "health to be ok again")
            summary = output_value(sink.url, "summary")
    assert degraded["problems"] == [
        "input 'entries' (agent:source.log_text): upstream source.log_text: transform for input 'entries' failed: "
        "parse_yaml_log: log: line 2: invalid YAML: did not find expected ',' or ']'; "
        "keeping the last good value"
    ]
    assert (served["value"]["last"], served["stale"], ready) == ("good", True, 200)
    assert recovered["problems"] == [] and summary["last"] == "better"
