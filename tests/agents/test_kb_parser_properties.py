"""Properties of the KB's readers: whatever a KB's files hold, kb_base reads it without raising and lists
each problem with its file; the validator checks it without raising; parse_yaml_log raises only TransformError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentstrata.transforms import TransformError, parse_yaml_log
from tests.agents.conftest import load_app

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

#: Lines kb-conduit writes, lines a hand edit or a torn write leaves, and YAML that nests, aliases and merges.
LINES = [
    '- timestamp: "2025-03-03T09:12:00.000Z"', "- timestamp: 2025-03-03T09:12:00Z", '  message: "Blocked: CI"',
    '  message: "unterminated', "  message: [", '  tags: ["ci", "blocked"]', "  tags: ci", '  agent: "alice"',
    "# Sessions of workspace api", '"owner": "alice"', "owner: [", "- &a {x: 1}", "- *a", "- {<<: *a, y: 2}",
    "- " + "[" * 70 + "]" * 70, "- " * 70 + "x", "- !!python/object:os.system x", "  ", "", "---", "- 9" + "9" * 5000,
]
kb_text = st.one_of(st.text(max_size=200), st.lists(st.sampled_from(LINES), max_size=12).map("\n".join))


@pytest.fixture(scope="module")
def readers() -> dict[str, Callable[..., Any]]:
    """kb_base's read_kb and the validator's validate, from one run of each notebook."""
    _, kb_base = load_app("kb_base").run(defs={"kb_root": "/nonexistent"})
    _, validator = load_app("validator").run(defs={"workspace_context": {}, "session_log": {}})
    return {"read_kb": kb_base["read_kb"], "validate": validator["validate"]}


@pytest.fixture(scope="module")
def kb_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kb")
    (root / "kb.yaml").write_text("version: 1\n")
    (root / "workspaces" / "api").mkdir(parents=True)
    return root


@SETTINGS
@given(context=kb_text, sessions=kb_text)
def test_any_kb_content_is_read_checked_and_parsed_without_raising(
    readers: dict[str, Callable[..., Any]], kb_root: Path, context: str, sessions: str
):
    (kb_root / "workspaces" / "api" / "context.yaml").write_text(context, encoding="utf-8")
    (kb_root / "workspaces" / "api" / "sessions.yaml").write_text(sessions, encoding="utf-8")
    contexts, logs, problems = readers["read_kb"](kb_root)
    assert all(set(p) == {"file", "line", "column", "message"} and p["file"].startswith("workspaces/api/")
               for p in problems)
    result = readers["validate"](contexts, logs)
    assert result["counts"]["errors"] == sum(p["severity"] == "error" for p in result["problems"])
    try:
        assert isinstance(parse_yaml_log(logs), list)
    except TransformError:
        pass
