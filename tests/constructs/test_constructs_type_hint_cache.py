"""jsii's stubs' type hints, cached only while constructs are created, and the original put back after."""

from __future__ import annotations

import typing
from pathlib import Path

import cdktf
import pytest

from agentstrata.constructs import AgentStack, DockerTarget
from agentstrata.constructs.project import synth_file
from agentstrata.constructs.type_hint_cache import cached_binding_type_hints
from agentstrata.errors import SpecError


def _typecheckingstub__example(value: "int") -> None: ...


def ordinary(value: "int") -> None: ...


def test_inside_stub_hints_are_evaluated_once_and_other_hints_as_usual():
    with cached_binding_type_hints():
        assert typing.get_type_hints(_typecheckingstub__example) is typing.get_type_hints(_typecheckingstub__example)
        assert typing.get_type_hints(ordinary) == {"value": int, "return": type(None)}
        assert typing.get_type_hints(ordinary) is not typing.get_type_hints(ordinary)


def test_the_original_is_back_after_the_outermost_use_only():
    original = typing.get_type_hints
    with cached_binding_type_hints():
        with cached_binding_type_hints():
            pass
        assert typing.get_type_hints is not original
    assert typing.get_type_hints is original


def test_the_original_is_back_after_an_error():
    original = typing.get_type_hints
    with pytest.raises(RuntimeError, match="boom"), cached_binding_type_hints():
        raise RuntimeError("boom")
    assert typing.get_type_hints is original


def test_a_reference_kept_from_inside_caches_nothing_outside():
    with cached_binding_type_hints():
        kept = typing.get_type_hints
    assert kept(_typecheckingstub__example) is not kept(_typecheckingstub__example)


def test_the_bindings_still_check_argument_types():
    from cdktf_cdktf_provider_docker.network import Network

    stack = cdktf.TerraformStack(cdktf.Testing.app(), "s")
    with cached_binding_type_hints(), pytest.raises(TypeError, match="type of argument name must be str"):
        Network(stack, "n", name=42)  # type: ignore[arg-type]


def test_the_original_is_back_after_a_synth(project: Path):
    original = typing.get_type_hints
    synth_file(project / "stacks" / "kb-conduit.yaml", "docker", project / "cdktf.out")
    assert typing.get_type_hints is original


def test_the_original_is_back_after_a_failing_render(project: Path):
    original = typing.get_type_hints
    stack = AgentStack.from_file(cdktf.Testing.app(), project / "stacks" / "kb-conduit.yaml",
                                 target=DockerTarget(host_ports={"nobody": 9000}))
    with pytest.raises(SpecError, match="DockerTarget host_ports names unknown agent 'nobody'"):
        stack.render()
    assert typing.get_type_hints is original
