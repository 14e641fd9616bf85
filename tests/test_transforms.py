"""Transforms applied on data_flow edges: the built-ins, user functions by dotted path, and their errors."""

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentstrata.transforms import TransformError, apply_transform, check_transform, parse_yaml_log, resolve_transform

ROOT = Path(__file__).resolve().parents[1]
#: A module whose top level leaves a trace: checking it must leave none.
TRACING = 'import pathlib\npathlib.Path(__file__).with_suffix(".ran").touch()\n'

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


def test_parse_yaml_log_refuses_deep_nesting_without_crashing():
    # libyaml's composer recursed until the process crashed (SIGSEGV): run where a crash only fails this test.
    code = (
        "import sys; from agentstrata.transforms import TransformError, parse_yaml_log\n"
        "try:\n    parse_yaml_log({'api': sys.stdin.read()})\n"
        "except TransformError as exc:\n    print(exc)\n"
    )
    child = subprocess.run([sys.executable, "-c", code], input="[" * 50_000 + "]" * 50_000, capture_output=True,
                           text=True, cwd=ROOT, timeout=120, check=False)
    assert (child.returncode, child.stdout, child.stderr) == (
        0, "parse_yaml_log: api: line 1: invalid YAML: nested deeper than 64 levels\n", ""
    )


def test_parse_yaml_log_refuses_a_duplicate_key():
    with pytest.raises(TransformError, match=r"^parse_yaml_log: log: line 3: invalid YAML: duplicate key 'message'$"):
        parse_yaml_log('- timestamp: "2025-03-01T09:00:00Z"\n  message: a\n  message: b\n')


def test_check_finds_a_function_in_the_project_root_without_running_it(tmp_path: Path):
    (tmp_path / "mine.py").write_text(TRACING + "def shout(value):\n    return str(value).upper()\n")
    check_transform("mine:shout", tmp_path)
    check_transform("mine.shout", tmp_path)
    assert not (tmp_path / "mine.ran").exists()
    assert "mine" not in sys.modules


def test_check_never_runs_parent_packages(tmp_path: Path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text(TRACING)
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text(TRACING)
    (tmp_path / "pkg" / "sub" / "mod.py").write_text(TRACING + "def f(value):\n    return value\n")
    check_transform("pkg.sub.mod:f", tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*.ran")) == []


def test_check_reports_a_missing_function(tmp_path: Path):
    (tmp_path / "mine.py").write_text(TRACING + "def shout(value):\n    return value\n")
    with pytest.raises(TransformError, match="^transform 'mine:whisper': 'mine' has no function 'whisper'$"):
        check_transform("mine:whisper", tmp_path)
    assert not (tmp_path / "mine.ran").exists()


def test_check_reports_a_missing_module(tmp_path: Path):
    with pytest.raises(TransformError, match="^transform 'nowhere:f': no module 'nowhere' in the project root or "
                       "on sys.path$"):
        check_transform("nowhere:f", tmp_path)


def test_check_reports_a_module_that_is_not_a_package(tmp_path: Path):
    (tmp_path / "flat.py").write_text("x = 1\n")
    with pytest.raises(TransformError, match="^transform 'flat.inner:f': 'flat' is a module, not a package$"):
        check_transform("flat.inner:f", tmp_path)


def test_check_never_runs_the_standard_library(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(TransformError, match="^transform 'this:x': 'this' has no function 'x'$"):
        check_transform("this:x")
    assert capsys.readouterr() == ("", "")


def test_check_cannot_read_a_built_in_module():
    with pytest.raises(TransformError, match="^transform 'sys:exit': module 'sys' is built into Python: no source "
                       "to check without importing it \\(--import-transforms imports it\\)$"):
        check_transform("sys:exit")


def test_check_reports_a_module_that_does_not_parse(tmp_path: Path):
    (tmp_path / "broken.py").write_text("def f(:\n")
    with pytest.raises(TransformError, match="^transform 'broken:f': cannot parse .*broken.py: SyntaxError: "):
        check_transform("broken:f", tmp_path)


@pytest.mark.parametrize("source", [
    "if True:\n    def f(value):\n        return value\n",
    "try:\n    from json import loads as f\nexcept ImportError:\n    f = None\n",
    "f: object = print\n",
    "g, (f, h) = 1, (2, 3)\n",
    "class f:\n    pass\n",
    "from os.path import *\n",
])
def test_check_finds_names_bound_at_the_top_level(tmp_path: Path, source: str):
    (tmp_path / "shapes.py").write_text(source)
    check_transform("shapes:f", tmp_path)


def test_check_accepts_the_built_ins():
    for name in ("identity", "json", "parse_yaml_log"):
        check_transform(name)
