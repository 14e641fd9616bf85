"""The state lock of tofu's local backend: live holders are found and waited for, stale info is cleared."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentstrata.deploy.layout import project_layout
from agentstrata.deploy.state_lock import clear_stale_lock, lock_holder, lock_info_path, wait_for_lock
from agentstrata.errors import StrataError

REPO = Path(__file__).resolve().parents[2]
# Where `strata setup` (run first by `make test`) builds tofu: the per-machine toolchain cache.
TOFU = project_layout(REPO).tools_bin / "tofu"

# Locks the state the way tofu's local backend does: a POSIX record lock plus the info file.
HOLDER = textwrap.dedent(
    """
    import fcntl, json, sys, time
    state, info = sys.argv[1], sys.argv[2]
    handle = open(state, "r+b")
    fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    open(info, "w").write(json.dumps({"ID": "abc", "Operation": "OperationTypeApply", "Created": "2026-01-01"}))
    print("locked", flush=True)
    time.sleep(120)
    """
)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "terraform.tfstate"
    path.write_text("{}")
    return path


@pytest.fixture
def holder(state: Path):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(state), str(lock_info_path(state))],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_unlocked_state_has_no_holder(state: Path) -> None:
    assert lock_holder(state) is None


def test_missing_state_has_no_holder(tmp_path: Path) -> None:
    assert lock_holder(tmp_path / "absent.tfstate") is None


def test_live_holder_is_named_with_pid_and_operation(state: Path, holder: subprocess.Popen) -> None:
    found = lock_holder(state)
    assert found is not None
    assert found.pid == holder.pid
    assert found.info["Operation"] == "OperationTypeApply"
    assert found.describe().startswith(f"pid {holder.pid} (")
    assert found.describe().endswith("running OperationTypeApply since 2026-01-01")


def test_live_lock_is_never_cleared(state: Path, holder: subprocess.Popen) -> None:
    assert clear_stale_lock(state) is None
    assert lock_info_path(state).exists()


def test_wait_for_live_holder_fails_after_timeout_naming_it(state: Path, holder: subprocess.Popen) -> None:
    with pytest.raises(StrataError) as raised:
        wait_for_lock(state, timeout=0.3, poll=0.1)
    assert raised.value.exit_code == 1
    assert raised.value.message.startswith(f"the Terraform state {state} is locked by pid {holder.pid} (")
    assert f"stop `kill -INT {holder.pid}` (tofu saves its state on SIGINT), then re-run." in raised.value.message


def test_killed_holder_leaves_a_stale_info_file_that_is_cleared(state: Path, holder: subprocess.Popen) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    assert lock_holder(state) is None
    assert clear_stale_lock(state) == {"ID": "abc", "Operation": "OperationTypeApply", "Created": "2026-01-01"}
    assert not lock_info_path(state).exists()
    wait_for_lock(state, timeout=0)


def test_wait_returns_once_the_holder_exits(state: Path, holder: subprocess.Popen) -> None:
    seen = []

    def on_wait(found, waited):
        seen.append(found.pid)
        if len(seen) == 2:
            holder.kill()
            holder.wait(timeout=10)

    wait_for_lock(state, timeout=30, on_wait=on_wait, poll=0.05)
    assert seen == [holder.pid, holder.pid]


def test_real_tofu_apply_lock_is_found_and_freed_when_tofu_is_killed(tmp_path: Path) -> None:
    if not TOFU.is_file():
        pytest.skip(f"tofu is not built yet ({TOFU}); run `strata setup`")
    (tmp_path / "main.tf.json").write_text(json.dumps({
        "resource": {"terraform_data": {"slow": {"provisioner": [{"local-exec": {"command": "sleep 60"}}]}}}
    }))
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    subprocess.run([TOFU, "init", "-input=false"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=120)
    state = tmp_path / "terraform.tfstate"
    # Its own session, so that the provisioner's `sleep` can be ended with it.
    apply = subprocess.Popen([TOFU, "apply", "-auto-approve", "-input=false"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for line in apply.stdout:
            if "Provisioning with 'local-exec'" in line:
                break
        found = lock_holder(state)
        assert found is not None and found.pid == apply.pid
        assert found.info["Operation"] == "OperationTypeApply"
        apply.kill()
        apply.wait(timeout=10)
        assert lock_holder(state) is None
        assert clear_stale_lock(state)["Operation"] == "OperationTypeApply"
    finally:
        try:
            os.killpg(apply.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        apply.wait(timeout=10)
