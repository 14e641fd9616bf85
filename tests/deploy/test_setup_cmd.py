"""`strata setup` end to end, as a user runs it: every step reported, then the total time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


def test_strata_setup_runs_every_step_and_a_second_run_reuses_everything(layout):
    if os.geteuid() != 0:
        pytest.skip("a first `strata setup` starts dockerd and runs debootstrap, which need root")
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: cannot install the cdktf CLI")
    command = [sys.executable, "-c", "from agentstrata.cli import main; main()", "setup"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert second.returncode == 0, second.stderr
    for step in ("Docker engine", "build tofu", "build terraform-provider-docker", "cdktf CLI", "base image",
                 "wheelhouse", "runtime build context"):
        assert f"✓ {step}" in second.stderr
    for cached in ("build tofu (cached", "cdktf CLI (cached", "(cached, ", "wheelhouse (cached"):
        assert cached in second.stderr
    assert "setup done in" in second.stderr
