"""End to end on a real Docker engine: two stacks without ports side by side, through the `strata` CLI.

Both stacks (two notebooks each, no ``port``, no KB workspace) live in one temporary project. The
first takes the ports from 2718 (or whatever is free), the second gets other free ones; each
answers at the URL `strata status` reads from its outputs; a redeploy changes nothing; a fixed
port another stack holds is refused before anything is created; ``destroy --purge`` leaves nothing
of a stack. The module's fixture removes whatever it created, whatever happened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.targets.docker.plain_stack import write_plain_stack
from tests.deploy.engine_helpers import docker, left_on_engine

STRATA = str(Path(sys.executable).parent / "strata")
FIRST, SECOND, CLASHING = "coexist-a", "coexist-b", "coexist-c"
AGENTS = ["source", "plus_one"]

pytestmark = pytest.mark.timeout(2400)


@dataclass
class Project:
    root: Path

    def strata(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        return subprocess.run([STRATA, *args], cwd=self.root, capture_output=True, text=True, timeout=timeout)

    def status(self, stack: str) -> dict[str, str]:
        done = self.strata("status", f"stacks/{stack}.yaml", "--format", "json", timeout=120)
        assert done.returncode == 0, done.stderr
        return {agent["name"]: agent["url"] for agent in json.loads(done.stdout)["agents"]}


def _sweep(stack: str) -> None:
    for name in docker("ps", "-a", "--filter", f"label=strata.stack={stack}", "--format", "{{.Names}}").split():
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=120)
    subprocess.run(["docker", "network", "rm", stack], capture_output=True, timeout=120)
    for agent in AGENTS:
        subprocess.run(["docker", "volume", "rm", f"{stack}-{agent.replace('_', '-')}-state"], capture_output=True,
                       timeout=120)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    if subprocess.run(["docker", "info"], capture_output=True, timeout=60).returncode != 0:
        pytest.skip("no Docker engine answers")
    root = tmp_path_factory.mktemp("coexist") / "project"
    root.mkdir()
    (root / "cdktf.json").write_text('{"language": "python", "app": "python main.py"}\n')
    for stack in (FIRST, SECOND, CLASHING):
        write_plain_stack(root, stack)
    project = Project(root)
    setup = project.strata("setup", "--target", "docker", timeout=3600)
    if setup.returncode != 0:
        pytest.skip(f"`strata setup --target docker` failed here: {setup.stderr[-2000:]}")
    for stack in (FIRST, SECOND, CLASHING):
        _sweep(stack)
    try:
        for stack in (FIRST, SECOND):
            done = project.strata("deploy", f"stacks/{stack}.yaml")
            assert done.returncode == 0, f"deploy of {stack} failed:\n{done.stderr}"
        yield project
    finally:
        for stack in (FIRST, SECOND, CLASHING):
            project.strata("destroy", f"stacks/{stack}.yaml", "--purge", timeout=900)
            _sweep(stack)


def test_two_stacks_without_ports_run_side_by_side(project: Project) -> None:
    first, second = project.status(FIRST), project.status(SECOND)
    assert len({*first.values(), *second.values()}) == 4, (first, second)
    with httpx.Client(timeout=10) as client:
        for urls in (first, second):
            assert client.get(f"{urls['plus_one']}/outputs/answer").json()["value"] == 42


def test_a_redeploy_keeps_the_ports_and_leaves_nothing_to_change(project: Project) -> None:
    before = project.status(SECOND)
    done = project.strata("deploy", f"stacks/{SECOND}.yaml")
    assert done.returncode == 0, done.stderr
    assert project.status(SECOND) == before
    plan = subprocess.run(["bash", "-c", f'eval "$({STRATA} env)" && tofu plan -input=false -no-color '
                           "-detailed-exitcode"], cwd=project.root / "cdktf.out" / "stacks" / f"{SECOND}-docker",
                          capture_output=True, text=True, timeout=600, env=os.environ)
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_a_fixed_port_another_stack_holds_fails_before_anything_is_created(project: Project) -> None:
    taken = int(project.status(FIRST)["source"].rsplit(":", 1)[1])
    stack_file = project.root / "stacks" / f"{CLASHING}.yaml"
    stack_file.write_text(stack_file.read_text().replace('    - name: "source"\n',
                                                         f'    - name: "source"\n      port: {taken}\n'))
    done = project.strata("deploy", f"stacks/{CLASHING}.yaml")
    assert done.returncode == 1
    assert (f"stacks/{CLASHING}.yaml:5:13: stack.agents[0].port: host port {taken} of agent 'source' (the stack "
            f"file) is already published by container '{FIRST}-source' (stack '{FIRST}'); destroy that stack, or "
            "leave 'port' unset so that Strata picks a free one") in done.stderr
    assert left_on_engine(CLASHING) == []


def test_destroy_purge_leaves_nothing_of_the_stack(project: Project) -> None:
    done = project.strata("destroy", f"stacks/{SECOND}.yaml", "--purge", timeout=900)
    assert done.returncode == 0, done.stderr
    assert left_on_engine(SECOND) == []
    # The other stack is untouched.
    with httpx.Client(timeout=10) as client:
        assert {a: client.get(f"{url}/ready").status_code for a, url in project.status(FIRST).items()} == {
            a: 200 for a in AGENTS}
