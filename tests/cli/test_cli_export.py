"""`strata export FORMAT STACK`: the format picks the target that owns it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRATA = str(Path(sys.executable).parent / "strata")


def test_an_unknown_format_lists_every_targets_formats(tmp_path: Path):
    done = subprocess.run([STRATA, "export", "nope", str(ROOT / "stacks" / "kb-conduit.yaml")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr.strip()) == (
        2, "no export format 'nope' (formats: systemd (local), compose (docker), k8s (kubernetes))")


def test_systemd_units_are_the_local_targets_export(tmp_path: Path):
    done = subprocess.run([STRATA, "export", "systemd", str(ROOT / "stacks" / "kb-conduit.yaml"), "--out",
                           str(tmp_path / "units")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "units").iterdir()) == [
        "strata-kb-conduit-concierge.service", "strata-kb-conduit-context-loader.service",
        "strata-kb-conduit-debriefer.service", "strata-kb-conduit-kb-base.service",
        "strata-kb-conduit-pattern-detector.service", "strata-kb-conduit-validator.service",
        "strata-kb-conduit.target"]
    assert done.stderr.startswith(f"wrote {tmp_path / 'units'}/ (strata-kb-conduit.target, ")
