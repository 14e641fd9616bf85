"""The wire contract has one definition: agentstrata/wire.py. No other code spells out its names."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentstrata.runtime.upstreams import upstream_url
from agentstrata.wire import upstream_env, upstream_env_var

ROOT = Path(__file__).resolve().parents[1]
WIRE = ROOT / "agentstrata" / "wire.py"
#: The code that reads or sets the contract: the package and the reference notebooks.
SCANNED = ("agentstrata", "agents")

ENV_NAMES = ("STRATA_STATE_DIR", "KB_CONDUIT_ROOT", "STRATA_TRANSPORT", "STRATA_REDIS_URL", "STRATA_TRANSPORT_URL",
             "STRATA_EDIT_TOKEN", "STRATA_LOG_LEVEL", "STRATA_OUTPUTS_ONLY", "STRATA_DEBOUNCE_MS")
#: Any upstream variable, spelled out or assembled from its prefix.
UPSTREAM_PREFIX = "STRATA_UPSTREAM_"
_ENV_NAME = re.compile(rf"\b(?:{'|'.join(ENV_NAMES)})\b|\b{UPSTREAM_PREFIX}")

PROBE_PATHS = ("/ready", "/health")
#: A probe path as code builds a route or a probe URL: the whole literal (``Route("/ready")``), the part
#: after an interpolated base URL (``f"{url}/ready"``, ``url + "/ready"``), or in a literal URL.
_PROBE_PATH = re.compile(rf"(?:^|://[^/\s]*)(?:{'|'.join(PROBE_PATHS)})(?![\w-])")


def python_files() -> Iterator[Path]:
    for folder in SCANNED:
        yield from (path for path in sorted((ROOT / folder).rglob("*.py")) if path != WIRE)


def code_strings(path: Path) -> Iterator[ast.Constant]:
    """Every str constant of ``path`` but docstrings and other bare string statements (documentation)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    documentation = {id(node.value) for node in ast.walk(tree)
                     if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in documentation:
            yield node


def literals_matching(pattern: re.Pattern[str]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
            for path in python_files() for node in code_strings(path) if pattern.search(node.value)]


def test_the_scan_covers_the_runtime_and_the_notebooks():
    scanned = {path.relative_to(ROOT).as_posix() for path in python_files()}
    assert {"agentstrata/runtime/state_dir.py", "agentstrata/cli/serve_cmd.py", "agents/kb_base.py"} <= scanned
    assert "agentstrata/wire.py" not in scanned


def test_no_code_but_wire_spells_out_an_environment_variable_of_the_contract():
    found = literals_matching(_ENV_NAME)
    if found:
        pytest.fail("import these names from agentstrata.wire:\n" + "\n".join(found))


def test_no_code_but_wire_spells_out_a_probe_path():
    found = literals_matching(_PROBE_PATH)
    if found:
        pytest.fail("use agentstrata.wire's READY_PATH and HEALTH_PATH:\n" + "\n".join(found))


@pytest.mark.parametrize(("agent", "variable"), [
    ("kb-base", "STRATA_UPSTREAM_KB_BASE_URL"),
    ("kb_base", "STRATA_UPSTREAM_KB_BASE_URL"),
    ("a.b", "STRATA_UPSTREAM_A_B_URL"),
])
def test_an_agent_name_becomes_one_environment_variable(agent: str, variable: str):
    assert upstream_env_var(agent) == variable


def test_the_runtime_reads_the_upstream_url_a_target_sets(monkeypatch: pytest.MonkeyPatch):
    for variable, url in upstream_env({"a.b": "http://a-b.internal:2718/"}).items():
        monkeypatch.setenv(variable, url)
    assert upstream_url("a.b", 2717) == "http://a-b.internal:2718"
