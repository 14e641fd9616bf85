"""End to end on a real Docker engine: `strata deploy` / `strata destroy` of the kb-conduit stack.

The tests run in file order on one deployment: interrupted deploy that converges, health and
readiness, a KB change reaching the concierge, a one-notebook edit that replaces one container
only, a crash undone by the restart policy, and destroy. They work on a copy of the project
(stack renamed ``kb-conduit-e2e``, free ports) and of the sample KB, so neither the repository's
files nor a deployment of the real stack are touched; the module's fixture destroys whatever it
created, whatever happened.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from agentstrata.deploy.base_image import BASE_IMAGE
from agentstrata.deploy.cdktf_cli import cdktf_env
from agentstrata.deploy.engine import ensure_engine
from agentstrata.deploy.layout import Layout
from agentstrata.deploy.state_lock import lock_holder
from agentstrata.deploy.steps import StepRunner
from agentstrata.deploy.toolchain import Toolchain, ensure_toolchain
from agentstrata.errors import StrataError
from agentstrata.targets.docker.toolchain import DOCKER_PROVIDER
from tests.deploy.engine_helpers import COPY_IGNORE, copy_kb, docker, free_ports

ROOT = Path(__file__).resolve().parents[2]
STRATA = str(Path(sys.executable).parent / "strata")
KB_TOOL = ROOT / "agents" / "kb_base" / "kb-conduit"
STACK = "kb-conduit-e2e"
STACK_ID = f"{STACK}-docker"
AGENTS = ["kb_base", "context_loader", "validator", "debriefer", "pattern_detector", "concierge"]
EDITED = "pattern_detector"
CRASHED = "validator"
#: A bound on every wait in these tests.
WAIT_S = 180

pytestmark = pytest.mark.timeout(2400)
_CREATING = re.compile(r"docker_container\.\w+: Creating\.\.\.")


def container(agent: str) -> str:
    return f"{STACK}-{agent.replace('_', '-')}"


@dataclass
class Deployment:
    project: Path
    kb: Path
    env: dict[str, str]
    ports: dict[str, int]
    toolchain: Toolchain
    layout: Layout
    #: What the interrupted first deploy left, before the second converged.
    interrupted_lock_free: bool = False
    #: The progress the converging deploy printed.
    recovery_stderr: str = ""

    @property
    def stack_dir(self) -> Path:
        return self.project / "cdktf.out" / "stacks" / STACK_ID

    def strata(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        return subprocess.run([STRATA, *args], cwd=self.project, env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def tofu(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**cdktf_env(self.layout, self.toolchain), "KB_CONDUIT_ROOT": str(self.kb)}
        return subprocess.run([str(self.toolchain.binary), *args], cwd=self.stack_dir, env=env, capture_output=True,
                              text=True, timeout=600)

    def url(self, agent: str) -> str:
        return f"http://127.0.0.1:{self.ports[agent]}"


def _stack_containers() -> list[str]:
    return docker("ps", "-a", "--filter", f"label=strata.stack={STACK}", "--format", "{{.Names}}").split()


def _container_id(name: str) -> str:
    return docker("inspect", "--format", "{{.Id}}", name)


def _health(name: str) -> str:
    return docker("inspect", "--format", "{{if .State.Health}}{{.State.Health.Status}}{{end}}", name)


def _sweep() -> None:
    """Remove every container, the network and the volumes of the e2e stack, by label and by name."""
    for name in _stack_containers():
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=120)
    subprocess.run(["docker", "network", "rm", STACK], capture_output=True, timeout=120)
    for agent in AGENTS:
        subprocess.run(["docker", "volume", "rm", f"{container(agent)}-state"], capture_output=True, timeout=120)


def _copy_project(destination: Path, layout: Layout, ports: dict[str, int]) -> None:
    shutil.copytree(ROOT, destination, ignore=COPY_IGNORE)
    # The runtime image's build context, as `strata setup` laid it out (hard links: no copy of the wheels).
    shutil.copytree(layout.build / "runtime", destination / ".strata" / "build" / "runtime", copy_function=os.link)
    stack_file = destination / "stacks" / "kb-conduit.yaml"
    document = yaml.safe_load(stack_file.read_text())
    document["stack"]["name"] = STACK
    for agent in document["stack"]["agents"]:
        agent["port"] = ports[agent["name"]]
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and everything below it: a machine losing the deploy at once."""
    try:
        parent = psutil.Process(pid)
        family = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for process in family:
        try:
            process.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(family, timeout=30)


def _interrupt_mid_apply(deployment: Deployment) -> None:
    """Start a deploy and kill it, with its cdktf and tofu, once tofu is creating the agents' containers."""
    log = deployment.project / ".strata" / "logs" / f"deploy-{STACK_ID}.log"  # the deployed project's own logs
    output = deployment.project.parent / "interrupted-deploy.err"
    started = time.time()
    with output.open("w") as stderr:
        proc = subprocess.Popen([STRATA, "deploy", "stacks/kb-conduit.yaml"], cwd=deployment.project,
                                env=deployment.env, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    try:
        deadline = time.monotonic() + 1500
        while time.monotonic() < deadline and proc.poll() is None:
            if log.exists() and log.stat().st_mtime >= started and _CREATING.search(log.read_text(errors="replace")):
                break
            time.sleep(0.2)
        assert proc.poll() is None, f"the deploy ended before it could be interrupted:\n{output.read_text()}"
    finally:
        _kill_tree(proc.pid)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from agentstrata.deploy.layout import project_layout
    from rich.console import Console

    layout = project_layout()
    runner = StepRunner(layout.logs, console=Console(stderr=True, width=200))
    try:
        ensure_engine(layout, runner)
    except StrataError as exc:
        pytest.skip(f"no Docker engine can be started: {exc.message}")
    # Builds what the copy needs (base image, wheelhouse, build context); cached after the first run.
    setup = subprocess.run([STRATA, "setup", "--target", "docker"], cwd=ROOT, capture_output=True, text=True,
                           timeout=3600)
    assert setup.returncode == 0, setup.stderr
    toolchain = ensure_toolchain(layout, runner, (DOCKER_PROVIDER,))
    base = tmp_path_factory.mktemp("e2e")
    ports = dict(zip(AGENTS, free_ports(len(AGENTS))))
    project, kb = base / "project", base / "kb"
    _copy_project(project, layout, ports)
    copy_kb(kb)
    env = {**os.environ, "KB_CONDUIT_ROOT": str(kb), "STRATA_BASE_IMAGE": BASE_IMAGE}
    deployment = Deployment(project, kb, env, ports, toolchain, layout)
    _sweep()
    try:
        _interrupt_mid_apply(deployment)
        deployment.interrupted_lock_free = lock_holder(
            project / ".strata" / "state" / "terraform" / f"{STACK_ID}.tfstate") is None
        done = deployment.strata("deploy", "stacks/kb-conduit.yaml")
        assert done.returncode == 0, f"deploy after the interruption failed:\n{done.stderr}"
        deployment.recovery_stderr = done.stderr
        yield deployment
    finally:
        deployment.strata("destroy", "stacks/kb-conduit.yaml", "--purge", timeout=900)
        _sweep()


def test_deploy_converges_after_a_killed_deploy(deployment: Deployment) -> None:
    # The kernel freed the lock with the killed tofu; the state check cleaned what the kill left behind.
    assert deployment.interrupted_lock_free
    assert re.search(r"^✓ state check \((clean|recovered), ", deployment.recovery_stderr, re.MULTILINE)
    state = json.loads((deployment.project / ".strata" / "state" / "terraform" / f"{STACK_ID}.tfstate").read_text())
    assert state["version"] == 4
    assert sorted(_stack_containers()) == sorted(container(a) for a in AGENTS)


def test_every_container_is_healthy_and_every_agent_ready(deployment: Deployment) -> None:
    assert {a: _health(container(a)) for a in AGENTS} == {a: "healthy" for a in AGENTS}
    with httpx.Client(timeout=10) as client:
        assert {a: client.get(f"{deployment.url(a)}/ready").status_code for a in AGENTS} == {a: 200 for a in AGENTS}


def test_deploy_prints_each_agent_url_from_the_terraform_outputs(deployment: Deployment) -> None:
    done = deployment.strata("deploy", "stacks/kb-conduit.yaml")
    assert done.returncode == 0, done.stderr
    outputs = json.loads(deployment.tofu("output", "-json").stdout)
    for agent in AGENTS:
        assert outputs[f"{agent}_url"]["value"] == deployment.url(agent)
        assert deployment.url(agent) in done.stdout


def _recommendations(deployment: Deployment) -> object:
    reply = httpx.get(f"{deployment.url('concierge')}/outputs/recommendations", timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()["value"]


def test_a_kb_log_entry_reaches_the_concierge(deployment: Deployment) -> None:
    before = _recommendations(deployment)
    subprocess.run([str(KB_TOOL), "log", "api-gateway", "Blocked: e2e deploy check", "--tag", "blocked"],
                   env=deployment.env, check=True, capture_output=True, timeout=60)
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if _recommendations(deployment) != before:
            return
        time.sleep(1)
    pytest.fail(f"the concierge's recommendations did not change within {WAIT_S} s of a KB log entry")


def _changes(plan_json: dict) -> list[tuple[str, list[str]]]:
    return [(c["address"], c["change"]["actions"]) for c in plan_json.get("resource_changes", [])
            if c["change"]["actions"] not in (["no-op"], ["read"])]


def _health_of(deployment: Deployment, agent: str) -> dict:
    return httpx.get(f"{deployment.url(agent)}/health", timeout=10).json()


def test_an_unreadable_kb_degrades_the_agents_then_they_recover_without_a_restart(deployment: Deployment) -> None:
    name = container("kb_base")
    restarts = docker("inspect", "--format", "{{.RestartCount}} {{.State.StartedAt}}", name)
    mode = deployment.kb.stat().st_mode
    deployment.kb.chmod(0)  # the agents run as uid 10001 without capabilities: they cannot read it now
    try:
        deadline = time.monotonic() + WAIT_S
        while _health_of(deployment, "kb_base")["status"] != "degraded":
            assert time.monotonic() < deadline, f"kb_base never reported degraded: {_health_of(deployment, 'kb_base')}"
            time.sleep(1)
        health = _health_of(deployment, "kb_base")
        assert health["problems"], health
        with httpx.Client(timeout=10) as client:
            assert {a: client.get(f"{deployment.url(a)}/ready").status_code for a in AGENTS} == {a: 200 for a in AGENTS}
    finally:
        deployment.kb.chmod(mode)
    deadline = time.monotonic() + WAIT_S
    while _health_of(deployment, "kb_base")["status"] != "ok":
        assert time.monotonic() < deadline, f"kb_base did not recover: {_health_of(deployment, 'kb_base')}"
        time.sleep(1)
    assert docker("inspect", "--format", "{{.RestartCount}} {{.State.StartedAt}}", name) == restarts
    assert {a: _health(container(a)) for a in AGENTS} == {a: "healthy" for a in AGENTS}


def test_one_notebook_edit_changes_one_agent_image_and_container_only(deployment: Deployment) -> None:
    ids = {a: _container_id(container(a)) for a in AGENTS}
    notebook = deployment.project / "agents" / f"{EDITED}.py"
    notebook.write_text(notebook.read_text() + "\n# edited by the e2e test\n")
    synth = deployment.strata("synth", "stacks/kb-conduit.yaml", "--target", "docker", timeout=600)
    assert synth.returncode == 0, synth.stderr
    plan = deployment.tofu("plan", "-input=false", "-no-color", "-out=edit.tfplan")
    assert plan.returncode == 0, plan.stderr
    shown = json.loads(deployment.tofu("show", "-json", "edit.tfplan").stdout)
    changes = dict(_changes(shown))
    assert sorted(changes) == [f"docker_container.{EDITED}", f"docker_image.{EDITED}_image"], changes
    assert all(sorted(actions) == ["create", "delete"] for actions in changes.values()), changes
    change = next(c for c in shown["resource_changes"] if c["address"] == f"docker_container.{EDITED}")
    assert change["change"]["before"]["name"] == container(EDITED)

    done = deployment.strata("deploy", "stacks/kb-conduit.yaml")
    assert done.returncode == 0, done.stderr
    after = {a: _container_id(container(a)) for a in AGENTS}
    assert {a: after[a] == ids[a] for a in AGENTS} == {a: a != EDITED for a in AGENTS}


def test_a_plan_right_after_apply_shows_no_changes(deployment: Deployment) -> None:
    plan = deployment.tofu("plan", "-input=false", "-no-color", "-detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_a_killed_agent_comes_back_healthy(deployment: Deployment) -> None:
    # SIGKILL to the container's init from the host: a crash. `docker kill` itself would not do: Docker 20.10
    # records it as a manual stop, which no restart policy undoes (RestartCount stays 0, even with "always").
    name = container(CRASHED)
    restarts = int(docker("inspect", "--format", "{{.RestartCount}}", name))
    os.kill(int(docker("inspect", "--format", "{{.State.Pid}}", name)), signal.SIGKILL)
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if int(docker("inspect", "--format", "{{.RestartCount}}", name)) > restarts and _health(name) == "healthy":
            break
        time.sleep(1)
    else:
        pytest.fail(f"{name} was not restarted and healthy within {WAIT_S} s (health: {_health(name)})")
    assert httpx.get(f"{deployment.url(CRASHED)}/ready", timeout=10).status_code == 200


def test_destroy_leaves_no_container_or_network_and_keeps_volumes(deployment: Deployment) -> None:
    done = deployment.strata("destroy", "stacks/kb-conduit.yaml", timeout=900)
    assert done.returncode == 0, done.stderr
    assert _stack_containers() == []
    assert docker("network", "ls", "--filter", f"name=^{STACK}$", "--format", "{{.Name}}") == ""
    volumes = [f"{container(a)}-state" for a in AGENTS]
    assert set(volumes) <= set(docker("volume", "ls", "--format", "{{.Name}}").split())
    assert f"kept the agents' state (remove with --purge): {', '.join(sorted(volumes))}" in done.stdout
