"""Running cdktf as a step: output to the log, failures as messages, Ctrl-C lets tofu save its state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from rich.console import Console

from agentstrata.deploy.cdktf_run import run_cdktf
from agentstrata.deploy.layout import project_layout
from agentstrata.deploy.state_lock import lock_holder
from agentstrata.deploy.steps import StepRunner
from agentstrata.errors import StrataError

REPO = Path(__file__).resolve().parents[2]
# Where `strata setup` (run first by `make test`) builds tofu: the per-machine toolchain cache.
TOFU = project_layout(REPO).tools_bin / "tofu"

# Stands in for `cdktf deploy`: a parent process (sh) running tofu, as node runs it.
SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from rich.console import Console
    from agentstrata.deploy.cdktf_run import run_cdktf
    from agentstrata.deploy.steps import StepRunner
    from agentstrata.errors import StrataError

    work, tofu = Path(sys.argv[1]), sys.argv[2]
    runner = StepRunner(work / "logs", console=Console(stderr=True))
    try:
        with runner.step("apply", "apply", "hint") as step:
            run_cdktf(step, ["sh", "-c", f"{tofu} apply -auto-approve -input=false -no-color; exit $?"],
                      cwd=work, env={"PATH": "/usr/bin:/bin", "TF_IN_AUTOMATION": "1"}, timeout=300,
                      resume_hint="run it again")
    except StrataError as exc:
        print(exc.message, file=sys.stderr)
        sys.exit(exc.exit_code)
    """
)


@pytest.fixture
def runner(tmp_path: Path) -> StepRunner:
    return StepRunner(tmp_path / "logs", console=Console(stderr=True, width=200))


def test_output_goes_to_the_log(tmp_path: Path, runner: StepRunner) -> None:
    with runner.step("echo", "echo", "hint") as step:
        run_cdktf(step, ["sh", "-c", "echo 'docker_container.kb_base: Creating...'"], cwd=tmp_path,
                  env={"PATH": "/usr/bin:/bin"}, timeout=30, resume_hint="again")
    assert "docker_container.kb_base: Creating..." in (tmp_path / "logs" / "echo.log").read_text()


def test_failure_names_the_command_the_log_tail_and_the_hint(tmp_path: Path, runner: StepRunner) -> None:
    with pytest.raises(StrataError) as raised:
        with runner.step("cdktf deploy s", "fail", "fix it, then re-run") as step:
            run_cdktf(step, ["sh", "-c", "echo 'Error: no such image'; exit 3"], cwd=tmp_path,
                      env={"PATH": "/usr/bin:/bin"}, timeout=30, resume_hint="again")
    message = raised.value.message
    assert message.startswith("cdktf deploy s failed: `sh -c echo 'Error: no such image'; exit 3` exited with status 3.")
    assert "    Error: no such image" in message
    assert message.endswith("  What to do: fix it, then re-run")


def test_time_bound_stops_the_command(tmp_path: Path, runner: StepRunner) -> None:
    with pytest.raises(StrataError) as raised:
        with runner.step("slow", "slow", "hint") as step:
            run_cdktf(step, ["sh", "-c", "sleep 60"], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}, timeout=1,
                      resume_hint="again")
    assert raised.value.message.startswith("slow failed: `sh -c sleep 60` did not finish within 1 s.")


def test_ctrl_c_lets_tofu_save_its_state(tmp_path: Path) -> None:
    if not TOFU.is_file():
        pytest.skip(f"tofu is not built yet ({TOFU}); run `strata setup`")
    (tmp_path / "main.tf.json").write_text(json.dumps({"resource": {"terraform_data": {
        "fast": {"input": "done"},
        "slow": {"depends_on": ["terraform_data.fast"], "provisioner": [{"local-exec": {"command": "sleep 120"}}]},
    }}}))
    subprocess.run([TOFU, "init", "-input=false"], cwd=tmp_path, check=True, capture_output=True, timeout=120,
                   env={**os.environ, "TF_IN_AUTOMATION": "1"})
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path), str(TOFU)], stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    log = tmp_path / "logs" / "apply.log"
    try:
        deadline = time.monotonic() + 120
        while "Provisioning with 'local-exec'" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "tofu never reached the provisioner"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        for child in psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []:
            child.kill()
        proc.kill()
    assert proc.returncode == 130
    assert stderr.strip().splitlines()[-3:] == [
        "apply interrupted; the Terraform state was saved.",
        f"  Full log: {log}",
        "  What to do: run it again",
    ]
    state = json.loads((tmp_path / "terraform.tfstate").read_text())
    # Recorded as it stood: `fast` created, `slow` created but its provisioner cut short, so tainted.
    assert {r["name"]: r["instances"][0].get("status", "ok") for r in state["resources"]} == {
        "fast": "ok", "slow": "tainted"}
    assert lock_holder(tmp_path / "terraform.tfstate") is None
    assert "Interrupt received" in log.read_text()
