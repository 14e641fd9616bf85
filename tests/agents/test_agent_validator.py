"""validator (layer 1): checks contexts and raw session logs; every problem has its file:line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

GOOD_ENTRY = '- timestamp: "2025-03-03T09:00:00.000Z"\n  message: "ok"\n  tags: ["a"]\n  agent: "x"\n'


def validate(run_agent, workspace_context, session_log):
    return run_agent("validator", workspace_context=workspace_context, session_log=session_log)["validated_context"]


def located(result):
    return [(p["severity"], p["code"], p["location"]) for p in result["problems"]]


def test_a_clean_kb_is_valid(run_agent) -> None:
    result = validate(run_agent, {"api": {"owner": "alice"}}, {"api": GOOD_ENTRY})
    assert result == {
        "valid": True,
        "workspaces": {"api": {"owner": "alice"}},
        "rejected": [],
        "problems": [],
        "counts": {"workspaces": 1, "entries": 1, "errors": 0, "warnings": 0},
    }


def test_entry_problems_are_located(run_agent) -> None:
    log = (
        GOOD_ENTRY                                                         # lines 1-4
        + '- timestamp: "2025-03-02T09:00:00Z"\n  message: ""\n'         # 5-6: out of order, empty message
        + "- message: no time\n  tags: 3\n"                               # 7-8: no timestamp, bad tags
        + "- timestamp: tuesday\n  message: x\n"                         # 9-10: unparsable timestamp
        + '- timestamp: "2025-03-04T00:00:00Z"\n'                        # 11: no message
        + "- just text\n"                                                 # 12: not a mapping
    )
    result = validate(run_agent, {"api": {"k": "v"}}, {"api": log})
    file = "workspaces/api/sessions.yaml"
    assert located(result) == [
        ("warning", "out-of-order", f"{file}:5"),
        ("error", "empty-message", f"{file}:6"),
        ("error", "missing-timestamp", f"{file}:7"),
        ("warning", "bad-tags", f"{file}:8"),
        ("error", "bad-timestamp", f"{file}:9"),
        ("error", "missing-message", f"{file}:11"),
        ("error", "entry-not-mapping", f"{file}:12"),
    ]
    assert result["valid"] is False
    assert result["rejected"] == ["api"]
    assert result["workspaces"] == {}
    assert result["counts"] == {"workspaces": 1, "entries": 6, "errors": 5, "warnings": 2}


def test_problem_messages(run_agent) -> None:
    log = "- timestamp: tuesday\n  message: x\n"
    (problem,) = validate(run_agent, {"api": {"k": "v"}}, {"api": log})["problems"]
    assert problem == {
        "severity": "error",
        "code": "bad-timestamp",
        "workspace": "api",
        "file": "workspaces/api/sessions.yaml",
        "line": 1,
        "location": "workspaces/api/sessions.yaml:1",
        "message": "timestamp 'tuesday' is not an ISO 8601 date-time",
    }


def test_broken_yaml_is_located(run_agent) -> None:
    log = GOOD_ENTRY + '- timestamp: "2025-03-04T00:00:00Z"\n  message: [unclosed\n  agent: "x"\n'
    (problem,) = validate(run_agent, {"api": {"k": "v"}}, {"api": log})["problems"]
    assert problem["code"] == "broken-yaml"
    assert problem["location"] == "workspaces/api/sessions.yaml:7"
    # libyaml and pure-Python PyYAML word the problem differently; both name what was expected
    assert problem["message"].startswith("invalid YAML: while parsing a flow sequence at line 6, ")
    assert "expected ',' or ']'" in problem["message"]


def test_a_log_that_is_not_a_list(run_agent) -> None:
    result = validate(run_agent, {"api": {"k": "v"}}, {"api": "\n\ntimestamp: x\n"})
    assert located(result) == [("error", "log-not-list", "workspaces/api/sessions.yaml:3")]


def test_an_empty_log_is_fine(run_agent) -> None:
    result = validate(run_agent, {"api": {"k": "v"}}, {"api": "# Sessions of workspace api\n"})
    assert result["valid"] is True and result["counts"]["entries"] == 0


def test_sessions_of_an_unknown_workspace(run_agent) -> None:
    result = validate(run_agent, {"api": {"k": "v"}}, {"api": GOOD_ENTRY, "ghost": GOOD_ENTRY})
    assert located(result) == [("error", "unknown-workspace", "workspaces/ghost/context.yaml")]
    assert result["rejected"] == ["ghost"]
    assert list(result["workspaces"]) == ["api"]


def test_an_empty_context_is_a_warning(run_agent) -> None:
    result = validate(run_agent, {"api": {}}, {"api": GOOD_ENTRY})
    assert located(result) == [("warning", "empty-context", "workspaces/api/context.yaml")]
    assert result["valid"] is True
    assert result["workspaces"] == {"api": {}}


def test_inputs_of_the_wrong_shape(run_agent) -> None:
    result = validate(run_agent, ["x"], "text")
    assert [(p["code"], p["file"]) for p in result["problems"]] == [
        ("bad-input", "session_log"), ("bad-input", "workspace_context")]
    assert result["valid"] is False
    assert located(validate(run_agent, {"api": {"k": "v"}}, {"api": [1]})) == [
        ("error", "log-not-text", "workspaces/api/sessions.yaml")]


def test_the_sample_kb_is_valid_with_one_warning(sample_stack) -> None:
    result = sample_stack["validator"]["validated_context"]
    assert result["valid"] is True
    assert located(result) == [("warning", "empty-context", "workspaces/spikes/context.yaml")]
    assert result["counts"] == {"workspaces": 5, "entries": 45, "errors": 0, "warnings": 1}


def test_a_broken_kb_file_is_located_through_kb_base(run_agent, copied_sample_kb: Path) -> None:
    log = copied_sample_kb / "workspaces" / "docs-site" / "sessions.yaml"
    log.write_text(log.read_text().replace('  tags: ["docs", "question"]', '  tags: ["docs", "question"'))
    kb_defs = run_agent("kb_base", kb_root=str(copied_sample_kb))
    result = validate(run_agent, kb_defs["workspace_context"], kb_defs["session_log"])
    (broken,) = [p for p in result["problems"] if p["code"] == "broken-yaml"]
    assert broken["location"] == "workspaces/docs-site/sessions.yaml:9"  # the unclosed list of line 8 fails at line 9
    assert kb_defs["kb_problems"][0]["file"] == "workspaces/docs-site/sessions.yaml"
    assert kb_defs["kb_problems"][0]["line"] == 9
    assert result["rejected"] == ["docs-site"]


def test_a_deeply_nested_log_is_broken_yaml_not_a_crash() -> None:
    # libyaml's composer recursed until the process crashed (SIGSEGV): run where a crash only fails this test.
    code = (
        "import json, sys\nfrom tests.agents.conftest import load_app\n"
        "log = '[' * 50_000 + ']' * 50_000\n"
        "_, defs = load_app('validator').run(defs={'workspace_context': {'api': {'k': 'v'}}, "
        "'session_log': {'api': log}})\n"
        "print(json.dumps(defs['validated_context']['problems']))\n"
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                           check=False)
    assert child.returncode == 0, child.stderr[-2000:]
    assert json.loads(child.stdout.splitlines()[-1]) == [{
        "severity": "error", "code": "broken-yaml", "workspace": "api", "file": "workspaces/api/sessions.yaml",
        "line": 1, "location": "workspaces/api/sessions.yaml:1",
        "message": "invalid YAML: nested deeper than 64 levels",
    }]
