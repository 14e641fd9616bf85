"""Deploy speed, warm caches: `strata deploy` (cdktf + OpenTofu) against Compose on the exported file,
in the same run, and the incremental redeploy after one notebook edit.

Each measure runs from the command's start until every agent answers 200 on /ready. It works on a
copy of the project (stack ``kb-conduit-bench`` on free ports, its own copy of the sample KB), so a
deployment of the real stack is never touched. Writes the ``## Deploy`` section of bench/RESULTS.md.

    .venv/bin/python bench/bench_deploy.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from agentstrata.deploy.base_image import BASE_IMAGE
from agentstrata.deploy.layout import project_layout
from agentstrata.deploy.readiness import wait_until_ready
from agentstrata.targets.docker.compose_tool import find_compose

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
STRATA = str(Path(sys.executable).parent / "strata")
STACK = "kb-conduit-bench"
EDITED = "pattern_detector"
_COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "node_modules", ".strata", "cdktf.out", "__pycache__",
                                      "__marimo__", ".pytest_cache", ".hypothesis", "docker-compose.generated*")
# "✓ cdktf deploy kb-conduit-bench-docker (log in ..., 12.3 s)": the step lines `strata deploy` prints.
_STEP = re.compile(r"^✓ (?P<title>.+?) \((?:.*, )?(?P<seconds>[0-9.]+) s\)$")
# "docker_container.pattern_detector: Destruction complete after 1s" / "...: Creation complete after 7s"
_REPLACED = re.compile(rf"docker_container\.{EDITED}: (?:Destruction|Creation) complete after (\d+)s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    run([STRATA, "setup"], cwd=ROOT)
    layout = project_layout()
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as scratch:
        bench = Bench(Path(scratch), layout.build / "runtime")
        try:
            results = bench.measure(runs)
        finally:
            bench.teardown()
    write_section(results, runs)


class Bench:
    def __init__(self, scratch: Path, build_context: Path) -> None:
        self.project, self.kb = scratch / "project", scratch / "kb"
        agents = [a["name"] for a in yaml.safe_load((ROOT / "stacks" / "kb-conduit.yaml").read_text())["stack"]["agents"]]
        self.ports = dict(zip(agents, free_ports(len(agents))))
        shutil.copytree(ROOT, self.project, ignore=_COPY_IGNORE)
        shutil.copytree(build_context, self.project / ".strata" / "build" / "runtime", copy_function=os.link)
        stack_file = self.project / "stacks" / "kb-conduit.yaml"
        document = yaml.safe_load(stack_file.read_text())
        document["stack"]["name"] = STACK
        for agent in document["stack"]["agents"]:
            agent["port"] = self.ports[agent["name"]]
        stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
        shutil.copytree(ROOT / "stacks" / "sample-kb", self.kb)
        for folder, _, files in os.walk(self.kb):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(Path(folder) / name, 0o644)
        self.env = {**os.environ, "KB_CONDUIT_ROOT": str(self.kb), "STRATA_BASE_IMAGE": BASE_IMAGE}
        self.compose = find_compose()
        self.compose_file = self.project / "bench.compose.yaml"
        self.deploy_log = project_layout(self.project).logs / f"deploy-{STACK}-docker.log"

    def strata(self, *args: str) -> str:
        return run([STRATA, *args], cwd=self.project, env=self.env)

    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}

    def measure(self, runs: int) -> dict[str, list[float]]:
        results: dict[str, list[float]] = {"first": [], "cdktf": [], "cdktf_apply": [], "compose": [],
                                           "incremental": [], "incremental_apply": [], "incremental_replace": []}
        started = time.monotonic()
        self.strata("deploy", "stacks/kb-conduit.yaml")
        results["first"].append(time.monotonic() - started)
        self.strata("destroy", "stacks/kb-conduit.yaml")
        self.strata("export", "compose", "stacks/kb-conduit.yaml", "--out", str(self.compose_file))
        compose = [*self.compose.command, "-p", STACK, "-f", str(self.compose_file)]
        for _ in range(runs):
            started = time.monotonic()
            stderr = self.strata("deploy", "stacks/kb-conduit.yaml")
            results["cdktf"].append(time.monotonic() - started)
            results["cdktf_apply"].append(step_seconds(stderr, "cdktf deploy"))
            self.strata("destroy", "stacks/kb-conduit.yaml")
            started = time.monotonic()
            run([*compose, "up", "-d"], cwd=self.project, env=self.env)
            wait_until_ready(self.urls(), timeout=300)
            results["compose"].append(time.monotonic() - started)
            run([*compose, "down"], cwd=self.project, env=self.env)
        self.strata("deploy", "stacks/kb-conduit.yaml")
        notebook = self.project / "agents" / f"{EDITED}.py"
        for index in range(runs):
            notebook.write_text(notebook.read_text() + f"\n# bench edit {index}\n")
            started = time.monotonic()
            stderr = self.strata("deploy", "stacks/kb-conduit.yaml")
            results["incremental"].append(time.monotonic() - started)
            results["incremental_apply"].append(step_seconds(stderr, "cdktf deploy"))
            results["incremental_replace"].append(replace_seconds(self.deploy_log))
        return results

    def teardown(self) -> None:
        if self.compose_file.exists():
            subprocess.run([*self.compose.command, "-p", STACK, "-f", str(self.compose_file), "down"],
                           cwd=self.project, env=self.env, capture_output=True, timeout=600)
        subprocess.run([STRATA, "destroy", "stacks/kb-conduit.yaml", "--purge"], cwd=self.project, env=self.env,
                       capture_output=True, timeout=900)


def step_seconds(stderr: str, prefix: str) -> float:
    for line in stderr.splitlines():
        match = _STEP.match(line.strip())
        if match and match.group("title").startswith(prefix):
            return float(match.group("seconds"))
    raise SystemExit(f"no '{prefix}' step line in the output of strata deploy:\n{stderr}")


def replace_seconds(deploy_log: Path) -> float:
    """What tofu itself reports for replacing the edited agent's container (destroy + create, until healthy)."""
    found = [float(m.group(1)) for m in _REPLACED.finditer(deploy_log.read_text(encoding="utf-8"))]
    if len(found) != 2:
        raise SystemExit(f"expected one container destroyed and one created in {deploy_log}, found {found}")
    return sum(found)


def run(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(argv)}` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stderr


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def write_section(results: dict[str, list[float]], runs: int) -> None:
    def row(label: str, key: str, target: str = "") -> str:
        values = results[key]
        shown = ", ".join(f"{v:.1f}" for v in values)
        return f"| {label} | {shown} | {statistics.median(values):.1f} | {target} |"

    ratio = statistics.median(results["cdktf"]) / statistics.median(results["compose"])
    compose = find_compose()
    load = os.getloadavg()[0]
    body = "\n".join([
        "## Deploy",
        "",
        f"`.venv/bin/python bench/bench_deploy.py --runs {runs}` ({time.strftime('%Y-%m-%d')}; the 6-agent "
        f"kb-conduit stack; Compose {compose.version} as `{' '.join(compose.command)}`; load average at the end "
        f"{load:.1f}). Every time runs from the command's start until every agent answers 200 on /ready; caches "
        "warm (toolchain, providers, runtime image).",
        "",
        "| measure | runs (s) | median (s) | target |",
        "| --- | --- | --- | --- |",
        row("first `strata deploy` of the copy (warm-up)", "first"),
        row("`strata deploy` (setup checks, synth, recovery check, cdktf deploy, /ready)", "cdktf",
            f"<= 2x compose: {ratio:.2f}x"),
        row("of which the `cdktf deploy` step", "cdktf_apply"),
        row(f"`{' '.join(compose.command)} up -d` on the exported file, then /ready", "compose"),
        row(f"incremental `strata deploy` after editing agents/{EDITED}.py", "incremental", "<= 15 s"),
        row("of which the `cdktf deploy` step", "incremental_apply"),
        row("of which tofu replacing the container (stop, create, healthy)", "incremental_replace"),
        "",
    ])
    text = RESULTS.read_text(encoding="utf-8")
    start = text.index("## Deploy")
    end = text.find("\n## ", start + 1)
    text = text[:start] + body + (text[end + 1:] if end != -1 else "")
    RESULTS.write_text(text, encoding="utf-8")
    print(body)


if __name__ == "__main__":
    main()
