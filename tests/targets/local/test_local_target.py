"""`strata up/status/logs/down --target local` on a small real stack, and its faults."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.runtime.conftest import STRATA, free_port, get_json, output_value, wait_until, write_notebook, write_stack

from agentstrata.targets.local.state import LocalPaths

STACK = """
stack:
  name: localtest
  agents:
    - name: base
      layer: 0
      port: {base}
      workspace: read
      implementation: {{path: base.py}}
      interface:
        inputs:
          - {{name: root, type: path, source: "env:KB_CONDUIT_ROOT"}}
          - {{name: raw, type: raw, source: "file:${{KB_CONDUIT_ROOT}}/data.json"}}
        outputs:
          - {{name: numbers, type: numbers, exposed_as: "reactive_cell:numbers"}}
          - {{name: where, type: path, exposed_as: "reactive_cell:where"}}
    - name: left
      layer: 1
      port: {left}
      implementation: {{path: relay.py}}
      dependencies: [{{agent_name: base, inputs: {{numbers: numbers}}}}]
      interface:
        inputs:
          - {{name: numbers, type: numbers, source: "agent:base.numbers"}}
        outputs:
          - {{name: total, type: number, exposed_as: "reactive_cell:total"}}
    - name: right
      layer: 1
      port: {right}
      implementation: {{path: relay.py}}
      dependencies: [{{agent_name: base, inputs: {{numbers: numbers}}}}]
      interface:
        inputs:
          - {{name: numbers, type: numbers, source: "agent:base.numbers"}}
        outputs:
          - {{name: total, type: number, exposed_as: "reactive_cell:total"}}
    - name: top
      layer: 2
      port: {top}
      implementation: {{path: {top_notebook}}}
      dependencies:
        - {{agent_name: left, inputs: {{total: a}}}}
        - {{agent_name: right, inputs: {{total: b}}}}
      interface:
        inputs:
          - {{name: a, type: number, source: "agent:left.total"}}
          - {{name: b, type: number, source: "agent:right.total"}}
        outputs:
          - {{name: both, type: numbers, exposed_as: "reactive_cell:both"}}
  policies:
    auto_restart: {auto_restart}
    cascade_stop: true
    parallel_init: {parallel_init}
deployment:
  target: local
  local:
    workspace_path: kb
"""


def make_project(tmp_path: Path, *, auto_restart: bool = True, parallel_init: bool = True,
                 top_notebook: str = "top.py") -> Path:
    (tmp_path / "cdktf.json").write_text("{}")
    (tmp_path / "kb").mkdir()
    set_numbers(tmp_path, 1, 2)
    write_notebook(tmp_path / "base.py",
                   """
                   @app.cell
                   def _():
                       root = ""
                       return (root,)
                   """,
                   """
                   @app.cell
                   def _():
                       raw = {"numbers": []}
                       return (raw,)
                   """,
                   """
                   @app.cell
                   def _(raw, root):
                       numbers = raw["numbers"]
                       where = root
                       return numbers, where
                   """)
    write_notebook(tmp_path / "relay.py",
                   """
                   @app.cell
                   def _():
                       numbers = []
                       return (numbers,)
                   """,
                   """
                   @app.cell
                   def _(numbers):
                       total = sum(numbers)
                       return (total,)
                   """)
    write_notebook(tmp_path / "top.py",
                   """
                   @app.cell
                   def _():
                       a = 0
                       return (a,)
                   """,
                   """
                   @app.cell
                   def _():
                       b = 0
                       return (b,)
                   """,
                   """
                   @app.cell
                   def _(a, b):
                       both = [a, b]
                       return (both,)
                   """)
    write_notebook(tmp_path / "broken.py",
                   """
                   @app.cell
                   def _():
                       a = 0
                       b = 0
                       return a, b
                   """,
                   """
                   @app.cell
                   def _(a, b):
                       both = [a, b]
                       raise RuntimeError("top cannot cope")
                       return (both,)
                   """)
    ports = {name: free_port() for name in ("base", "left", "right", "top")}
    write_stack(tmp_path / "stack.yaml", STACK.format(
        **ports, auto_restart=str(auto_restart).lower(), parallel_init=str(parallel_init).lower(),
        top_notebook=top_notebook))
    return tmp_path


def set_numbers(project: Path, *numbers: int) -> None:
    (project / "kb" / "data.json").write_text(json.dumps({"numbers": list(numbers)}))


Strata = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def strata(tmp_path: Path) -> Iterator[Strata]:
    """Run the CLI in the project; whatever stack was brought up is brought down at the end."""
    env = {k: v for k, v in os.environ.items() if k not in ("KB_CONDUIT_ROOT", "STRATA_STATE_DIR")}

    def run(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*STRATA, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=timeout)

    yield run
    if (tmp_path / "stack.yaml").exists():
        run("down", "stack.yaml", timeout=120)


def status(strata: Strata) -> dict:
    result = strata("status", "stack.yaml", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def agents(report: dict) -> dict[str, dict]:
    return {a["name"]: a for a in report["agents"]}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_up_status_logs_down(tmp_path: Path, strata: Strata) -> None:
    project = make_project(tmp_path)
    up = strata("up", "stack.yaml", "--target", "local", "--timeout", "150")
    assert up.returncode == 0, up.stderr
    report = status(strata)
    found = agents(report)
    assert report["up"] is True
    assert [(a["name"], a["layer"], a["ready"]) for a in report["agents"]] == [
        ("base", 0, True), ("left", 1, True), ("right", 1, True), ("top", 2, True)]
    for agent in found.values():
        assert agent["url"] in up.stdout and isinstance(agent["pid"], int) and alive(agent["pid"])
    assert output_value(found["top"]["url"], "both") == [3, 3]
    assert output_value(found["base"]["url"], "where") == str(project / "kb")  # KB_CONDUIT_ROOT from workspace_path

    supervisor_log = LocalPaths(project, "localtest").supervisor_log.read_text()
    order = [line.split("supervisor: ", 1)[1] for line in supervisor_log.splitlines()
             if " started " in line or line.endswith(" is ready")]
    assert order.index("base is ready") < min(i for i, line in enumerate(order) if line.startswith("started left"))
    assert max(order.index("left is ready"), order.index("right is ready")) < min(
        i for i, line in enumerate(order) if line.startswith("started top"))

    logs = strata("logs", "stack.yaml", "top", "--lines", "50")
    assert logs.returncode == 0 and "agent top listening on" in logs.stdout

    down = strata("down", "stack.yaml")
    assert down.returncode == 0 and "localtest: destroyed in" in down.stdout
    after = status(strata)
    assert after["up"] is False and all(a["pid"] is None and a["state"] == "down" for a in after["agents"])
    assert not any(alive(agent["pid"]) for agent in found.values())


def test_without_parallel_init_the_agents_of_a_layer_start_one_after_another(tmp_path: Path, strata: Strata) -> None:
    project = make_project(tmp_path, parallel_init=False)
    up = strata("up", "stack.yaml", "--timeout", "150")
    assert up.returncode == 0, up.stderr
    lines = LocalPaths(project, "localtest").supervisor_log.read_text().splitlines()
    order = [line.split("supervisor: ", 1)[1] for line in lines if " started " in line or line.endswith(" is ready")]
    assert order.index("left is ready") < min(i for i, line in enumerate(order) if line.startswith("started right"))


def test_a_killed_agent_is_restarted_and_its_dependants_recover(tmp_path: Path, strata: Strata) -> None:
    project = make_project(tmp_path)
    assert strata("up", "stack.yaml", "--timeout", "150").returncode == 0
    before = agents(status(strata))
    os.kill(before["left"]["pid"], signal.SIGKILL)
    wait_until(lambda: (a := agents(status(strata))["left"])["pid"] not in (None, before["left"]["pid"])
               and a["ready"] and a["restarts"] == 1, "left to be restarted and ready", timeout=90)
    set_numbers(project, 5, 5)
    wait_until(lambda: output_value(before["top"]["url"], "both") == [10, 10], "top to see the change", timeout=60)
    after = agents(status(strata))
    assert after["top"]["pid"] == before["top"]["pid"]  # the dependant recovered by itself, never restarted


def test_cascade_stop_stops_the_dependants_of_a_stopped_agent(tmp_path: Path, strata: Strata) -> None:
    make_project(tmp_path, auto_restart=False)
    assert strata("up", "stack.yaml", "--timeout", "150").returncode == 0
    before = agents(status(strata))
    os.kill(before["left"]["pid"], signal.SIGKILL)
    after = wait_until(lambda: (a := agents(status(strata)))["top"]["state"] == "stopped" and a,
                       "top to be stopped", timeout=60)
    assert (after["left"]["state"], after["left"]["pid"]) == ("stopped", None)
    assert after["top"]["message"] == "stopped because left stopped (cascade_stop)"
    assert not alive(before["top"]["pid"])
    assert (after["base"]["ready"], after["right"]["ready"]) == (True, True)


def test_up_fails_with_the_error_of_the_agent_that_cannot_become_ready(tmp_path: Path, strata: Strata) -> None:
    make_project(tmp_path, top_notebook="broken.py")
    up = strata("up", "stack.yaml", "--timeout", "120")
    assert up.returncode == 1
    assert "agent 'top' (layer 2, http://127.0.0.1:" in up.stderr
    assert ") cannot become ready: its run fails" in up.stderr
    assert "raised RuntimeError: top cannot cope" in up.stderr
    assert f"stack localtest was stopped; its logs are in {tmp_path / '.strata/local/localtest/logs'}" in up.stderr
    assert status(strata)["up"] is False


def test_up_refuses_a_stack_without_the_local_target(tmp_path: Path, strata: Strata) -> None:
    make_project(tmp_path)
    text = (tmp_path / "stack.yaml").read_text().replace("target: local\n  local:\n    workspace_path: kb\n",
                                                         "target: docker\n")
    (tmp_path / "stack.yaml").write_text(text)
    up = strata("up", "stack.yaml")
    assert up.returncode == 1
    assert up.stderr.strip().endswith("deployment: stack 'localtest' does not allow target 'local' (allowed: docker); "
                                      "add a 'deployment.local' block")


def test_health_of_a_running_agent_is_reachable_from_status_urls(tmp_path: Path, strata: Strata) -> None:
    project = make_project(tmp_path)
    assert strata("up", "stack.yaml", "--timeout", "150").returncode == 0
    top = agents(status(strata))["top"]
    health = get_json(f"{top['url']}/health")
    assert (health["agent"], health["stack"], health["ready"]) == ("top", "localtest", True)
    assert "pid" not in health
    paths = LocalPaths(project, "localtest")
    assert {stat.S_IMODE(log.stat().st_mode) for log in (paths.supervisor_log, paths.log_file("top"))} == {0o600}


def test_up_times_out_naming_the_input_an_agent_waits_for(tmp_path: Path, strata: Strata) -> None:
    make_project(tmp_path)
    text = (tmp_path / "stack.yaml").read_text().replace(
        '          - {name: root, type: path, source: "env:KB_CONDUIT_ROOT"}\n',
        '          - {name: root, type: path, source: "env:KB_CONDUIT_ROOT"}\n'
        '          - {name: never, type: text, source: "env:STRATA_TEST_NEVER_SET"}\n')
    (tmp_path / "stack.yaml").write_text(text)
    up = strata("up", "stack.yaml", "--timeout", "15")
    assert up.returncode == 1
    assert "agent 'base' (layer 0, http://127.0.0.1:" in up.stderr and ") not ready after 15s" in up.stderr
    assert ("input 'never' (env:STRATA_TEST_NEVER_SET): environment variable STRATA_TEST_NEVER_SET is not set"
            in up.stderr)


def test_down_cleans_up_after_a_supervisor_that_died(tmp_path: Path, strata: Strata) -> None:
    make_project(tmp_path)
    assert strata("up", "stack.yaml", "--timeout", "150").returncode == 0
    before = status(strata)
    os.kill(before["supervisor"]["pid"], signal.SIGKILL)
    orphaned = wait_until(lambda: (r := status(strata))["up"] is False and r, "the supervisor to be gone")
    assert {a["state"] for a in orphaned["agents"]} == {"orphaned"}
    assert strata("down", "stack.yaml").returncode == 0
    pids = [a["pid"] for a in before["agents"]]
    wait_until(lambda: not any(alive(pid) for pid in pids), "the orphaned agents to be stopped")
    assert status(strata)["agents"][0]["state"] == "down"
