"""Runtime benchmarks on the local target with the kb-conduit stack; writes `## Runtime` of RESULTS.md.

- cold start: `strata up` wall time, and each agent's start -> ready (from the supervisor's log);
- idle RSS of each agent's process;
- propagation latency: append a session entry to the KB (layer 0's input) and time until the
  concierge (layer 3) announces a new `recommendations` version on its /events stream;
- `/outputs` requests per second on loopback, with and without `If-None-Match`.

Everything runs twice: notebooks as written (every cell runs), and with STRATA_OUTPUTS_ONLY=1
(only the cells the outputs need). The stack is copied into a temp project; ports 2717-2722 must be free.
A chain of four trivial agents (L0 file -> L1 -> L2 -> L3) measures the runtime's own share of the
latency, without the reference notebooks' work.
Usage: .venv/bin/python bench/bench_runtime.py [--changes N] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from agentstrata.runtime.server import bind  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STRATA = [sys.executable, "-c", "import sys; from agentstrata.cli import main; sys.argv[0] = 'strata'; main()"]
STACK = "stacks/kb-conduit.yaml"
CONCIERGE = "http://127.0.0.1:2722"
WORKSPACE = "api-gateway"
CHANGE_TIMEOUT = 10.0
SETTLE_SECONDS = 1.5
LOAD_SECONDS = 5.0
LOAD_CONCURRENCY = 16


CHAIN_NOTEBOOK = """import marimo

app = marimo.App()


@app.cell
def _():
    value = {}
    return (value,)


@app.cell
def _(value):
    passed = {"hops": value.get("hops", 0) + 1, "change": value.get("change")}
    return (passed,)
"""


def chain_project(base: Path) -> tuple[Path, dict[str, int]]:
    """Four agents in a line; each passes its input on, counting hops."""
    (base / "cdktf.json").write_text("{}")
    (base / "hop.py").write_text(CHAIN_NOTEBOOK)
    (base / "data.json").write_text('{"change": -1}')
    ports = {}
    agents = []
    for layer in range(4):
        sock = bind("127.0.0.1", 0)
        ports[f"hop{layer}"] = sock.getsockname()[1]
        sock.close()
        source = '"file:data.json"' if layer == 0 else f'"agent:hop{layer - 1}.passed"'
        agents.append(
            f"    - name: hop{layer}\n      layer: {layer}\n      port: {ports[f'hop{layer}']}\n"
            f"      implementation: {{path: hop.py}}\n"
            + (f"      dependencies: [{{agent_name: hop{layer - 1}, inputs: {{passed: value}}}}]\n" if layer else "")
            + "      interface:\n"
            f"        inputs: [{{name: value, type: hop, source: {source}}}]\n"
            f"        outputs: [{{name: passed, type: hop, exposed_as: \"reactive_cell:passed\"}}]\n"
        )
    (base / "chain.yaml").write_text("stack:\n  name: chain\n  agents:\n" + "".join(agents)
                                     + "deployment:\n  target: local\n  local: {workspace_path: .}\n")
    return base, ports


def chain_latency(env: dict[str, str], changes: int) -> list[float]:
    """L0 file write -> L3 output carrying that change, over a chain of trivial notebooks."""
    with tempfile.TemporaryDirectory() as directory:
        base, ports = chain_project(Path(directory))
        up = strata(base, env, "up", "chain.yaml", "--timeout", "180")
        if up.returncode != 0:
            sys.exit(f"strata up (chain) failed:\n{up.stderr}")
        try:
            watch = VersionWatch(f"http://127.0.0.1:{ports['hop3']}", "passed")
            watch.start()
            watch.seen.get(timeout=10)
            latencies = []
            for index in range(changes):
                began = time.monotonic()
                (base / "data.json").write_text(json.dumps({"change": index}))
                at, _ = watch.seen.get(timeout=CHANGE_TIMEOUT)
                latencies.append(at - began)
                time.sleep(0.2)
        finally:
            strata(base, env, "down", "chain.yaml")
    return latencies


def project(base: Path) -> Path:
    shutil.copy(ROOT / "cdktf.json", base / "cdktf.json")
    shutil.copytree(ROOT / "agents", base / "agents", ignore=shutil.ignore_patterns("__pycache__", "__marimo__"))
    (base / "stacks").mkdir()
    shutil.copy(ROOT / STACK, base / STACK)
    shutil.copytree(ROOT / "stacks" / "sample-kb", base / "kb")
    return base


def strata(base: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*STRATA, *args], cwd=base, env=env, capture_output=True, text=True, timeout=600)


def cold_start(base: Path, env: dict[str, str]) -> tuple[float, dict[str, float], dict]:
    started = time.perf_counter()
    up = strata(base, env, "up", STACK, "--timeout", "180")
    wall = time.perf_counter() - started
    if up.returncode != 0:
        sys.exit(f"strata up failed:\n{up.stderr}")
    per_agent: dict[str, float] = {}
    begun: dict[str, dt.datetime] = {}
    for line in (base / ".strata/local/kb-conduit/supervisor.log").read_text().splitlines():
        stamp = dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
        if match := re.search(r"supervisor: started (\S+)", line):
            begun[match.group(1)] = stamp
        elif (match := re.search(r"supervisor: (\S+) is ready", line)) and match.group(1) not in per_agent:
            per_agent[match.group(1)] = (stamp - begun[match.group(1)]).total_seconds()
    status = json.loads(strata(base, env, "status", STACK, "--format", "json").stdout)
    return wall, per_agent, status


def idle_rss(status: dict) -> dict[str, float]:
    time.sleep(5)  # let every agent settle
    rss = {}
    for agent in status["agents"]:
        process = psutil.Process(agent["pid"])
        rss[agent["name"]] = sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20
    return rss


class VersionWatch(threading.Thread):
    """Follows an agent's /events; queues (monotonic time, version of ``output``) for each new version."""

    def __init__(self, url: str = CONCIERGE, output: str = "recommendations") -> None:
        super().__init__(daemon=True)
        self.url = url
        self.output = output
        self.seen: queue.Queue[tuple[float, str]] = queue.Queue()

    def run(self) -> None:
        last = None
        with httpx.stream("GET", f"{self.url}/events", timeout=None) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    version = json.loads(line[5:])["versions"].get(self.output, "")
                    if version != last:
                        self.seen.put((time.monotonic(), version))
                        last = version


def propagation(base: Path, changes: int) -> tuple[list[float], list[float], int]:
    """Per change: seconds to the first new concierge version, and to the last one (settled)."""
    watch = VersionWatch()
    watch.start()
    current = watch.seen.get(timeout=10)[1]
    sessions = base / "kb" / "workspaces" / WORKSPACE / "sessions.yaml"
    first, settled, missed = [], [], 0
    for index in range(changes):
        stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        entry = (f'- timestamp: "{stamp}"\n  message: "bench change {index}"\n'
                 f'  tags: ["bench"]\n  agent: "bench"\n')
        began = time.monotonic()
        with open(sessions, "a") as handle:
            handle.write(entry)
        times = []
        deadline = began + CHANGE_TIMEOUT
        while time.monotonic() < deadline:
            try:
                at, version = watch.seen.get(timeout=SETTLE_SECONDS if times else max(deadline - time.monotonic(), 0))
            except queue.Empty:
                break
            if version != current:
                times.append(at - began)
                current = version
        if times:
            first.append(times[0])
            settled.append(times[-1])
        else:
            missed += 1
    return first, settled, missed


async def load(etag: bool) -> float:
    """Requests per second from keep-alive connections speaking raw HTTP/1.1 (httpx's async pool
    tops out near 100 req/s here, which would measure the client, not the server)."""
    version = httpx.get(f"{CONCIERGE}/outputs/recommendations").headers["etag"]
    extra = f"If-None-Match: {version}\r\n" if etag else ""
    request = f"GET /outputs/recommendations HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()
    expected = b"304" if etag else b"200"
    stop = time.monotonic() + LOAD_SECONDS
    done = 0

    async def connection() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", 2722)
        while time.monotonic() < stop:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = head.split(b" ", 2)[1]
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            assert status == expected, status
            done += 1
        writer.close()

    started = time.monotonic()
    await asyncio.gather(*(connection() for _ in range(LOAD_CONCURRENCY)))
    return done / (time.monotonic() - started)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def cpu_probe() -> float:
    started = time.process_time()
    sum(range(50_000_000))
    return time.process_time() - started


def measure(outputs_only: bool, changes: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("KB_CONDUIT_ROOT", "STRATA_STATE_DIR")}
    if outputs_only:
        env["STRATA_OUTPUTS_ONLY"] = "1"
    with tempfile.TemporaryDirectory() as directory:
        base = project(Path(directory))
        env["KB_CONDUIT_ROOT"] = str(base / "kb")
        try:
            wall, per_agent, status = cold_start(base, env)
            rss = idle_rss(status)
            first, settled, missed = propagation(base, changes)
            size = len(httpx.get(f"{CONCIERGE}/outputs/recommendations").content)
            rps_plain = asyncio.run(load(etag=False))
            rps_etag = asyncio.run(load(etag=True))
        finally:
            strata(base, env, "down", STACK)
    chain = chain_latency(env, changes)
    return {"wall": wall, "per_agent": per_agent, "rss": rss, "first": first, "settled": settled,
            "missed": missed, "size": size, "rps_plain": rps_plain, "rps_etag": rps_etag, "chain": chain}


def report(runs: dict[str, dict], changes: int, load_before: float, load_after: float, probe: float) -> str:
    modes = list(runs)
    lines = [
        "Command: `.venv/bin/python bench/bench_runtime.py` (kb-conduit stack on the local target, copied into a "
        f"temp project; {changes} changes; each mode is a fresh `strata up` ... `down`).",
        "",
        "Modes: *all cells* = notebooks run as written; *outputs only* = `STRATA_OUTPUTS_ONLY=1` / "
        "`strata serve --outputs-only`, which runs only the cells the declared outputs need.",
        "",
        "| measure | " + " | ".join(modes) + " | target |",
        "| --- | " + " | ".join("---:" for _ in modes) + " | --- |",
    ]

    def row(label: str, values: list[str], target: str = "") -> None:
        lines.append(f"| {label} | " + " | ".join(values) + f" | {target} |")

    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    row("propagation L0 -> L3, first new version, p50", [ms(percentile(r["first"], 50)) for r in runs.values()],
        "<= 300 ms")
    row("same, p95", [ms(percentile(r["first"], 95)) for r in runs.values()], "<= 1 s")
    row("propagation, settled (last new version), p50", [ms(percentile(r["settled"], 50)) for r in runs.values()])
    row("same, p95", [ms(percentile(r["settled"], 95)) for r in runs.values()])
    row("changes without a new L3 version in 10 s", [str(r["missed"]) for r in runs.values()])
    row("runtime alone: 4 trivial agents L0 -> L3, p50", [ms(percentile(r["chain"], 50)) for r in runs.values()])
    row("same, p95", [ms(percentile(r["chain"], 95)) for r in runs.values()])
    row("cold start, `strata up` wall (6 agents, 4 layers)", [f"{r['wall']:.1f} s" for r in runs.values()])
    for agent in runs[modes[0]]["per_agent"]:
        row(f"cold start of {agent}, started -> ready", [f"{r['per_agent'][agent]:.1f} s" for r in runs.values()])
    for agent in runs[modes[0]]["rss"]:
        row(f"idle RSS, {agent}", [f"{r['rss'][agent]:.0f} MiB" for r in runs.values()], "<= 150 MB")
    size = runs[modes[0]]["size"]
    row(f"`/outputs` req/s, 200 (body {size} B)", [f"{r['rps_plain']:.0f}" for r in runs.values()])
    row("`/outputs` req/s, `If-None-Match` -> 304", [f"{r['rps_etag']:.0f}" for r in runs.values()])
    lines += [
        "",
        f"Load generator: {LOAD_CONCURRENCY} keep-alive connections speaking raw HTTP/1.1 (asyncio streams) for "
        f"{LOAD_SECONDS:.0f} s each, on the same 2 cores as the stack (it competes with the server for CPU); "
        "httpx's async client was the bottleneck at ~100 req/s, so it is not used for this.",
        f"Machine at the time: load average {load_before:.1f} before, {load_after:.1f} after (2 cores); the fixed "
        f"pure-Python loop (`sum(range(50_000_000))`) took {probe:.2f} s CPU.",
        "",
        "Where the time goes (profiled on the trivial chain and the agents' logs): per hop about 10 ms of debounce "
        "(`--debounce-ms`, env `STRATA_DEBOUNCE_MS`), 7-10 ms of `app.run` for a two-cell notebook (about 4 ms of "
        "it is marimo re-reading every installed package's entry points on each run), and about 8 ms for the "
        "`/events` announcement plus the conditional GET; the L0 file write takes about 25 ms to be reported by "
        "watchfiles. On kb-conduit the notebooks' own work adds the rest; *outputs only* skips their display "
        "cells. Downstream agents hold their runs while an upstream announces `pending`, so each change updates "
        "the concierge once (first = settled above). Cold start per agent is mostly imports: Python plus "
        "`agentstrata.cli` takes about 3 s (marimo alone 1.1-2 s), then the notebook's import and first run; "
        "layers start in order, so the stack's cold start is the sum over its 4 layers. Idle RSS is one process "
        "per agent with marimo, starlette and the notebook loaded, no UI session open.",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    results = ROOT / "bench" / "RESULTS.md"
    content = results.read_text()
    start = content.index("## Runtime")
    following = content.find("\n## ", start + 1)
    end = len(content) if following == -1 else following + 1
    content = content[:start] + "## Runtime\n\n" + text + "\n\n" + content[end:]
    results.write_text(content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=60)
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    probe = cpu_probe()
    runs = {"all cells": measure(False, args.changes), "outputs only": measure(True, args.changes)}
    text = report(runs, args.changes, load_before, os.getloadavg()[0], probe)
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    main()
