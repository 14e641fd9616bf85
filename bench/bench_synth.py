"""Synth speed: `strata synth` of kb-conduit and of a generated 200-agent stack, against naive_synth.py; and the
Kubernetes target's synth of kb-conduit against the Docker target's (target: within 1.2x) and against
naive_synth_kubernetes.py (the prebuilt kubernetes bindings).

Whole-process wall time and peak RSS of the process tree (python and the jsii node process,
sampled), runs interleaved so that load on a shared machine hits every scenario alike. Writes the
"## Synth" section of bench/RESULTS.md. Usage: bench_synth.py [RUNS]
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
STRATA = ROOT / ".venv" / "bin" / "strata"
NAIVE = ROOT / "bench" / "naive_synth.py"
NAIVE_KUBERNETES = ROOT / "bench" / "naive_synth_kubernetes.py"
#: The Kubernetes target's synth may take this much of the Docker target's, in the same run.
KUBERNETES_RATIO = 1.2
K8S_SYNTH = "strata synth --target kubernetes"
RESULTS = ROOT / "bench" / "RESULTS.md"
TARGETS = {"kb-conduit": 1.5, "200 agents": 3.0}
LAYERS, WIDTH = 10, 20

NOTEBOOK = '''import marimo

app = marimo.App()


@app.cell
def _():
{inputs}
    return ({input_names})


@app.cell
def _({params}):
    out = {{"agent": "{name}", "from": [{params}]}}
    return (out,)
'''


def big_project(folder: Path) -> Path:
    """A project whose stack has LAYERS x WIDTH agents; each reads two agents of the layer below."""
    (folder / "agents").mkdir(parents=True)
    (folder / "kb").mkdir()
    (folder / "cdktf.json").write_text("{}\n")
    agents, flow = [], []
    for layer in range(LAYERS):
        for index in range(WIDTH):
            name = f"a{layer}_{index}"
            ups = [f"a{layer - 1}_{index}", f"a{layer - 1}_{(index + 1) % WIDTH}"] if layer else []
            inputs = [f"in{k}" for k in range(len(ups))]
            (folder / "agents" / f"{name}.py").write_text(NOTEBOOK.format(
                name=name, inputs="\n".join(f"    {i} = None" for i in inputs) or "    pass",
                input_names="".join(f"{i}, " for i in inputs), params=", ".join(inputs)))
            agents.append({
                "name": name, "layer": layer, "port": 3000 + layer * WIDTH + index,
                "implementation": {"path": f"agents/{name}.py"},
                "dependencies": [{"agent_name": u, "inputs": {"out": i}} for u, i in zip(ups, inputs)],
                "interface": {
                    "inputs": [{"name": i, "type": "t", "source": f"agent:{u}.out"} for u, i in zip(ups, inputs)],
                    "outputs": [{"name": "out", "type": "t", "exposed_as": "reactive_cell:out"}],
                },
            })
            flow += [{"from": u, "to": name, "data": "out"} for u in ups]
    stack = {"stack": {"name": "big", "agents": agents, "data_flow": flow},
             "deployment": {"target": "docker", "docker": {"workspace_path": "kb"}}}
    path = folder / "stacks" / "big.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(stack, sort_keys=False))
    return path


def measure(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MiB) of the process tree; fails loudly if the command fails.

    CPU is user + system time of the process and the children it waited for (jsii's node):
    on a shared machine it moves far less with load than wall time does.
    """
    start = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        process = subprocess.Popen(command, cwd=cwd, stdout=devnull, stderr=devnull, env=env)
    watched = psutil.Process(process.pid)
    peak = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        try:
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.01)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed ({os.waitstatus_to_exitcode(status)}): {' '.join(command)}")
    return wall, usage.ru_utime + usage.ru_stime, peak / 2**20


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        work = Path(tmp)
        big = big_project(work / "big")
        out = work / "out"
        scenarios = {
            ("kb-conduit", "strata synth"): [str(STRATA), "synth", "stacks/kb-conduit.yaml", "--out", str(out)],
            ("kb-conduit", "naive_synth.py"): [str(PYTHON), str(NAIVE), "stacks/kb-conduit.yaml", str(out)],
            ("200 agents", "strata synth"): [str(STRATA), "synth", str(big), "--out", str(out)],
            ("200 agents", "naive_synth.py"): [str(PYTHON), str(NAIVE), str(big), str(out)],
            ("kb-conduit", K8S_SYNTH): [str(STRATA), "synth", "stacks/kb-conduit.yaml", "--target", "kubernetes",
                                        "--out", str(out)],
            ("kb-conduit", "naive_synth_kubernetes.py"): [str(PYTHON), str(NAIVE_KUBERNETES), "stacks/kb-conduit.yaml",
                                                          str(out)],
            # Parts of `strata synth` outside the construct library, for the comparison with the naive script.
            ("kb-conduit", "strata validate"): [str(STRATA), "validate", "stacks/kb-conduit.yaml"],
            ("-", "python -c 'import agentstrata.cli'"): [str(PYTHON), "-c", "import agentstrata.cli"],
        }
        # The Kubernetes target synthesizes only with the runtime image it deploys; the others ignore the variable.
        env = {**os.environ, "STRATA_KUBERNETES_IMAGE": "registry.example.com/strata-runtime:bench"}
        load = os.getloadavg()[0]
        started = time.perf_counter()
        sum(range(50_000_000))
        calibration = time.perf_counter() - started
        for command in scenarios.values():  # warm-up: bytecode and jsii package caches
            measure(command, ROOT, env)
        samples: dict[tuple[str, str], list[tuple[float, float, float]]] = {key: [] for key in scenarios}
        for _ in range(runs):
            for key, command in scenarios.items():
                samples[key].append(measure(command, ROOT, env))
                shutil.rmtree(out, ignore_errors=True)
    rows, verdicts = [], []
    for (scenario, tool), values in samples.items():
        if tool == "strata synth":
            best = min(w for w, _, _ in values)
            verdicts.append(f"- {scenario}: fastest run {best:.2f} s, target {TARGETS[scenario]} s: "
                            + ("met." if best <= TARGETS[scenario] else "missed."))
        walls = [w for w, _, _ in values]
        target = (f"<= {TARGETS[scenario]} s" if tool == "strata synth"
                  else f"<= {KUBERNETES_RATIO}x docker" if tool == K8S_SYNTH else "")
        rows.append(f"| {scenario} | `{tool}` | {statistics.median(walls):.2f} | {min(walls):.2f} | "
                    f"{statistics.median(c for _, c, _ in values):.2f} | {max(r for _, _, r in values):.0f} | {target} |")
    verdicts.append(_kubernetes_verdict(samples))
    section = "\n".join([
        "## Synth",
        "",
        f"`bench/bench_synth.py {runs}` on {date.today()}: whole-process wall time, CPU time (user + system)",
        f"and peak RSS of the process tree (python + jsii's node), {runs} interleaved runs after one warm-up each; load average "
        f"{load:.1f} at the start",
        f"(2 cores, shared). 200 agents: {LAYERS} layers of {WIDTH}, each agent reading two of the layer below.",
        "",
        "| stack | command | median wall (s) | min wall (s) | median CPU (s) | peak RSS (MiB) | target |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        *verdicts,
        "",
        f"Machine at the time: a fixed pure-Python loop (`sum(range(50_000_000))`) took {calibration:.2f} s wall;",
        "a higher figure means the cores were shared with other work.",
        "",
    ])
    text = RESULTS.read_text()
    text = re.sub(r"## Synth\n.*?(?=^## |\Z)", section + "\n", text, count=1, flags=re.S | re.M)
    RESULTS.write_text(text)
    print(section)


def _kubernetes_verdict(samples: dict[tuple[str, str], list[tuple[float, float, float]]]) -> str:
    """The Kubernetes synth against the Docker synth of the same stack, medians of the same run."""
    kubernetes = statistics.median(w for w, _, _ in samples[("kb-conduit", K8S_SYNTH)])
    docker = statistics.median(w for w, _, _ in samples[("kb-conduit", "strata synth")])
    naive = statistics.median(w for w, _, _ in samples[("kb-conduit", "naive_synth_kubernetes.py")])
    ratio = kubernetes / docker
    return (f"- kb-conduit on Kubernetes: median {kubernetes:.2f} s, {ratio:.2f}x the Docker synth's {docker:.2f} s, "
            f"target {KUBERNETES_RATIO}x: " + ("met" if ratio <= KUBERNETES_RATIO else "missed")
            + f"; the prebuilt kubernetes bindings (naive_synth_kubernetes.py) take {naive:.2f} s.")


if __name__ == "__main__":
    main()
