"""The loader on the seed's own YAML, and on every kind of bad input, with the exact error printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentstrata.errors import SpecError
from agentstrata.loader import LoadedAgent, LoadedStack, load, load_stack

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "tests" / "fixtures" / "seed"
DEPLOYMENTS = ["deployment_local.yaml", "deployment_docker.yaml", "deployment_kubernetes.yaml"]


def error(path: str | Path) -> tuple[int, str]:
    with pytest.raises(SpecError) as raised:
        load(path)
    return raised.value.exit_code, raised.value.message


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_seed_agent_definition_loads():
    loaded = load(SEED / "agent_definition.yaml")
    assert isinstance(loaded, LoadedAgent)
    assert loaded.agent.name == "debriefing_agent"
    assert loaded.agent.dependencies[0].inputs == {"session_log": "history"}
    assert loaded.agent.interface.outputs[0].cell_variable == "insights"


def test_the_seed_stack_definition_verbatim_names_its_placeholder(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT)
    assert error("tests/fixtures/seed/stack_definition.yaml") == (
        1,
        "tests/fixtures/seed/stack_definition.yaml:5:7: stack.agents[0]: expected an agent mapping or "
        "{ref: path}, got a list",
    )


def composed_seed_stack() -> str:
    """The seed's stack block with the seed's agent definition in place of its placeholder."""
    agent_lines = (SEED / "agent_definition.yaml").read_text(encoding="utf-8").splitlines()[1:]
    body = [line[2:] for line in agent_lines]
    item = ["    - " + body[0]] + [("      " + line) if line.strip() else "" for line in body[1:]]
    stack = (SEED / "stack_definition.yaml").read_text(encoding="utf-8")
    placeholder = next(line for line in stack.splitlines() if "[agent definitions...]" in line)
    return stack.replace(placeholder, "\n".join(item))


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_the_composed_seed_stack_loads_with_each_seed_deployment(in_tmp: Path, deployment: str):
    (in_tmp / "stack.yaml").write_text(composed_seed_stack() + "\n" + (SEED / deployment).read_text())
    loaded = load_stack("stack.yaml")
    assert isinstance(loaded, LoadedStack)
    assert [a.name for a in loaded.stack.agent_specs] == ["debriefing_agent"]
    assert loaded.stack.data_flow[0].transform == "parse_yaml_log"
    assert loaded.spec.deployment.target == deployment.removeprefix("deployment_").removesuffix(".yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("agent:\n  name: a\n  name: b\n", (1, "bad.yaml:3:3: agent.name: duplicate key 'name'")),
        (
            "agent: !!python/object:os.system\n  x: 1\n",
            (2, "bad.yaml:1:8: tag 'tag:yaml.org,2002:python/object:os.system' is not allowed"),
        ),
        ("", (2, "bad.yaml:1:1: empty file: expected a mapping with 'stack:' or 'agent:'")),
        ("# only a comment\n", (2, "bad.yaml:1:1: empty file: expected a mapping with 'stack:' or 'agent:'")),
        ("- a\n- b\n", (2, "bad.yaml:1:1: expected a mapping with 'stack:' or 'agent:', got a list")),
        ("just text\n", (2, "bad.yaml:1:1: expected a mapping with 'stack:' or 'agent:', got a string")),
        ("stack: [\n", (2, "bad.yaml:2:1: invalid YAML: did not find expected node content")),
        ("name: x\n", (1, "bad.yaml:1:1: expected top-level 'stack:' (a stack file) or 'agent:' (an agent file)")),
        (
            "agent:\n  name: a\n  layer: 0\n  implementaton:\n    path: x.py\n",
            (1, "bad.yaml:2:3: agent.implementation: missing required field\n"
                "bad.yaml:4:3: agent.implementaton: unknown key 'implementaton'; did you mean 'implementation'?"),
        ),
        (
            "agent:\n  name: a\n  implementation:\n    path: x.py\n",
            (1, "bad.yaml:2:3: agent.layer: missing required field"),
        ),
        ("agent:\n  name: a\n  layer: 0b_\n", (2, "bad.yaml:3:10: invalid int value '0b_'")),
        ('agent:\n  layer: !!int "two"\n', (2, "bad.yaml:2:10: invalid int value 'two'")),
        ('agent:\n  edit: !!bool "maybe"\n', (2, "bad.yaml:2:9: invalid bool value 'maybe'")),
        ("agent:\n  layer: !!int\n", (2, "bad.yaml:2:10: invalid int value ''")),
    ],
    ids=["duplicate-key", "python-tag", "empty", "comment-only", "list", "scalar", "not-yaml", "no-top-key",
         "unknown-key", "missing-field", "bad-int", "bad-int-tag", "bad-bool-tag", "empty-int-tag"],
)
def test_bad_input_gets_a_located_error(in_tmp: Path, text: str, expected: tuple[int, str]):
    (in_tmp / "bad.yaml").write_text(text)
    assert error("bad.yaml") == expected


def test_a_billion_laughs_is_refused(in_tmp: Path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    (in_tmp / "bad.yaml").write_text("\n".join(lines) + "\n")
    # f is the first value to expand past the budget (9**6 'lol's): refused there, before anything is built.
    assert error("bad.yaml") == (2, "bad.yaml:6:4: document expands to more than 100000 values (alias bomb?)")


def test_non_utf8_is_refused_with_its_position(in_tmp: Path):
    (in_tmp / "bad.yaml").write_bytes('agent:\n  name: "café"\n'.encode("latin-1"))
    assert error("bad.yaml") == (2, "bad.yaml:2:13: not UTF-8: invalid byte 0xe9 at offset 19")


def test_a_binary_file_is_refused(in_tmp: Path):
    (in_tmp / "bad.yaml").write_bytes(b"agent:\x00\x01\x02")
    assert error("bad.yaml") == (2, "bad.yaml:1:1: binary file (contains NUL bytes), not YAML")


def test_a_missing_file_is_unusable(in_tmp: Path):
    assert error("absent.yaml") == (2, "absent.yaml:1:1: cannot read file: No such file or directory")


def test_a_directory_is_unusable(in_tmp: Path):
    (in_tmp / "folder.yaml").mkdir()
    assert error("folder.yaml") == (2, "folder.yaml:1:1: is a directory, not a YAML file")


def test_errors_in_a_referenced_agent_file_are_located_in_it(in_tmp: Path):
    (in_tmp / "agents").mkdir()
    (in_tmp / "agents" / "a.yaml").write_text("agent:\n  name: a\n  layer: zero\n  implementation:\n    path: a.py\n")
    (in_tmp / "stack.yaml").write_text('stack:\n  name: s\n  agents:\n    - ref: "agents/a.yaml"\n')
    assert error("stack.yaml") == (
        1, "agents/a.yaml:3:10: agent.layer: Input should be a valid integer, unable to parse string as an integer"
    )


def test_s011_a_missing_agent_file(in_tmp: Path):
    (in_tmp / "stack.yaml").write_text('stack:\n  name: s\n  agents:\n    - ref: "nope.yaml"\n')
    assert error("stack.yaml") == (
        1, "stack.yaml:4:12: stack.agents[0].ref: cannot load agent file 'nope.yaml': nope.yaml:1:1: cannot read "
        "file: No such file or directory [S011]"
    )


def test_s011_a_ref_to_a_file_that_is_not_an_agent_file(in_tmp: Path):
    (in_tmp / "list.yaml").write_text("- a\n")
    (in_tmp / "stack.yaml").write_text('stack:\n  name: s\n  agents:\n    - ref: "list.yaml"\n')
    assert error("stack.yaml") == (
        1, "stack.yaml:4:12: stack.agents[0].ref: 'list.yaml' is not an agent file (expected a top-level 'agent:' "
        "mapping) [S011]"
    )


def test_s011_a_ref_path_with_a_nul_byte(in_tmp: Path):
    (in_tmp / "stack.yaml").write_text('stack:\n  name: s\n  agents:\n    - ref: "a\\0b"\n')
    code, message = error("stack.yaml")
    assert code == 1
    assert message.startswith("stack.yaml:4:12: stack.agents[0].ref: cannot load agent file 'a\\x00b': ")
    assert message.endswith("cannot read file: embedded null byte [S011]")


def test_a_port_too_long_for_an_integer_is_an_invalid_stack(in_tmp: Path):
    (in_tmp / "port.yaml").write_text('stack:\n  name: s\n  agents:\n    - name: a\n      port: ' + "9" * 5000 + "\n")
    assert error("port.yaml") == (
        1, "port.yaml:5:13: stack.agents[0].port: integer too large: 5000 characters, at most 4300"
    )


def test_schema_errors_past_a_thousand_are_counted_on_one_line(in_tmp: Path):
    extra = "".join(f"  k{i:04d}: 1\n" for i in range(1005))
    (in_tmp / "bad.yaml").write_text("agent:\n  name: a\n  layer: 0\n  implementation: {path: x.py}\n" + extra)
    code, message = error("bad.yaml")
    lines = message.splitlines()
    assert (code, len(lines)) == (1, 1001)
    assert lines[999].startswith("bad.yaml:1004:3: agent.k0999: unknown key 'k0999' (allowed: name, ")
    assert lines[1000] == "bad.yaml:1005:3: agent.k1000: 5 more schema errors from here on, not shown"


def test_agent_files_share_the_stack_s_value_budget(in_tmp: Path):
    (in_tmp / "big.yaml").write_text("agent:\n  name: a\n  env:\n" + "".join(f"    K{i}: v\n" for i in range(40_000)))
    items = '    - ref: "big.yaml"\n' * 5
    (in_tmp / "stack.yaml").write_text(f"stack:\n  name: s\n  agents:\n{items}")
    assert error("stack.yaml") == (
        1, "stack.yaml:7:12: stack.agents[3].ref: not loaded: the stack and its agent files hold more than 100000 "
        "values [S011]"
    )
