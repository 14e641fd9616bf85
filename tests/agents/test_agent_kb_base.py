"""kb_base (layer 0): reads a kb-conduit KB into workspace_context and raw session_log; reports broken files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SAMPLE_WORKSPACES = ["api-gateway", "billing-service", "data-pipeline", "docs-site", "spikes"]


def test_reads_contexts_and_raw_logs_of_the_sample_kb(run_agent, copied_sample_kb: Path) -> None:
    defs = run_agent("kb_base", kb_root=str(copied_sample_kb))
    assert sorted(defs["workspace_context"]) == SAMPLE_WORKSPACES
    assert defs["workspace_context"]["api-gateway"]["owner"] == "alice"
    assert defs["workspace_context"]["spikes"] == {}
    assert defs["session_log"] == {
        name: (copied_sample_kb / "workspaces" / name / "sessions.yaml").read_text() for name in SAMPLE_WORKSPACES
    }
    assert defs["kb_problems"] == []


def test_outputs_are_json_data_and_deterministic(run_agent, copied_sample_kb: Path) -> None:
    first = run_agent("kb_base", kb_root=str(copied_sample_kb))
    second = run_agent("kb_base", kb_root=str(copied_sample_kb))
    for name in ("workspace_context", "session_log"):
        assert json.dumps(first[name], sort_keys=False) == json.dumps(second[name], sort_keys=False)


def test_a_new_entry_changes_the_session_log(run_agent, kb, tmp_path: Path) -> None:
    kb("init")
    kb("workspace", "add", "api")
    before = run_agent("kb_base", kb_root=str(tmp_path / "kb"))["session_log"]
    kb("log", "api", "new work", now="2025-03-03T09:00:00Z")
    after = run_agent("kb_base", kb_root=str(tmp_path / "kb"))["session_log"]
    assert after["api"].startswith(before["api"])
    assert after["api"].endswith('  message: "new work"\n  tags: []\n  agent: "tester"\n')


def test_broken_context_yaml_is_reported_with_file_and_line(run_agent, copied_sample_kb: Path) -> None:
    context = copied_sample_kb / "workspaces" / "docs-site" / "context.yaml"
    context.write_text('"owner": "dave"\n"status": [active\n"priority": "low"\n')
    defs = run_agent("kb_base", kb_root=str(copied_sample_kb))
    assert defs["workspace_context"]["docs-site"] == {}
    (problem,) = defs["kb_problems"]
    assert (problem["file"], problem["line"], problem["column"]) == ("workspaces/docs-site/context.yaml", 3, 11)
    # libyaml and pure-Python PyYAML word the problem differently; both name what was expected
    assert problem["message"].startswith("invalid YAML: while parsing a flow sequence at line 2, ")
    assert "expected ',' or ']'" in problem["message"]


def test_broken_sessions_yaml_is_reported_with_file_and_line(run_agent, copied_sample_kb: Path) -> None:
    log = copied_sample_kb / "workspaces" / "spikes" / "sessions.yaml"
    log.write_text(log.read_text() + '- timestamp: "2025-03-15T10:00:00.000Z"\n  message: "unterminated\n')
    defs = run_agent("kb_base", kb_root=str(copied_sample_kb))
    assert defs["session_log"]["spikes"] == log.read_text()  # raw text still flows: the validator locates it
    (problem,) = defs["kb_problems"]
    assert problem["file"] == "workspaces/spikes/sessions.yaml"
    assert problem["line"] == 8
    assert problem["message"].startswith("invalid YAML: while scanning a quoted scalar at line 7")


def test_context_that_is_not_a_mapping_is_reported(run_agent, copied_sample_kb: Path) -> None:
    (copied_sample_kb / "workspaces" / "spikes" / "context.yaml").write_text("- a\n- b\n")
    defs = run_agent("kb_base", kb_root=str(copied_sample_kb))
    assert defs["kb_problems"] == [{"file": "workspaces/spikes/context.yaml", "line": 1, "column": 1,
                                    "message": "expected a mapping of KEY: VALUE"}]


def test_missing_context_file_leaves_the_workspace_out_of_contexts(run_agent, copied_sample_kb: Path) -> None:
    (copied_sample_kb / "workspaces" / "spikes" / "context.yaml").unlink()
    defs = run_agent("kb_base", kb_root=str(copied_sample_kb))
    assert "spikes" not in defs["workspace_context"]
    assert "spikes" in defs["session_log"]
    assert defs["kb_problems"] == [{"file": "workspaces/spikes/context.yaml", "line": None, "column": None,
                                    "message": "missing"}]


def test_missing_kb_yaml_is_reported(run_agent, copied_sample_kb: Path) -> None:
    (copied_sample_kb / "kb.yaml").unlink()
    defs = run_agent("kb_base", kb_root=str(copied_sample_kb))
    assert sorted(defs["workspace_context"]) == SAMPLE_WORKSPACES
    assert defs["kb_problems"] == [{"file": "kb.yaml", "line": None, "column": None,
                                    "message": "missing: not a kb-conduit KB (create one with: kb-conduit init)"}]


def test_missing_kb_directory_gives_empty_outputs(run_agent, tmp_path: Path) -> None:
    defs = run_agent("kb_base", kb_root=str(tmp_path / "nowhere"))
    assert (defs["workspace_context"], defs["session_log"]) == ({}, {})
    assert defs["kb_problems"] == [{"file": str(tmp_path / "nowhere"), "line": None, "column": None,
                                    "message": "KB directory does not exist"}]


def test_standalone_reads_kb_conduit_root(load_agent, kb, tmp_path: Path, monkeypatch) -> None:
    kb("init")
    kb("workspace", "add", "solo")
    monkeypatch.setenv("KB_CONDUIT_ROOT", str(tmp_path / "kb"))
    _, defs = load_agent("kb_base").run()
    assert defs["kb_root"] == str(tmp_path / "kb")
    assert defs["workspace_context"] == {"solo": {}}


def test_standalone_falls_back_to_the_sample_kb(load_agent) -> None:
    _, defs = load_agent("kb_base").run()
    assert Path(defs["kb_root"]) == Path(__file__).resolve().parents[2] / "stacks" / "sample-kb"
    assert sorted(defs["workspace_context"]) == SAMPLE_WORKSPACES


def test_a_deeply_nested_sessions_file_is_a_problem_not_a_crash(copied_sample_kb: Path) -> None:
    (copied_sample_kb / "workspaces" / "spikes" / "sessions.yaml").write_text("[" * 50_000 + "]" * 50_000 + "\n")
    # libyaml's composer recursed until the process crashed (SIGSEGV): run where a crash only fails this test.
    code = (
        "import json, sys\nfrom tests.agents.conftest import load_app\n"
        "_, defs = load_app('kb_base').run(defs={'kb_root': sys.argv[1]})\n"
        "print(json.dumps(defs['kb_problems']))\n"
    )
    child = subprocess.run([sys.executable, "-c", code, str(copied_sample_kb)], capture_output=True, text=True,
                           cwd=ROOT, timeout=300, check=False)
    assert child.returncode == 0, child.stderr[-2000:]
    assert json.loads(child.stdout.splitlines()[-1]) == [{
        "file": "workspaces/spikes/sessions.yaml", "line": 1, "column": 65,
        "message": "invalid YAML: nested deeper than 64 levels",
    }]


@pytest.mark.timeout(120)
def test_an_alias_bomb_in_a_context_is_a_problem_not_a_hang(run_agent, copied_sample_kb: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    (copied_sample_kb / "workspaces" / "spikes" / "context.yaml").write_text("\n".join(lines) + "\n")
    defs = run_agent("kb_base", kb_root=str(copied_sample_kb))
    assert defs["workspace_context"]["spikes"] == {}
    assert defs["kb_problems"] == [{
        "file": "workspaces/spikes/context.yaml", "line": 6, "column": 4,
        "message": "invalid YAML: document expands to more than 100000 values (alias bomb?)",
    }]


def test_a_duplicate_key_in_a_session_entry_is_reported(run_agent, copied_sample_kb: Path) -> None:
    log = copied_sample_kb / "workspaces" / "spikes" / "sessions.yaml"
    log.write_text(log.read_text() + '- timestamp: "2025-03-15T10:00:00.000Z"\n  message: "a"\n  message: "b"\n')
    defs = run_agent("kb_base", kb_root=str(copied_sample_kb))
    assert defs["kb_problems"] == [{"file": "workspaces/spikes/sessions.yaml", "line": 8, "column": 3,
                                    "message": "invalid YAML: duplicate key 'message'"}]
