"""The local target's systemd export: units systemd 252 accepts, sandboxed, ordered by the stack's graph."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.runtime.conftest import free_port, write_notebook

from agentstrata import wire
from agentstrata.errors import StrataError
from agentstrata.loader import load_stack
from agentstrata.targets.local.launcher import strata_command
from agentstrata.targets.local.systemd import (
    READY_TIMEOUT_SECONDS,
    RESTART_DELAY_SECONDS,
    START_LIMIT_BURST,
    START_LIMIT_INTERVAL_SECONDS,
    SystemdExport,
    export_systemd,
    installation_paths,
)

ROOT = Path(__file__).resolve().parents[3]
EXPOSURE = re.compile(r"Overall exposure level for (\S+): ([0-9.]+)")

# Four agents: base in layer 0, left and right reading it in layer 1, top reading both in layer 2.
STACK = """
stack:
  name: unit_test
  agents:
    - name: base
      layer: 0
      port: {base}
      workspace: read
      implementation: {{path: base.py}}
      interface:
        inputs:
          - {{name: root, type: path, source: "env:KB_CONDUIT_ROOT"}}
        outputs:
          - {{name: where, type: path, exposed_as: "reactive_cell:where"}}
    - name: left
      layer: 1
      port: {left}
      implementation: {{path: relay.py}}
      env: {{GREETING: 'say "hi" to 100% of $HOME'}}
      resources: {{memory: 256Mi, cpu: 500m}}
      interface:
        inputs:
          - {{name: where, type: path, source: "agent:base.where"}}
        outputs:
          - {{name: seen, type: path, exposed_as: "reactive_cell:seen"}}
    - name: right
      layer: 1
      port: {right}
      implementation: {{path: relay.py}}
      interface:
        inputs:
          - {{name: where, type: path, source: "agent:base.where"}}
        outputs:
          - {{name: seen, type: path, exposed_as: "reactive_cell:seen"}}
    - name: top
      layer: 2
      port: {top}
      implementation: {{path: top.py}}
      dependencies:
        - {{agent_name: left}}
        - {{agent_name: right}}
  policies:
    auto_restart: {auto_restart}
    cascade_stop: {cascade_stop}
    parallel_init: {parallel_init}
deployment:
  target: local
  local:
    workspace_path: kb
"""


@pytest.fixture(scope="module")
def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd; tools/install-system-deps.sh)")
    return found


def make_project(root: Path, *, auto_restart: bool = True, cascade_stop: bool = True, parallel_init: bool = True,
                 ports: tuple[int, int, int, int] = (2801, 2802, 2803, 2804)) -> Path:
    """A project holding :data:`STACK` and its KB directory; returns the stack file."""
    (root / "kb").mkdir(parents=True)
    (root / "cdktf.json").write_text("{}")
    stack = root / "stack.yaml"
    base, left, right, top = ports
    stack.write_text(STACK.format(base=base, left=left, right=right, top=top, auto_restart=str(auto_restart).lower(),
                                  cascade_stop=str(cascade_stop).lower(), parallel_init=str(parallel_init).lower()))
    return stack


def export(stack_file: Path, out: Path) -> SystemdExport:
    loaded = load_stack(stack_file)
    return export_systemd(loaded, out, strata_command=strata_command(), workspace_path=loaded.root / "kb",
                          install_paths=[Path(sys.prefix)])


def settings(unit: Path) -> dict[str, list[str]]:
    """Key -> its values, in order (the keys of our units' sections never repeat across sections)."""
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def command(value: str) -> list[str]:
    """A command line as systemd runs it, for the words our units write (quoted, ``%`` and ``$`` doubled)."""
    return [word.replace("%%", "%").replace("$$", "$") for word in shlex.split(value)]


def environment(unit: Path) -> dict[str, str]:
    return dict(shlex.split(value)[0].replace("%%", "%").split("=", 1) for value in settings(unit)["Environment"])


@pytest.fixture
def units(tmp_path: Path) -> SystemdExport:
    return export(make_project(tmp_path / "project"), tmp_path / "units")


def test_units_of_kb_conduit_match_the_snapshot(tmp_path: Path, snapshot) -> None:
    project = tmp_path / "project"
    (project / "stacks" / "sample-kb").mkdir(parents=True)
    shutil.copy(ROOT / "cdktf.json", project / "cdktf.json")
    shutil.copy(ROOT / "stacks" / "kb-conduit.yaml", project / "stacks" / "kb-conduit.yaml")
    loaded = load_stack(project / "stacks" / "kb-conduit.yaml")
    written = export_systemd(loaded, tmp_path / "units", strata_command=strata_command(),
                             workspace_path=project / "stacks" / "sample-kb", install_paths=[Path(sys.prefix)])
    texts = {path.name: path.read_text().replace(sys.executable, "<python>").replace(str(project), "<project>")
             .replace(sys.prefix, "<prefix>") for path in [written.target_unit, *written.service_units.values()]}
    assert texts == snapshot


def kb_conduit_units(tmp_path: Path) -> SystemdExport:
    loaded = load_stack(ROOT / "stacks" / "kb-conduit.yaml")
    return export_systemd(loaded, tmp_path / "kb-conduit", strata_command=strata_command(),
                          workspace_path=loaded.resolve("stacks/sample-kb"), install_paths=installation_paths())


@pytest.mark.parametrize("stack", ["kb-conduit", "policies-off"])
def test_systemd_analyze_verify_accepts_every_unit_without_a_warning(tmp_path: Path, systemd_analyze: str,
                                                                     stack: str) -> None:
    if stack == "kb-conduit":
        written = kb_conduit_units(tmp_path)
    else:
        # Also a project path that must be quoted on command lines and in bind paths.
        written = export(make_project(tmp_path / "my 100% project", auto_restart=False, cascade_stop=False,
                                      parallel_init=False), tmp_path / "units")
    files = [str(written.target_unit), *map(str, written.service_units.values())]
    done = subprocess.run([systemd_analyze, "verify", *files], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_every_agent_unit_rates_an_exposure_of_2_5_or_lower(tmp_path: Path, systemd_analyze: str) -> None:
    written = kb_conduit_units(tmp_path)
    files = [str(path) for path in written.service_units.values()]
    done = subprocess.run([systemd_analyze, "security", "--offline=yes", "--threshold=25", *files],
                          capture_output=True, text=True, timeout=120)
    exposure = {name: float(level) for name, level in EXPOSURE.findall(done.stdout)}
    print("exposure by unit:", exposure)
    assert sorted(exposure) == sorted(path.name for path in written.service_units.values())
    assert max(exposure.values()) <= 2.5, exposure
    assert done.returncode == 0, done.stderr


def test_the_target_wants_every_agent_and_every_agent_is_part_of_it(units: SystemdExport) -> None:
    assert units.target_unit.name == "strata-unit-test.target"
    agents = {name: path.name for name, path in units.service_units.items()}
    assert agents == {"base": "strata-unit-test-base.service", "left": "strata-unit-test-left.service",
                      "right": "strata-unit-test-right.service", "top": "strata-unit-test-top.service"}
    assert settings(units.target_unit)["Wants"] == [" ".join(agents.values())]
    assert settings(units.target_unit)["WantedBy"] == ["multi-user.target"]
    for path in units.service_units.values():
        assert settings(path)["PartOf"] == ["strata-unit-test.target"]


def test_cascade_stop_binds_an_agent_to_its_upstreams(units: SystemdExport) -> None:
    top = settings(units.service_units["top"])
    assert top["BindsTo"] == ["strata-unit-test-left.service strata-unit-test-right.service"]
    assert "Wants" not in top
    assert "BindsTo" not in settings(units.service_units["base"])


def test_without_cascade_stop_an_agent_only_wants_its_upstreams(tmp_path: Path) -> None:
    written = export(make_project(tmp_path / "project", cascade_stop=False), tmp_path / "units")
    top = settings(written.service_units["top"])
    assert top["Wants"] == ["strata-unit-test-left.service strata-unit-test-right.service"]
    assert "BindsTo" not in top


def test_auto_restart_restarts_on_failure_after_a_delay_within_a_start_limit(units: SystemdExport) -> None:
    base = settings(units.service_units["base"])
    assert (base["Restart"], base["RestartSec"]) == (["on-failure"], [str(RESTART_DELAY_SECONDS)])
    assert (base["StartLimitIntervalSec"], base["StartLimitBurst"]) == (
        [str(START_LIMIT_INTERVAL_SECONDS)], [str(START_LIMIT_BURST)])


def test_without_auto_restart_nothing_restarts(tmp_path: Path) -> None:
    written = export(make_project(tmp_path / "project", auto_restart=False), tmp_path / "units")
    base = settings(written.service_units["base"])
    assert base["Restart"] == ["no"]
    assert not {"RestartSec", "StartLimitIntervalSec", "StartLimitBurst"} & set(base)


def test_agents_start_after_their_upstreams(units: SystemdExport) -> None:
    assert "After" not in settings(units.service_units["base"])
    assert settings(units.service_units["right"])["After"] == ["strata-unit-test-base.service"]
    assert settings(units.service_units["top"])["After"] == [
        "strata-unit-test-left.service strata-unit-test-right.service"]


def test_without_parallel_init_a_layer_starts_one_agent_after_another(tmp_path: Path) -> None:
    written = export(make_project(tmp_path / "project", parallel_init=False), tmp_path / "units")
    right = settings(written.service_units["right"])
    assert right["After"] == ["strata-unit-test-base.service strata-unit-test-left.service"]
    # Ordered after its neighbour, not bound to it: it reads only base.
    assert right["BindsTo"] == ["strata-unit-test-base.service"]


def test_the_environment_follows_the_wire_contract(units: SystemdExport, tmp_path: Path) -> None:
    assert environment(units.service_units["left"]) == {
        wire.STATE_DIR_ENV: "/var/lib/strata/unit-test/left",
        wire.upstream_env_var("base"): wire.local_url(2801),
        "HOME": "/var/cache/strata/unit-test/left",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "GREETING": 'say "hi" to 100% of $HOME',
    }
    left = settings(units.service_units["left"])
    assert left["StateDirectory"] == left["CacheDirectory"] == ["strata/unit-test/left"]
    assert 'Environment="GREETING=say \\"hi\\" to 100%% of $HOME"' in units.service_units["left"].read_text()
    assert environment(units.service_units["top"])[wire.upstream_env_var("right")] == wire.local_url(2803)
    # The workspace only for the agent that declares it.
    assert environment(units.service_units["base"])[wire.KB_ROOT_ENV] == str(tmp_path / "project" / "kb")


def test_the_service_serves_the_agent_on_loopback_and_waits_until_it_is_ready(units: SystemdExport,
                                                                              tmp_path: Path) -> None:
    project = tmp_path / "project"
    left = settings(units.service_units["left"])
    assert left["Type"] == ["exec"]
    assert left["WorkingDirectory"] == [str(project)]
    assert command(left["ExecStart"][0]) == [*strata_command(), *wire.SERVE_COMMAND[1:], *wire.serve_args(
        str(project / "stack.yaml"), "left", "127.0.0.1", 2802)]
    assert command(left["ExecStartPost"][0]) == [
        sys.executable, "-m", "agentstrata.targets.local.systemd_ready", "http://127.0.0.1:2802",
        str(READY_TIMEOUT_SECONDS)]


def test_a_project_path_with_a_space_and_a_percent_sign_reads_back_unchanged(tmp_path: Path) -> None:
    project = tmp_path / "my 100% project"
    written = export(make_project(project), tmp_path / "units")
    base = settings(written.service_units["base"])
    assert base["WorkingDirectory"] == [str(project).replace("%", "%%")]  # the whole value, never unquoted
    assert base["BindReadOnlyPaths"][0] == f'"{str(project).replace("%", "%%")}"'
    assert command(base["ExecStart"][0])[-8:] == wire.serve_args(str(project / "stack.yaml"), "base", "127.0.0.1", 2801)
    assert environment(written.service_units["base"])[wire.KB_ROOT_ENV] == str(project / "kb")


def test_the_project_kb_and_python_are_bound_read_only(tmp_path: Path) -> None:
    stack_file = make_project(tmp_path / "project")
    kb = tmp_path / "kb-elsewhere"
    written = export_systemd(load_stack(stack_file), tmp_path / "units", strata_command=strata_command(),
                             workspace_path=kb, install_paths=[Path(sys.prefix), Path(sys.prefix) / "lib"])
    base = settings(written.service_units["base"])
    # What lies inside another bound path is not bound again.
    assert base["BindReadOnlyPaths"] == [str(tmp_path / "project"), str(kb), sys.prefix]
    assert (base["ProtectHome"], base["ProtectSystem"]) == (["tmpfs"], ["strict"])
    # An agent that does not declare the workspace does not see it.
    assert settings(written.service_units["left"])["BindReadOnlyPaths"] == [str(tmp_path / "project"), sys.prefix]


def test_resources_become_cgroup_limits(units: SystemdExport) -> None:
    left = settings(units.service_units["left"])
    assert (left["MemoryMax"], left["MemorySwapMax"], left["CPUQuota"]) == ([str(256 * 2**20)], ["0"], ["50%"])
    assert not {"MemoryMax", "CPUQuota"} & set(settings(units.service_units["base"]))


def test_a_path_holding_a_colon_is_refused(tmp_path: Path) -> None:
    stack_file = make_project(tmp_path / "project")
    with pytest.raises(StrataError) as raised:
        export_systemd(load_stack(stack_file), tmp_path / "units", strata_command=strata_command(),
                       workspace_path=Path("/srv/kb:2"), install_paths=[])
    assert (raised.value.message, raised.value.exit_code) == (
        "systemd cannot bind /srv/kb:2 into a unit: the path holds ':'", 1)


def test_an_unwritable_output_directory_is_a_clear_error(tmp_path: Path) -> None:
    stack_file = make_project(tmp_path / "project")
    (tmp_path / "taken").write_text("a file, not a directory")
    with pytest.raises(StrataError) as raised:
        export(stack_file, tmp_path / "taken")
    assert (raised.value.message, raised.value.exit_code) == (f"cannot write {tmp_path / 'taken'}: File exists", 1)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


def test_the_units_command_lines_run_agents_that_find_each_other(tmp_path: Path,
                                                                 started: list[subprocess.Popen[bytes]]) -> None:
    """Outside systemd (no PID 1 here): each unit's ExecStart= with its Environment=, state and HOME
    moved into tmp, then its ExecStartPost=, which returns once the agent is ready."""
    ports = (free_port(), free_port(), free_port(), free_port())
    project = tmp_path / "project"
    written = export(make_project(project, ports=ports), tmp_path / "units")
    write_notebook(project / "base.py",
                   "@app.cell\ndef _():\n    root = ''\n    return (root,)",
                   "@app.cell\ndef _(root):\n    where = root\n    return (where,)")
    write_notebook(project / "relay.py",
                   "@app.cell\ndef _():\n    where = ''\n    return (where,)",
                   "@app.cell\ndef _(where):\n    seen = where\n    return (seen,)")
    write_notebook(project / "top.py", "@app.cell\ndef _():\n    return")
    for name in ("base", "left"):
        unit = written.service_units[name]
        env = {**environment(unit), "PATH": "/usr/bin:/bin"}
        env[wire.STATE_DIR_ENV] = str(tmp_path / "state" / name)
        env["HOME"] = str(tmp_path / "home" / name)
        with (tmp_path / f"{name}.log").open("wb") as log:
            started.append(subprocess.Popen(command(settings(unit)["ExecStart"][0]), cwd=project, env=env,
                                            stdout=log, stderr=subprocess.STDOUT))
        ready = subprocess.run(command(settings(unit)["ExecStartPost"][0]), cwd=project, env=env,
                               capture_output=True, text=True, timeout=READY_TIMEOUT_SECONDS + 30)
        assert ready.returncode == 0, (ready.stderr, (tmp_path / f"{name}.log").read_text())
    assert (tmp_path / "state" / "left" / "outputs" / "seen.json").is_file()


def test_the_readiness_wait_gives_up_with_the_reason(tmp_path: Path) -> None:
    url = wire.local_url(free_port())
    done = subprocess.run([sys.executable, "-m", "agentstrata.targets.local.systemd_ready", url, "0"],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (1, f"{url}: not ready after 0 s: not answering (ConnectError)\n")


def test_the_readiness_wait_refuses_bad_arguments_with_its_usage() -> None:
    done = subprocess.run([sys.executable, "-m", "agentstrata.targets.local.systemd_ready", "http://x", "soon"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.endswith("systemd_ready: error: argument seconds: invalid float value: 'soon'\n")
