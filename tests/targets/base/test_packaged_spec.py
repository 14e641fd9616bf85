"""The spec shipped into a container: the agent's view of the stack, in container paths, loadable."""

from __future__ import annotations

from pathlib import Path

from agentstrata.targets.base.packaged_spec import PackagedSpecs
from agentstrata.wire import image_notebook_path
from agentstrata.loader import load_stack
from agentstrata.schema import StackSpec


def agent(name: str, layer: int, sources: list[str] = (), deps: list[str] = ()) -> dict:  # type: ignore[assignment]
    return {
        "name": name, "layer": layer, "implementation": {"path": f"agents/sub/{name}.py"},
        "dependencies": [{"agent_name": d, "inputs": {"out": f"in_{d}"}} for d in deps],
        "interface": {
            "inputs": [{"name": f"i{n}", "type": "t", "source": s} for n, s in enumerate(sources)]
            + [{"name": f"in_{d}", "type": "t", "source": f"agent:{d}.out"} for d in deps],
            "outputs": [{"name": "out", "type": "t", "exposed_as": "reactive_cell:out"}],
        },
    }


def shipped(tmp_path: Path, stack: StackSpec, name: str, kb: Path | None = None):  # noqa: ANN201
    text = PackagedSpecs(stack, "docker", tmp_path, kb or tmp_path / "kb").for_agent(stack.agent(name))
    (tmp_path / "stack.yaml").write_text(text)
    return load_stack(tmp_path / "stack.yaml")


STACK = StackSpec.model_validate({
    "name": "s",
    "agents": [agent("a", 0), agent("b", 0), agent("c", 1, deps=["a"]), agent("d", 2, deps=["c"])],
    "data_flow": [{"from": "a", "to": "c", "data": "out", "transform": "json"}, {"from": "c", "to": "d", "data": "out"}],
    "policies": {"parallel_init": False},
})


def test_notebooks_are_named_by_their_container_path():
    assert str(image_notebook_path(STACK.agent("c").implementation.path)) == "/app/agents/c.py"


def test_a_container_gets_its_agent_its_upstreams_as_stubs_and_the_edges_into_it(tmp_path: Path):
    loaded = shipped(tmp_path, STACK, "c")
    a, c = loaded.stack.agent_specs
    assert (a.name, a.port, a.implementation.path, [o.name for o in a.interface.outputs]) == \
        ("a", 2718, "/app/agents/a.py", ["out"])
    assert (c.name, c.port, c.implementation.path) == ("c", 2720, "/app/agents/c.py")
    assert c == STACK.agent("c").model_copy(update={"implementation": c.implementation})
    assert [(e.from_, e.to, e.transform) for e in loaded.stack.data_flow] == [("a", "c", "json")]
    assert loaded.stack.policies.parallel_init is False
    assert loaded.spec.deployment.target == "docker"


def test_an_agent_without_upstreams_ships_alone(tmp_path: Path):
    assert [a.name for a in shipped(tmp_path, STACK, "b").stack.agent_specs] == ["b"]


def test_file_sources_inside_the_kb_point_at_its_mount_and_others_are_kept(tmp_path: Path):
    kb = tmp_path / "stacks" / "kb"
    sources = ["file:stacks/kb/notes/today.yaml", f"file:{kb}", "file:${KB_CONDUIT_ROOT}/x", "file:other/y",
               "env:HOME"]
    stack = StackSpec.model_validate({"name": "s", "agents": [agent("a", 0, sources)]})
    inputs = shipped(tmp_path, stack, "a", kb).stack.agent_specs[0].interface.inputs
    assert [i.source for i in inputs] == ["file:/kb-conduit/notes/today.yaml", "file:/kb-conduit",
                                          "file:${KB_CONDUIT_ROOT}/x", "file:other/y", "env:HOME"]
