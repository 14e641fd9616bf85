"""Every tutorial notebook shipped inside marimo, served as a lone notebook (``strata serve path.py``).

Whatever ``app.run()`` accepts becomes ready: a value that cannot be encoded (a closed file, a UI
element) is left out of the discovered outputs, with its reason at ``/interface``, never failing the run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import marimo
import pytest
from tests.runtime.conftest import ServeProcess, get_json, wait_until

TUTORIALS = Path(marimo.__file__).parent / "_tutorials"
NOTEBOOKS = sorted(p.name for p in TUTORIALS.glob("*.py") if p.name != "__init__.py")
#: Served this many at a time: a bounded load on a small machine.
BATCH = 3


def accepted_by_app_run(notebook: Path) -> bool:
    """Whether marimo's own ``app.run()`` runs the notebook without raising (in a fresh interpreter)."""
    code = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('nb', sys.argv[1]); "
            "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); module.app.run()")
    return subprocess.run([sys.executable, "-c", code, str(notebook)], cwd=notebook.parent, capture_output=True,
                          timeout=120).returncode == 0


def outcome(running: ServeProcess) -> dict | None:
    """``{"ready": True, ...}`` once ready; ``{"ready": False, "error": ...}`` once its run failed for good."""
    if running.process.poll() is not None:
        pytest.fail(f"strata serve exited with {running.process.returncode}:\n{running.log_text()}")
    if httpx.get(f"{running.url}/ready", timeout=5).status_code == 200:
        return {"ready": True, "interface": get_json(f"{running.url}/interface")}
    health = get_json(f"{running.url}/health")
    if health["last_error"] and not health["pending"] and health["runs"] >= 1:
        return {"ready": False, "error": health["last_error"]}
    return None


@pytest.mark.skipif(not NOTEBOOKS, reason=f"marimo ships no tutorials at {TUTORIALS}")
def test_every_tutorial_that_app_run_accepts_becomes_ready(tmp_path: Path, serve) -> None:
    shutil.copytree(TUTORIALS, tmp_path / "tutorials")  # the state directory goes next to the notebook
    results: dict[str, dict] = {}
    for start in range(0, len(NOTEBOOKS), BATCH):
        batch = {name: serve(str(tmp_path / "tutorials" / name)) for name in NOTEBOOKS[start:start + BATCH]}
        for name, running in batch.items():
            results[name] = wait_until(lambda: outcome(running), f"{name} to be ready or to fail", timeout=120)
            running.stop()

    failed = {name: r["error"] for name, r in results.items() if not r["ready"]}
    for name, error in failed.items():
        assert not error["exception"].startswith("internal error"), (name, error)
        assert not accepted_by_app_run(tmp_path / "tutorials" / name), f"{name}: app.run() accepts it: {error}"
    left_out = {name: r["interface"]["left_out"] for name, r in results.items() if r["ready"]}
    assert left_out["fileformat.py"]["f"] == (
        "object of type TextIOWrapper (an iterator: encoding it would consume it) at value")
    assert all(reason for reasons in left_out.values() for reason in reasons.values())
