"""Which agents start before which: upstreams always, and one at a time per layer without parallel_init."""

from __future__ import annotations

from agentstrata.targets.base.start_order import start_after, upstreams
from agentstrata.schema import StackSpec


def stack(parallel_init: bool) -> StackSpec:
    def agent(name: str, layer: int, deps: list[str] = ()) -> dict:  # type: ignore[assignment]
        return {"name": name, "layer": layer, "implementation": {"path": f"{name}.py"},
                "dependencies": [{"agent_name": d} for d in deps]}
    return StackSpec.model_validate({
        "name": "s", "policies": {"parallel_init": parallel_init},
        "agents": [agent("a", 0), agent("b", 0), agent("c", 1, ["a"]), agent("d", 1, ["a", "b"])],
    })


def test_upstreams_are_dependencies_and_agent_sources_once_each():
    spec = StackSpec.model_validate({"name": "s", "agents": [
        {"name": "a", "layer": 0, "implementation": {"path": "a.py"}},
        {"name": "b", "layer": 0, "implementation": {"path": "b.py"}},
        {"name": "c", "layer": 1, "implementation": {"path": "c.py"}, "dependencies": [{"agent_name": "a"}],
         "interface": {"inputs": [{"name": "x", "type": "t", "source": "agent:a.o"},
                                  {"name": "y", "type": "t", "source": "agent:b.o"}]}},
    ]})
    assert upstreams(spec.agent("c")) == ["a", "b"]


def test_with_parallel_init_agents_wait_for_their_upstreams_only():
    assert start_after(stack(True)) == {"a": [], "b": [], "c": ["a"], "d": ["a", "b"]}


def test_without_parallel_init_each_agent_also_waits_for_the_previous_one_of_its_layer():
    assert start_after(stack(False)) == {"a": [], "b": ["a"], "c": ["a"], "d": ["a", "b", "c"]}
