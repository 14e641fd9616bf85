"""The one YAML reader: bounded before composing, merge keys counted, special files refused, big integers located."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agentstrata.errors import SpecError
from agentstrata.yaml_source import MAX_DEPTH, RefusedYAML, compose, load_plain, parse, read_regular_file

ROOT = Path(__file__).resolve().parents[1]

DEEP = {
    "flow-sequences": "stack: " + "[" * 40_000 + "]" * 40_000,
    "flow-mappings": "{a: " * 30_000 + "1" + "}" * 30_000,
    "block-sequences": "- " * 40_000 + "x",
}


def refusal(text: str) -> tuple[int, int, str]:
    with pytest.raises(RefusedYAML) as raised:
        load_plain(text)
    mark = raised.value.problem_mark
    return mark.line + 1, mark.column + 1, raised.value.problem


@pytest.mark.parametrize("shape", list(DEEP))
def test_deep_nesting_is_refused_before_libyaml_composes_it(shape: str):
    # libyaml's composer recursed until the process crashed (SIGSEGV): run where a crash only fails this test.
    code = (
        "import sys; from agentstrata.yaml_source import load_plain, RefusedYAML\n"
        "try:\n    load_plain(sys.stdin.read())\n"
        "except RefusedYAML as exc:\n    print(exc.problem)\n"
    )
    child = subprocess.run([sys.executable, "-c", code], input=DEEP[shape], capture_output=True, text=True,
                           cwd=ROOT, timeout=120, check=False)
    assert (child.returncode, child.stdout, child.stderr) == (0, f"nested deeper than {MAX_DEPTH} levels\n", "")


def test_nesting_up_to_the_limit_is_read():
    deepest = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    value = load_plain(deepest)
    for _ in range(MAX_DEPTH - 1):
        value = value[0]
    assert value == []
    assert refusal("[" + deepest + "]") == (1, MAX_DEPTH + 1, f"nested deeper than {MAX_DEPTH} levels")


def test_nested_merge_keys_are_refused_by_depth():
    text = "stack:\n  x: " + "{<<: " * 600 + "{a: 1}" + "}" * 600 + "\n"
    # Level 65 is the 63rd '{' under stack.x (column 6, five columns apart).
    assert refusal(text) == (2, 6 + 5 * 62, f"nested deeper than {MAX_DEPTH} levels")


def test_merge_sources_count_toward_depth():
    lines = ["l0: &l0 {a0: 1}"] + [f"l{i}: &l{i} {{<<: *l{i - 1}, a{i}: 1}}" for i in range(1, 400)]
    # l62 (line 63) merges l61... l0: 64 levels, and it stands one level down.
    assert refusal("\n".join(lines)) == (
        63, 6, f"nested deeper than {MAX_DEPTH} levels (aliases and merge keys count)"
    )


def test_merge_keys_within_the_limit_merge():
    assert load_plain("a: &a {x: 1, y: 2}\nb: {<<: *a, y: 3}\n") == {"a": {"x": 1, "y": 2}, "b": {"x": 1, "y": 3}}


def test_a_huge_flat_document_is_refused_before_it_is_composed():
    text = "[" + "0, " * 4_000_000 + "0]"
    line, _, problem = refusal(text)
    assert (line, problem) == (1, "document is too large: more than 150000 YAML nodes")


def test_a_second_document_is_left_to_the_composer():
    with pytest.raises(yaml.YAMLError, match="expected a single document"):
        compose("a: 1\n---\nb: 2\n")


def test_duplicate_keys_are_refused_at_their_path():
    with pytest.raises(SpecError) as raised:
        parse("a:\n  b: 1\n  b: 2\n", "f.yaml")
    assert (raised.value.exit_code, raised.value.message) == (1, "f.yaml:3:3: a.b: duplicate key 'b'")


def test_an_integer_too_long_to_convert_is_an_invalid_value_at_its_path():
    with pytest.raises(SpecError) as raised:
        parse("a:\n  port: " + "9" * 5000 + "\n", "f.yaml")
    assert (raised.value.exit_code, raised.value.message) == (
        1, "f.yaml:2:9: a.port: integer too large: 5000 characters, at most 4300"
    )


def test_an_invalid_value_is_quoted_short():
    with pytest.raises(SpecError) as raised:
        parse('a: !!int "' + "x" * 100 + '"\n', "f.yaml")
    assert raised.value.message == (
        "f.yaml:1:4: invalid int value 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... (102 characters)"
    )


def test_timestamps_stay_as_written():
    assert load_plain("t: 2025-03-03T09:12:00Z\n") == {"t": "2025-03-03T09:12:00Z"}


@pytest.mark.timeout(30)
def test_a_fifo_is_refused_without_blocking(tmp_path: Path):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    with pytest.raises(SpecError) as raised:
        read_regular_file(fifo, "spec.yaml")
    assert raised.value.message == "spec.yaml:1:1: is a FIFO, not a regular file"


def test_a_device_is_refused():
    with pytest.raises(SpecError) as raised:
        read_regular_file(Path("/dev/zero"), "/dev/zero")
    assert raised.value.message == "/dev/zero:1:1: is a device, not a regular file"


def test_a_file_over_the_limit_is_refused(tmp_path: Path):
    (tmp_path / "big.yaml").write_bytes(b"#" * 2_000_000)
    with pytest.raises(SpecError) as raised:
        read_regular_file(tmp_path / "big.yaml", "big.yaml", limit=1024 * 1024)
    assert raised.value.message == "big.yaml:1:1: file is larger than 1 MiB"
