"""Properties: whatever text or structure it is given, the loader fails only with SpecError.

And whatever the loader accepts, the validator checks without raising.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentstrata.errors import SpecError
from agentstrata.loader import load
from agentstrata.validate import validate

#: Keys and values of the schema, so that generated documents get past the first checks.
VOCABULARY = [
    "stack", "agent", "name", "agents", "layer", "implementation", "path", "ref", "dependencies", "agent_name",
    "inputs", "interface", "outputs", "type", "source", "exposed_as", "data_flow", "from", "to", "data",
    "transform", "policies", "auto_restart", "deployment", "target", "local", "docker", "kubernetes", "port",
    "resources", "memory", "cpu", "env", "edit", "namespace", "workspace_path", "agent:a.out", "file:x",
    "env:HOME", "reactive_cell:out", "identity", "parse_yaml_log", "a", "b", "out", "nb.py", "1Gi",
]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.sampled_from(VOCABULARY), st.text(max_size=12), st.integers(-5, 70000), st.booleans(), st.none(),
    st.floats(allow_nan=False),
)
keys = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=8), st.integers(-3, 3), st.booleans())
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=6)),
    max_leaves=40,
)
top_level = st.fixed_dictionaries({}, optional={"stack": documents, "agent": documents, "deployment": documents})


def check(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    try:
        loaded = load(path)
    except SpecError:
        return
    assert isinstance(validate(loaded), list)


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("props") / "spec.yaml"


@SETTINGS
@given(text=st.text(max_size=300))
def test_arbitrary_text_only_raises_spec_error(spec_file: Path, text: str):
    check(spec_file, text)


@SETTINGS
@given(text=st.lists(st.sampled_from(
    ["stack:", "agent:", "  name: a", "  - ", "- ref: x", "&a", "*a", "<<: *a", "!!int", "!!bool x", "? ",
     ": ", "{", "}", "[", "]", '"', "'", "#", "\t", "  ", "0b_", "~", "---", "...", "%YAML 1.2", "!!binary"]),
    max_size=30).map("".join))
def test_yaml_shaped_text_only_raises_spec_error(spec_file: Path, text: str):
    check(spec_file, text)


@SETTINGS
@given(document=documents)
def test_arbitrary_structures_only_raise_spec_error(spec_file: Path, document: object):
    check(spec_file, yaml.safe_dump(document, allow_unicode=True))


@SETTINGS
@given(document=top_level)
def test_spec_shaped_structures_only_raise_spec_error(spec_file: Path, document: object):
    check(spec_file, yaml.safe_dump(document, allow_unicode=True))


@SETTINGS
@given(opening=st.lists(st.sampled_from(["[", "{a: ", "{<<: ", "[&x ", "{<<: *m, b: ", "[*m, "]), max_size=150))
def test_nesting_aliases_and_merges_only_raise_spec_error(spec_file: Path, opening: list[str]):
    closing = "".join("}" if o.startswith("{") else "]" for o in reversed(opening))
    check(spec_file, "stack:\n  m: &m {k: 1}\n  x: " + "".join(opening) + "1" + closing + "\n")


@SETTINGS
@given(digits=st.integers(1, 6000), field=st.sampled_from(["port", "layer", "name"]))
def test_numbers_of_any_length_only_raise_spec_error(spec_file: Path, digits: int, field: str):
    fields = {"name": "a", "layer": "0", "implementation": "{path: x.py}", field: "7" * digits}
    check(spec_file, "agent:\n" + "".join(f"  {key}: {value}\n" for key, value in fields.items()))
