"""Transforms applied on data_flow edges: the built-ins, user functions by dotted path, and their errors."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentstrata.transforms import TransformError, apply_transform, parse_yaml_log, resolve_transform

LOG = '- timestamp: "2025-03-02T10:00:00Z"\n  message: later\n- timestamp: "2025-03-01T09:00:00Z"\n  message: first\n'


def test_identity_returns_the_value_itself():
    value = {"a": [1]}
    assert apply_transform("identity", value) is value


def test_json_parses_text_and_round_trips_data():
    assert apply_transform("json", '{"a": [1, 2]}') == {"a": [1, 2]}
    assert apply_transform("json", {"a": (1, 2)}) == {"a": [1, 2]}


def test_json_rejects_what_json_cannot_hold():
    with pytest.raises(TransformError, match="^json: Object of type set is not JSON serializable$"):
        apply_transform("json", {"a": {1}})


def test_parse_yaml_log_sorts_entries_of_one_log_by_timestamp():
    assert [e["message"] for e in parse_yaml_log(LOG)] == ["first", "later"]


def test_parse_yaml_log_tags_entries_of_a_per_workspace_mapping():
    entries = parse_yaml_log({"api": LOG, "docs": '- timestamp: "2025-03-01T12:00:00Z"\n  message: docs\n'})
    assert [(e["workspace"], e["message"]) for e in entries] == [("api", "first"), ("docs", "docs"), ("api", "later")]


def test_parse_yaml_log_names_the_workspace_and_line_of_broken_yaml():
    with pytest.raises(
        TransformError, match=r"^parse_yaml_log: api: line 2: invalid YAML: mapping values are not allowed in this context$"
    ):
        parse_yaml_log({"api": "- message: a\n- message: b: c\n"})


def test_parse_yaml_log_rejects_entries_that_are_not_mappings():
    with pytest.raises(TransformError, match="^parse_yaml_log: log: entry 1 is not a mapping$"):
        parse_yaml_log("- message: a\n- just text\n")


def test_user_transform_by_module_colon_function():
    assert resolve_transform("json:dumps") is __import__("json").dumps


def test_user_transform_by_dotted_path():
    assert apply_transform("os.path.basename", "/a/b.txt") == "b.txt"


def test_unknown_transform_names_the_built_ins():
    with pytest.raises(TransformError, match="^unknown transform 'nope': not one of identity, json, parse_yaml_log"):
        resolve_transform("nope")


def test_user_transform_in_a_missing_module():
    with pytest.raises(TransformError, match="^transform 'no_such_mod.f': cannot import 'no_such_mod'"):
        resolve_transform("no_such_mod.f")


def test_failing_user_transform_is_reported_not_raised_raw():
    with pytest.raises(TransformError, match="^transform 'os.path.basename' failed: TypeError"):
        apply_transform("os.path.basename", 42)


@given(st.text(max_size=300))
def test_parse_yaml_log_only_ever_raises_transform_error(text):
    try:
        assert isinstance(parse_yaml_log(text), list)
    except TransformError:
        pass
