"""Fixtures for the reference agents: load a notebook from agents/, run it, isolate it from live services."""

from __future__ import annotations

import importlib.util
import itertools
import shutil
import socket
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AGENTS = ROOT / "agents"
SAMPLE_KB = ROOT / "stacks" / "sample-kb"
KB_CONDUIT = AGENTS / "kb_base" / "kb-conduit"
UPSTREAMS = ("KB_BASE", "CONTEXT_LOADER", "VALIDATOR", "DEBRIEFER", "PATTERN_DETECTOR")

_ids = itertools.count()


def load_app(name: str) -> Any:
    """The marimo app of agents/<name>.py, freshly imported."""
    spec = importlib.util.spec_from_file_location(f"agent_under_test_{next(_ids)}", AGENTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def closed_port_url() -> str:
    """A loopback URL nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standalone fallbacks must never reach agents other people run on this machine's 2717-2722,
    nor a KB_CONDUIT_ROOT from the caller's environment."""
    dead = closed_port_url()
    for upstream in UPSTREAMS:
        monkeypatch.setenv(f"STRATA_UPSTREAM_{upstream}_URL", dead)
    for variable in ("KB_CONDUIT_ROOT", "KB_CONDUIT_NOW", "KB_CONDUIT_AGENT"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def run_agent() -> Callable[..., Mapping[str, Any]]:
    """run_agent(name, **defs) -> the notebook's definitions after app.run(defs=defs)."""

    def run(name: str, **defs: Any) -> Mapping[str, Any]:
        _, definitions = load_app(name).run(defs=defs)
        return definitions

    return run


@pytest.fixture
def load_agent() -> Callable[[str], Any]:
    """load_agent(name) -> the marimo app of agents/<name>.py."""
    return load_app


@pytest.fixture(scope="session")
def run_kb_stack() -> Callable[[Path], dict[str, Mapping[str, Any]]]:
    """run_kb_stack(kb_root) runs stacks/kb-conduit.yaml's agents in layer order, wiring each input
    as the stack declares it (with the data_flow edge's transform): {agent: its definitions}."""
    from agentstrata.loader import load_stack
    from agentstrata.transforms import apply_transform

    loaded = load_stack(ROOT / "stacks" / "kb-conduit.yaml")
    stack = loaded.stack

    def run(kb_root: Path) -> dict[str, Mapping[str, Any]]:
        results: dict[str, Mapping[str, Any]] = {}
        for agent in sorted(stack.agent_specs, key=lambda a: a.layer):
            defs: dict[str, Any] = {}
            for spec in agent.interface.inputs:
                if spec.source_kind == "file":
                    defs[spec.name] = str(kb_root)
                    continue
                producer, output = spec.source_agent
                edge = next(e for e in stack.data_flow if (e.from_, e.to, e.data) == (producer, agent.name, output))
                defs[spec.name] = apply_transform(edge.transform, results[producer][output])
            app = load_app(Path(agent.implementation.path).stem)
            _, results[agent.name] = app.run(defs=defs)
        return results

    return run


@pytest.fixture(scope="session")
def sample_stack(run_kb_stack) -> dict[str, Mapping[str, Any]]:
    """The kb-conduit stack run once on the committed sample KB (read-only: do not modify)."""
    return run_kb_stack(SAMPLE_KB)


@pytest.fixture
def kb(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """kb(*args, now=None, env=None) runs kb-conduit on a KB under tmp_path (tmp_path/kb)."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")

    def run(*args: str, now: str | None = None, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "KB_CONDUIT_ROOT": str(tmp_path / "kb"),
                       "LANG": "C.UTF-8", "USER": "tester"}
        if now is not None:
            environment["KB_CONDUIT_NOW"] = now
        environment.update(env or {})
        return subprocess.run([str(KB_CONDUIT), *args], env=environment, capture_output=True, text=True,
                              timeout=60, check=False)

    return run


@pytest.fixture
def copied_sample_kb(tmp_path: Path) -> Path:
    """A private copy of the sample KB, safe to modify."""
    target = tmp_path / "sample-kb"
    shutil.copytree(SAMPLE_KB, target)
    return target
