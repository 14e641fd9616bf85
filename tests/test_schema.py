"""The typed model: defaults, derived values, and what the JSON Schema tells editors."""

import pytest
from pydantic import ValidationError

from agentstrata.schema import (
    AgentRef,
    AgentSpec,
    Resources,
    StackSpec,
    dns_label,
    json_schema,
)
from agentstrata.targets import deployment_model
from agentstrata.targets.docker.settings import DockerDeployment


def _agent(name: str, **extra: object) -> dict:
    return {"name": name, "layer": 0, "implementation": {"path": f"{name}.py"}, **extra}


def test_unset_ports_are_assigned_from_2718_skipping_explicit_ones():
    stack = StackSpec.model_validate(
        {"name": "s", "agents": [_agent("a"), _agent("b", port=2719), _agent("c")]}
    )
    assert [a.port for a in stack.agent_specs] == [2718, 2719, 2720]


def test_agent_items_are_inline_agents_or_refs():
    stack = StackSpec.model_validate({"name": "s", "agents": [_agent("a"), {"ref": "b.yaml"}]})
    assert isinstance(stack.agents[0], AgentSpec)
    assert isinstance(stack.agents[1], AgentRef)


def test_agent_specs_refuses_unresolved_refs():
    stack = StackSpec.model_validate({"name": "s", "agents": [{"ref": "b.yaml"}]})
    with pytest.raises(ValueError, match="unresolved agent refs: b.yaml"):
        stack.agent_specs


def test_unknown_keys_are_rejected():
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        AgentSpec.model_validate(_agent("a", colour="blue"))


@pytest.mark.parametrize(
    ("name", "label"),
    [("debriefing_agent", "debriefing-agent"), ("KB_Base", "kb-base"), ("a" * 70, "a" * 63)],
)
def test_dns_label(name: str, label: str):
    assert dns_label(name) == label


@pytest.mark.parametrize(
    ("memory", "cpu", "memory_bytes", "cores"),
    [("1Gi", "1.5", 2**30, 1.5), ("512Mi", "500m", 512 * 2**20, 0.5), ("2G", 2, 2 * 10**9, 2.0)],
)
def test_resources_parse_kubernetes_quantities(memory, cpu, memory_bytes, cores):
    resources = Resources.model_validate({"memory": memory, "cpu": cpu})
    assert resources.memory_bytes == memory_bytes
    assert resources.cpu_cores == cores


def test_sources_are_parsed():
    agent = AgentSpec.model_validate(
        _agent(
            "a",
            interface={
                "inputs": [
                    {"name": "h", "type": "t", "source": "agent:kb_base.session_log"},
                    {"name": "f", "type": "t", "source": "file:${KB}/x.yaml"},
                    {"name": "e", "type": "t", "source": "env:HOME"},
                ]
            },
        )
    )
    kinds = [(i.source_kind, i.source_agent) for i in agent.interface.inputs]
    assert kinds == [("agent", ("kb_base", "session_log")), ("file", None), ("env", None)]


def test_deployment_allows_its_target_and_each_sub_block():
    deployment = deployment_model().model_validate({"target": "docker", "kubernetes": {"namespace": "ns"}})
    assert deployment.allowed_targets == ["docker", "kubernetes"]
    assert deployment.settings("docker") == DockerDeployment()


def test_json_schema_carries_the_defaults_written_in_the_models():
    defs = json_schema()["$defs"]
    assert defs["Policies"]["properties"]["auto_restart"]["default"] is True
    assert defs["AgentSpec"]["properties"]["type"]["default"] == "marimo_notebook"
    assert defs["DockerDeployment"]["properties"]["bind_address"]["default"] == "127.0.0.1"
    assert defs["DataFlowEdge"]["properties"]["transform"]["default"] == "identity"
    assert defs["DataFlowEdge"]["required"] == ["from", "to", "data"]
