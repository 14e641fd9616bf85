"""The spec shipped into a container: container paths everywhere, loadable by the runtime's loader."""

from __future__ import annotations

from pathlib import Path

from agentstrata.constructs.packaged_spec import notebook_path, packaged_spec
from agentstrata.loader import load_stack
from agentstrata.schema import StackSpec


def spec(sources: list[str]) -> StackSpec:
    return StackSpec.model_validate({"name": "s", "agents": [{
        "name": "a", "layer": 0, "implementation": {"path": "agents/sub/a.py"},
        "interface": {"inputs": [{"name": f"i{n}", "type": "t", "source": s} for n, s in enumerate(sources)]},
    }]})


def test_notebooks_are_named_by_their_container_path():
    assert str(notebook_path(spec([]).agent_specs[0])) == "/app/agents/a.py"


def test_the_shipped_spec_loads_with_container_paths_and_assigned_ports(tmp_path: Path):
    shipped = packaged_spec(spec([]), "docker", tmp_path, tmp_path / "kb")
    (tmp_path / "stack.yaml").write_text(shipped)
    loaded = load_stack(tmp_path / "stack.yaml")
    agent = loaded.stack.agent_specs[0]
    assert (agent.implementation.path, agent.port) == ("/app/agents/a.py", 2718)
    assert loaded.spec.deployment.target == "docker"


def test_file_sources_inside_the_kb_point_at_its_mount_and_others_are_kept(tmp_path: Path):
    kb = tmp_path / "stacks" / "kb"
    sources = ["file:stacks/kb/notes/today.yaml", f"file:{kb}", "file:${KB_CONDUIT_ROOT}/x", "file:other/y",
               "env:HOME"]
    shipped = packaged_spec(spec(sources), "docker", tmp_path, kb)
    (tmp_path / "stack.yaml").write_text(shipped)
    inputs = load_stack(tmp_path / "stack.yaml").stack.agent_specs[0].interface.inputs
    assert [i.source for i in inputs] == ["file:/kb-conduit/notes/today.yaml", "file:/kb-conduit",
                                          "file:${KB_CONDUIT_ROOT}/x", "file:other/y", "env:HOME"]
