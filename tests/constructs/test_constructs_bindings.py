"""Loading the bindings: in the background, with their type checks' hints evaluated once."""

from __future__ import annotations

import typing

import pytest

from agentstrata.constructs.bindings import Preload


def test_preload_imports_in_the_background_and_reraises_on_wait():
    preload = Preload(["json", "no_such_module_strata"])
    with pytest.raises(ModuleNotFoundError, match="no_such_module_strata"):
        preload.wait()


def test_stub_hints_are_evaluated_once_and_other_hints_as_usual():
    def _typecheckingstub__example(value: "int") -> None: ...

    def ordinary(value: "int") -> None: ...

    assert typing.get_type_hints(_typecheckingstub__example) is typing.get_type_hints(_typecheckingstub__example)
    assert typing.get_type_hints(ordinary) == {"value": int, "return": type(None)}
    assert typing.get_type_hints(ordinary) is not typing.get_type_hints(ordinary)


def test_the_bindings_still_check_argument_types():
    from cdktf import Testing
    from cdktf_cdktf_provider_docker.network import Network

    stack = __import__("cdktf").TerraformStack(Testing.app(), "s")
    with pytest.raises(TypeError, match="type of argument name must be str"):
        Network(stack, "n", name=42)  # type: ignore[arg-type]
