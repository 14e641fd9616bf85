"""As a user, to a real Docker engine: a stack of three notebooks, deployed from Strata's wheel in a fresh venv.

The project is made by ``strata init`` outside the checkout (the ``user_project`` fixture); this
module adds a stack of three notebooks (no ports, no KB) to its stacks/ and agents/ and deploys it
with the venv's ``strata``, next to the checkout's kb-conduit stack deployed by the checkout's
``strata`` under another name and on free ports. The user's stack answers at the URLs ``strata
status`` reads, a second deploy changes nothing, and ``destroy --purge`` leaves nothing of it while
the neighbour stays ready. The fixtures remove whatever they created, whatever happened.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from agentstrata.deploy.base_image import BASE_IMAGE
from agentstrata.deploy.layout import Layout
from tests.deploy.user_project import ROOT, UserProject, user_project  # noqa: F401 - the fixture
from tests.deploy.engine_helpers import COPY_IGNORE, copy_kb, free_ports, left_on_engine

CHECKOUT_STRATA = str(Path(sys.executable).parent / "strata")
NEIGHBOUR = "kb-conduit-neighbour"
NEIGHBOUR_AGENTS = ["kb_base", "context_loader", "validator", "debriefer", "pattern_detector", "concierge"]
STACK = "user-chain"
AGENTS = ["seed", "squares", "total"]
#: 3² + 4² + 5², computed by the layer-2 agent from the layer-1 agent's squares of the layer-0 agent's numbers.
TOTAL = 50

pytestmark = pytest.mark.timeout(2400)

SEED = """\
import marimo

app = marimo.App()


@app.cell
def _():
    numbers = [3, 4, 5]
    return (numbers,)


if __name__ == "__main__":
    app.run()
"""

SQUARES = """\
import marimo

app = marimo.App()


@app.cell
def _():
    # Replaced by the seed agent's `numbers` when deployed.
    numbers = [1]
    return (numbers,)


@app.cell
def _(numbers):
    squares = [n * n for n in numbers]
    return (squares,)


if __name__ == "__main__":
    app.run()
"""

TOTAL_NOTEBOOK = """\
import marimo

app = marimo.App()


@app.cell
def _():
    # Replaced by the squares agent's `squares` when deployed.
    squares = [1]
    return (squares,)


@app.cell
def _(squares):
    total = sum(squares)
    return (total,)


if __name__ == "__main__":
    app.run()
"""

STACK_YAML = f"""\
stack:
  name: "{STACK}"
  agents:
    - name: "seed"
      layer: 0
      implementation:
        path: "agents/seed.py"
      interface:
        outputs:
          - {{name: "numbers", type: "numbers", exposed_as: "reactive_cell:numbers"}}
    - name: "squares"
      layer: 1
      implementation:
        path: "agents/squares.py"
      dependencies:
        - agent_name: "seed"
          inputs: {{numbers: "numbers"}}
      interface:
        inputs:
          - {{name: "numbers", type: "numbers", source: "agent:seed.numbers"}}
        outputs:
          - {{name: "squares", type: "numbers", exposed_as: "reactive_cell:squares"}}
    - name: "total"
      layer: 2
      implementation:
        path: "agents/total.py"
      dependencies:
        - agent_name: "squares"
          inputs: {{squares: "squares"}}
      interface:
        inputs:
          - {{name: "squares", type: "numbers", source: "agent:squares.squares"}}
        outputs:
          - {{name: "total", type: "total", exposed_as: "reactive_cell:total"}}
deployment:
  target: "docker"
"""


def _urls(strata: str, project: Path, stack_file: str, env: dict[str, str] | None = None) -> dict[str, str]:
    done = subprocess.run([strata, "status", stack_file, "--format", "json"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return {agent["name"]: agent["url"] for agent in json.loads(done.stdout)["agents"]}


def _sweep(stack: str, agents: list[str]) -> None:
    """Remove the containers (by label), the network and the volumes (by name) of ``stack``."""
    listed = subprocess.run(["docker", "ps", "-a", "--filter", f"label=strata.stack={stack}", "--format",
                             "{{.Names}}"], capture_output=True, text=True, timeout=120)
    for name in listed.stdout.split():
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=120)
    subprocess.run(["docker", "network", "rm", stack], capture_output=True, timeout=120)
    for agent in agents:
        subprocess.run(["docker", "volume", "rm", f"{stack}-{agent.replace('_', '-')}-state"], capture_output=True,
                       timeout=120)


@dataclass(frozen=True)
class Neighbour:
    project: Path
    env: dict[str, str]

    def urls(self) -> dict[str, str]:
        return _urls(CHECKOUT_STRATA, self.project, "stacks/kb-conduit.yaml", self.env)


def _copy_neighbour(destination: Path, layout: Layout) -> None:
    """The checkout, its kb-conduit stack renamed and on free ports (what `strata setup` built, hard-linked)."""
    shutil.copytree(ROOT, destination, ignore=COPY_IGNORE)
    shutil.copytree(layout.build / "runtime", destination / ".strata" / "build" / "runtime", copy_function=os.link)
    stack_file = destination / "stacks" / "kb-conduit.yaml"
    document = yaml.safe_load(stack_file.read_text())
    document["stack"]["name"] = NEIGHBOUR
    for agent, port in zip(document["stack"]["agents"], free_ports(len(NEIGHBOUR_AGENTS))):
        agent["port"] = port
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.fixture(scope="module")
def neighbour(engine: str, layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neighbour]:
    """The checkout's kb-conduit stack, deployed by the checkout's `strata` (the `engine` fixture skips without one)."""
    setup = subprocess.run([CHECKOUT_STRATA, "setup", "--target", "docker"], cwd=ROOT, capture_output=True,
                           text=True, timeout=3600)
    assert setup.returncode == 0, setup.stderr
    base = tmp_path_factory.mktemp("neighbour")
    _copy_neighbour(base / "project", layout)
    copy_kb(base / "kb")
    neighbour = Neighbour(base / "project", {**os.environ, "KB_CONDUIT_ROOT": str(base / "kb"),
                                             "STRATA_BASE_IMAGE": BASE_IMAGE})
    _sweep(NEIGHBOUR, NEIGHBOUR_AGENTS)
    try:
        done = subprocess.run([CHECKOUT_STRATA, "deploy", "stacks/kb-conduit.yaml"], cwd=neighbour.project,
                              env=neighbour.env, capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, f"deploy of the neighbour failed:\n{done.stderr[-3000:]}"
        yield neighbour
    finally:
        subprocess.run([CHECKOUT_STRATA, "destroy", "stacks/kb-conduit.yaml", "--purge"], cwd=neighbour.project,
                       env=neighbour.env, capture_output=True, timeout=900)
        _sweep(NEIGHBOUR, NEIGHBOUR_AGENTS)


@pytest.fixture(scope="module")
def deployed(user_project: UserProject, neighbour: Neighbour) -> Iterator[UserProject]:  # noqa: F811
    """The three-notebook stack added to the user's project and deployed by the venv's `strata`."""
    for agent, source in zip(AGENTS, (SEED, SQUARES, TOTAL_NOTEBOOK)):
        (user_project.root / "agents" / f"{agent}.py").write_text(source)
    (user_project.root / "stacks" / f"{STACK}.yaml").write_text(STACK_YAML)
    _sweep(STACK, AGENTS)
    try:
        done = user_project.strata("deploy", f"stacks/{STACK}.yaml", timeout=1800)
        assert done.returncode == 0, f"deploy of the user's stack failed:\n{done.stderr[-3000:]}"
        yield user_project
    finally:
        user_project.strata("destroy", f"stacks/{STACK}.yaml", "--purge", timeout=900)
        _sweep(STACK, AGENTS)


def _user_urls(project: UserProject) -> dict[str, str]:
    return _urls(str(project.venv / "bin" / "strata"), project.root, f"stacks/{STACK}.yaml")


def test_the_computed_output_is_read_through_the_status_urls(deployed: UserProject, neighbour: Neighbour) -> None:
    urls, beside = _user_urls(deployed), neighbour.urls()
    assert sorted(urls) == sorted(AGENTS)
    assert len({*urls.values(), *beside.values()}) == len(AGENTS) + len(NEIGHBOUR_AGENTS), (urls, beside)
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{urls['squares']}/outputs/squares").json()["value"] == [9, 16, 25]
        assert client.get(f"{urls['total']}/outputs/total").json()["value"] == TOTAL


def test_a_second_deploy_changes_nothing(deployed: UserProject) -> None:
    before = _user_urls(deployed)
    done = deployed.strata("deploy", f"stacks/{STACK}.yaml", timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _user_urls(deployed) == before
    strata = deployed.venv / "bin" / "strata"
    plan = subprocess.run(["bash", "-c", f'eval "$({strata} env)" && tofu plan -input=false -no-color '
                           "-detailed-exitcode"], cwd=deployed.root / "cdktf.out" / "stacks" / f"{STACK}-docker",
                          capture_output=True, text=True, timeout=600)
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-3000:]


def test_destroy_purge_leaves_nothing_of_the_stack_and_the_neighbour_ready(deployed: UserProject,
                                                                            neighbour: Neighbour) -> None:
    done = deployed.strata("destroy", f"stacks/{STACK}.yaml", "--purge", timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert left_on_engine(STACK) == []
    with httpx.Client(timeout=10) as client:
        assert {a: client.get(f"{url}/ready").status_code for a, url in neighbour.urls().items()} == {
            a: 200 for a in NEIGHBOUR_AGENTS}
