"""Composing a stack in Python: each conflicting or bad prop is an error at the call that made it."""

from __future__ import annotations

import inspect
from pathlib import Path

import cdktf
import pytest

from agentstrata.constructs import AgentStack, DockerTarget
from agentstrata.errors import SpecError

HERE = Path(__file__).name


def here() -> int:
    """The line of the caller's next line: where the call under test stands."""
    return inspect.currentframe().f_back.f_lineno + 1


@pytest.fixture
def stack(project: Path) -> AgentStack:
    return AgentStack(cdktf.Testing.app(), "s", target=DockerTarget(), root=project)


def only(caught: pytest.ExceptionInfo[SpecError]):  # noqa: ANN201
    (found,) = caught.value.diagnostics
    return found


def test_a_duplicate_agent_name_names_both_calls(stack: AgentStack):
    first = here()
    stack.add_agent(name="a", layer=0, notebook="agents/kb_base.py")
    with pytest.raises(SpecError) as caught:
        second = here()
        stack.add_agent(name="a", layer=1, notebook="agents/validator.py")
    found = only(caught)
    assert (found.file.endswith(HERE), found.line, found.code) == (True, second, "S002")
    assert found.message == f"duplicate agent name 'a': first added at {found.file}:{first}"


def test_the_same_port_on_two_agents_names_both(stack: AgentStack):
    stack.add_agent(name="a", layer=0, notebook="agents/kb_base.py", port=3000)
    with pytest.raises(SpecError) as caught:
        stack.add_agent(name="b", layer=0, notebook="agents/validator.py", port=3000)
    assert only(caught).message.startswith("agent 'b' asks for port 3000, already used by agent 'a' (added at ")


def test_unset_ports_are_assigned_at_render_like_in_a_file(project: Path):
    stack = AgentStack(cdktf.Testing.app(), "s", target=DockerTarget(workspace_path="stacks/sample-kb"), root=project)
    a = stack.add_agent(name="kb_base", layer=0, notebook="agents/kb_base.py", workspace="read",
                        inputs={"kb_root": ("kb_directory", "file:${KB_CONDUIT_ROOT}")},
                        outputs={"workspace_context": "workspace_context", "session_log": "session_log"})
    b = stack.add_agent(name="context_loader", layer=1, notebook="agents/context_loader.py", port=2718,
                        outputs={"context": "context"})
    b.consumes(a, "workspace_context")
    assert a.port is None
    stack.render()
    assert (a.port, b.port) == (2719, 2718)


def test_consuming_an_output_the_producer_lacks_lists_what_it_has(stack: AgentStack):
    kb = stack.add_agent(name="kb", layer=0, notebook="agents/kb_base.py", outputs={"log": "session_log"})
    reader = stack.add_agent(name="reader", layer=1, notebook="agents/validator.py")
    with pytest.raises(SpecError) as caught:
        reader.consumes(kb, "logs")
    assert (only(caught).code, only(caught).message) == ("S007", "agent 'kb' declares no output 'logs' "
                                                                  "(it declares: log)")


def test_one_input_name_fed_twice_names_the_first_source(stack: AgentStack):
    kb = stack.add_agent(name="kb", layer=0, notebook="agents/kb_base.py",
                         outputs={"log": "session_log", "context": "session_log"})
    reader = stack.add_agent(name="reader", layer=1, notebook="agents/validator.py")
    reader.consumes(kb, "log", as_="history")
    with pytest.raises(SpecError, match="agent 'reader' already has an input 'history' \\(source 'agent:kb.log'\\)"):
        reader.consumes(kb, "context", as_="history")


def test_one_output_consumed_twice_by_one_agent_is_an_error(stack: AgentStack):
    kb = stack.add_agent(name="kb", layer=0, notebook="agents/kb_base.py", outputs={"log": "session_log"})
    reader = stack.add_agent(name="reader", layer=1, notebook="agents/validator.py")
    reader.consumes(kb, "log", as_="history")
    with pytest.raises(SpecError, match="agent 'reader' already consumes kb.log as 'history'"):
        reader.consumes(kb, "log", as_="again")


def test_agents_of_another_stack_cannot_be_consumed(stack: AgentStack, project: Path):
    other = AgentStack(cdktf.Testing.app(), "other", target=DockerTarget(), root=project)
    kb = other.add_agent(name="kb", layer=0, notebook="agents/kb_base.py", outputs={"log": "session_log"})
    reader = stack.add_agent(name="reader", layer=1, notebook="agents/validator.py")
    with pytest.raises(SpecError, match="agent 'kb' belongs to another stack \\('other', not 's'\\)"):
        reader.consumes(kb, "log")


def test_agent_inputs_go_through_consumes(stack: AgentStack):
    with pytest.raises(SpecError, match="input 'x' reads from an agent: declare it with consumes\\(\\)"):
        stack.add_agent(name="a", layer=0, notebook="agents/kb_base.py", inputs={"x": ("t", "agent:b.y")})


@pytest.mark.parametrize(("props", "loc", "message"), [
    ({"name": "9lives"}, "name", "agent '9lives': String should match pattern"),
    ({"layer": -1}, "layer", "agent 'a': Input should be greater than or equal to 0 (got -1)"),
    ({"memory": "lots"}, "resources.memory", "agent 'a': String should match pattern"),
    ({"port": 80}, "port", "agent 'a': Input should be greater than or equal to 1024 (got 80)"),
])
def test_a_bad_prop_is_located_at_the_call_and_names_the_prop(stack: AgentStack, props: dict, loc: str, message: str):
    with pytest.raises(SpecError) as caught:
        line = here()
        stack.add_agent(**{"name": "a", "layer": 0, "notebook": "agents/kb_base.py", **props})
    found = only(caught)
    assert (found.line, found.loc) == (line, loc)
    assert found.message.startswith(message)


def test_a_bad_transform_is_located_at_the_consumes_call(stack: AgentStack):
    kb = stack.add_agent(name="kb", layer=0, notebook="agents/kb_base.py", outputs={"log": "session_log"})
    reader = stack.add_agent(name="reader", layer=1, notebook="agents/validator.py")
    with pytest.raises(SpecError) as caught:
        line = here()
        reader.consumes(kb, "log", transform="not a function")
    assert (only(caught).line, only(caught).loc) == (line, "transform")


def test_a_bad_stack_name_is_refused_before_any_construct_exists(project: Path):
    with pytest.raises(SpecError, match="AgentStack: String should match pattern"):
        AgentStack(cdktf.Testing.app(), "no spaces", target=DockerTarget(), root=project)


def test_the_backends_construct_name_is_reserved(stack: AgentStack):
    with pytest.raises(SpecError, match="agent name 'backend' is reserved: it is the construct id cdktf gives"):
        stack.add_agent(name="backend", layer=0, notebook="agents/kb_base.py")
