"""Importing Strata changes nothing outside it: not the environment, not typing, not the working directory.

Each check runs in a fresh interpreter, so that nothing this test process imported earlier hides a change.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

EVERY_MODULE = """
import json, os, pkgutil, importlib, typing
import agentstrata

environ, get_type_hints = dict(os.environ), typing.get_type_hints
names = sorted(m.name for m in pkgutil.walk_packages(agentstrata.__path__, "agentstrata."))
for name in names:
    importlib.import_module(name)
print(json.dumps({
    "modules": names,
    "environ_changed": sorted(k for k in {*environ, *os.environ} if environ.get(k) != os.environ.get(k)),
    "get_type_hints_replaced": typing.get_type_hints is not get_type_hints,
}))
"""

CONSTRUCTS = """
import sys
import agentstrata.constructs
print(sorted(m for m in sys.modules if m.split(".")[0] in ("cdktf", "constructs", "jsii")))
"""


def run(code: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_every_module_changes_no_global_state(tmp_path: Path):
    found = json.loads(run(EVERY_MODULE, tmp_path))
    assert "agentstrata.constructs.agent_stack" in found["modules"]  # the walk reached the cdktf modules
    assert found["environ_changed"] == []
    assert found["get_type_hints_replaced"] is False
    assert list(tmp_path.iterdir()) == []


def test_importing_the_construct_library_loads_no_cdktf(tmp_path: Path):
    assert run(CONSTRUCTS, tmp_path).strip() == "[]"
