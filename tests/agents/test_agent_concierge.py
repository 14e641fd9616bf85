"""concierge (layer 3): prioritised, reasoned recommendations across workspaces."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

KB_CONDUIT = Path(__file__).resolve().parents[2] / "agents" / "kb_base" / "kb-conduit"


def workspace_context(**overrides):
    return {"status": "active", "priority": "normal", "owner": "alice", "stale_after_days": 7, **overrides}


def workspace_insights(sessions=3, last="2025-03-28T10:00:00.000Z", open_threads=(), problems=(0, 0), trusted=True):
    return {
        "sessions": sessions, "last_activity": last if sessions else None,
        "last": {"agent": "alice", "summary": "Last thing"} if sessions else None,
        "open_threads": list(open_threads), "problems": {"errors": problems[0], "warnings": problems[1]},
        "trusted": trusted, "handoff": "handoff text",
    }


def thread(kind, day, message, *topics):
    return {"timestamp": f"2025-03-{day:02d}T10:00:00.000Z", "kind": kind, "message": message,
            "topics": list(topics), "agent": "alice"}


def recommend(run_agent, contexts, insights, patterns=None):
    stamps = [w["last_activity"] for w in insights.values() if w["last_activity"]]
    return run_agent(
        "concierge",
        context={"workspaces": contexts},
        insights={"workspaces": insights, "last_activity": max(stamps) if stamps else None},
        patterns=patterns or {"tag_pairs": [], "phrases": []},
    )["recommendations"]


def ids(result):
    return [(r["priority"], r["id"]) for r in result["items"]]


def test_a_stale_workspace(run_agent) -> None:
    result = recommend(run_agent, {"api": workspace_context(), "docs": workspace_context(stale_after_days=3)},
                       {"api": workspace_insights(), "docs": workspace_insights(last="2025-03-20T10:00:00.000Z")})
    (stale,) = [r for r in result["items"] if r["kind"] == "stale"]
    assert stale == {
        "id": "stale:docs", "kind": "stale", "workspace": "docs", "priority": "medium", "score": 8,
        "action": "Resume or pause docs (owner: alice)",
        "reason": "No session in docs for 8 day(s) (stale after 3); last: Last thing",
        "evidence": {"days_idle": 8, "stale_after_days": 3, "last_activity": "2025-03-20T10:00:00.000Z"},
    }


def test_stale_is_high_for_a_high_priority_workspace_and_skipped_when_paused(run_agent) -> None:
    old = workspace_insights(last="2025-03-01T10:00:00.000Z")
    result = recommend(run_agent,
                       {"a": workspace_context(priority="high"), "b": workspace_context(status="paused"),
                        "now": workspace_context()},
                       {"a": old, "b": old, "now": workspace_insights()})
    assert [(r["priority"], r["id"]) for r in result["items"] if r["kind"] == "stale"] == [("high", "stale:a")]


def test_open_threads_piling_up(run_agent) -> None:
    threads = [thread("todo", 1, "first"), thread("question", 2, "second"), thread("next", 3, "third")]
    result = recommend(run_agent, {"api": workspace_context()}, {"api": workspace_insights(open_threads=threads)})
    (piling,) = [r for r in result["items"] if r["kind"] == "open-threads"]
    assert piling["priority"] == "medium"
    assert piling["action"] == "Triage the 3 open threads of api, oldest first: first"
    assert piling["reason"] == "Open threads are piling up in api (3, oldest from 2025-03-01)."


def test_a_few_open_threads_are_picked_up(run_agent) -> None:
    result = recommend(run_agent, {"api": workspace_context()},
                       {"api": workspace_insights(open_threads=[thread("todo", 5, "load-test")])})
    assert ("low", "pick-up:api") in ids(result)


def test_an_open_blocker(run_agent) -> None:
    result = recommend(run_agent, {"api": workspace_context()},
                       {"api": workspace_insights(open_threads=[thread("blocked", 24, "runner out of disk", "ci")])})
    (unblock,) = [r for r in result["items"] if r["kind"] == "unblock"]
    assert unblock["priority"] == "high"
    assert unblock["action"] == "Unblock api: runner out of disk"
    assert unblock["evidence"] == {"since": "2025-03-24T10:00:00.000Z", "days": 4, "topics": ["ci"]}


def test_a_recurring_blocker_tag(run_agent) -> None:
    patterns = {"tag_pairs": [{"tags": ["blocked", "ci"], "count": 4, "workspaces": ["api", "web"]},
                              {"tags": ["ci", "done"], "count": 4, "workspaces": ["api"]}],
                "phrases": [{"phrase": "ci runner", "count": 5, "workspaces": ["api"]}]}
    result = recommend(run_agent, {"api": workspace_context()}, {"api": workspace_insights()}, patterns)
    (blocker,) = [r for r in result["items"] if r["kind"] == "recurring-blocker"]
    assert blocker == {
        "id": "recurring-blocker:*", "kind": "recurring-blocker", "workspace": None, "priority": "high", "score": 4,
        "action": "Fix the recurring 'ci' blocker at its root, once for all workspaces",
        "reason": "'blocked' came with 'ci' 4 times across api, web; recurring phrases: ci runner (5).",
        "evidence": {"tag": "ci", "count": 4, "workspaces": ["api", "web"]},
    }


def test_validation_problems(run_agent) -> None:
    result = recommend(run_agent, {"api": workspace_context(), "web": workspace_context()},
                       {"api": workspace_insights(problems=(2, 1), trusted=False), "web": workspace_insights(problems=(0, 1))})
    assert ("high", "kb-problems:api") in ids(result)
    assert ("low", "kb-warnings:web") in ids(result)


def test_a_workspace_without_sessions(run_agent) -> None:
    result = recommend(run_agent, {"api": workspace_context(), "new": workspace_context()},
                       {"api": workspace_insights(), "new": workspace_insights(sessions=0)})
    assert ("low", "no-sessions:new") in ids(result)


def test_resume_the_latest_workspace_and_ordering(run_agent) -> None:
    result = recommend(
        run_agent,
        {"api": workspace_context(), "web": workspace_context(stale_after_days=1)},
        {"api": workspace_insights(open_threads=[thread("blocked", 20, "x")]),
         "web": workspace_insights(last="2025-03-25T10:00:00.000Z")},
    )
    assert ids(result) == [("high", "unblock:api"), ("medium", "stale:web"), ("low", "resume:api")]
    assert result["items"][-1]["reason"] == "handoff text"
    assert result["counts"] == {"high": 1, "medium": 1, "low": 1}
    assert result["as_of"] == "2025-03-28T10:00:00.000Z"


def test_sample_kb_recommendations(sample_stack) -> None:
    result = sample_stack["concierge"]["recommendations"]
    assert json.loads(json.dumps(result)) == result
    assert ids(result)[:6] == [
        ("high", "recurring-blocker:*"), ("high", "unblock:api-gateway"), ("high", "open-threads:billing-service"),
        ("high", "unblock:data-pipeline"), ("medium", "stale:spikes"), ("medium", "stale:docs-site"),
    ]


def test_a_new_session_entry_changes_the_recommendations(run_kb_stack, copied_sample_kb: Path) -> None:
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    before = run_kb_stack(copied_sample_kb)["concierge"]["recommendations"]
    subprocess.run([str(KB_CONDUIT), "log", "docs-site", "Documented the rate-limit headers", "--tag", "docs",
                    "--tag", "done", "--agent", "dave"], check=True, timeout=60, capture_output=True,
                   env={"PATH": "/usr/bin:/bin", "KB_CONDUIT_ROOT": str(copied_sample_kb),
                        "KB_CONDUIT_NOW": "2025-03-29T09:00:00Z"})
    after = run_kb_stack(copied_sample_kb)["concierge"]["recommendations"]
    assert after != before
    assert after["as_of"] == "2025-03-29T09:00:00.000Z"
    assert after["workspaces"]["docs-site"] == {**before["workspaces"]["docs-site"], "sessions": 6,
                                                "last_activity": "2025-03-29T09:00:00.000Z", "days_idle": 0,
                                                "open_threads": 0}
    assert "stale:docs-site" not in [r["id"] for r in after["items"]]
    assert ("low", "resume:docs-site") in ids(after)


def test_same_input_same_output(run_kb_stack, copied_sample_kb: Path) -> None:
    first = run_kb_stack(copied_sample_kb)["concierge"]["recommendations"]
    second = run_kb_stack(copied_sample_kb)["concierge"]["recommendations"]
    assert json.dumps(first) == json.dumps(second)
