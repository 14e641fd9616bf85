"""Escape hatches: what the target created, as typed attributes of the stack and its agents."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cdktf
import pytest
from cdktf_cdktf_provider_docker.container import Container
from cdktf_cdktf_provider_docker.network import Network

from agentstrata.constructs import AgentStack
from agentstrata.constructs.target_resources import TargetResources
from agentstrata.targets.docker.created_resources import DockerAgentResources, DockerStackResources


@pytest.fixture
def stack(project: Path) -> AgentStack:
    return AgentStack.from_file(cdktf.Testing.app(), project / "stacks" / "kb-conduit.yaml", target="docker")


def test_before_render_an_escape_hatch_says_to_render(stack: AgentStack):
    with pytest.raises(AttributeError, match=r"^MarimoAgent has no attribute 'container' yet: target resources are "
                                             r"created when the stack renders \(call stack.render\(\) once every "
                                             r"agent and connection is declared\)$"):
        stack.agents["kb_base"].container  # noqa: B018
    assert dict(stack.agents["kb_base"].resources) == {}


def test_the_attributes_are_the_typed_records_fields(stack: AgentStack):
    stack.render()
    agent = stack.agents["kb_base"]
    assert isinstance(agent.resources, DockerAgentResources) and isinstance(stack.resources, DockerStackResources)
    assert isinstance(agent.container, Container) and agent.container is agent.resources.container
    assert isinstance(stack.network, Network) and stack.network is stack.resources.network
    assert dict(agent.resources) == {f.name: getattr(agent.resources, f.name)
                                     for f in dataclasses.fields(DockerAgentResources)}


def test_after_render_an_unknown_name_lists_what_the_target_created(stack: AgentStack):
    stack.render()
    created = ", ".join(f.name for f in dataclasses.fields(DockerAgentResources))
    with pytest.raises(AttributeError) as caught:
        stack.agents["kb_base"].contianer  # noqa: B018
    assert str(caught.value) == (f"MarimoAgent has no attribute 'contianer'; its target created {created} "
                                 "(DockerAgentResources)")


@dataclasses.dataclass(frozen=True)
class _Shadowing(TargetResources):
    name: str


def test_a_record_whose_field_an_attribute_would_hide_is_refused(stack: AgentStack):
    with pytest.raises(TypeError, match=r"^_Shadowing fields \['name'\] are MarimoAgent attributes already: "
                                        "rename them, or they cannot be reached$"):
        stack.agents["kb_base"].attach(_Shadowing(name="x"))
