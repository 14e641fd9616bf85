"""pattern_detector (layer 2): recurring actions, tags, phrases and sequences, with counts."""

from __future__ import annotations

import json


def entry(workspace, day, message, *tags):
    return {"workspace": workspace, "timestamp": f"2025-03-{day:02d}T10:00:00.000Z", "message": message,
            "tags": list(tags), "agent": "alice"}


def detect(run_agent, history):
    return run_agent("pattern_detector", history=history)["patterns"]


def test_actions_are_normalised_verbs(run_agent) -> None:
    patterns = detect(run_agent, [
        entry("api", 1, "Fixed the build"),
        entry("api", 2, "fixes: more of it"),
        entry("web", 3, "Fixing flaky tests"),
        entry("web", 4, "Done: chose Redis"),
        entry("web", 5, "Blocked: runner out of disk", "blocked"),
        entry("web", 6, "Should we shard?", "question"),
        entry("web", 7, "Lunch"),
    ])
    assert patterns["actions"] == [
        {"action": "fix", "count": 3, "workspaces": ["api", "web"]},
        {"action": "blocked", "count": 1, "workspaces": ["web"]},
        {"action": "choose", "count": 1, "workspaces": ["web"]},
        {"action": "note", "count": 1, "workspaces": ["web"]},
        {"action": "question", "count": 1, "workspaces": ["web"]},
    ]
    assert patterns["recurring"]["actions"] == ["fix"]


def test_tags_and_tags_seen_together(run_agent) -> None:
    patterns = detect(run_agent, [
        entry("api", 1, "a", "ci", "blocked"),
        entry("web", 2, "b", "blocked", "ci"),
        entry("web", 3, "c", "docs"),
    ])
    assert patterns["tags"] == [
        {"tag": "blocked", "count": 2, "workspaces": ["api", "web"]},
        {"tag": "ci", "count": 2, "workspaces": ["api", "web"]},
        {"tag": "docs", "count": 1, "workspaces": ["web"]},
    ]
    assert patterns["tag_pairs"] == [{"tags": ["blocked", "ci"], "count": 2, "workspaces": ["api", "web"]}]
    assert patterns["recurring"]["tags"] == ["blocked", "ci"]


def test_sequences_follow_consecutive_sessions_within_a_workspace(run_agent) -> None:
    patterns = detect(run_agent, [
        entry("api", 1, "Blocked: disk", "blocked"),
        entry("web", 2, "Blocked: disk", "blocked"),  # interleaved: must not pair with api's entries
        entry("api", 3, "Fix disk", "done"),
        entry("api", 4, "Blocked: disk again", "blocked"),
        entry("api", 5, "Fixed disk", "done"),
        entry("web", 6, "Fix disk", "done"),
    ])
    assert patterns["tag_sequences"] == [
        {"from": "blocked", "to": "done", "count": 3, "workspaces": ["api", "web"]},
    ]
    assert patterns["action_sequences"] == [
        {"from": "blocked", "to": "fix", "count": 3, "workspaces": ["api", "web"]},
    ]


def test_recurring_phrases(run_agent) -> None:
    patterns = detect(run_agent, [
        entry("api", 1, "Blocked: shared CI runner out of disk"),
        entry("web", 2, "The shared CI runner is full"),
        entry("web", 3, "Wrote docs"),
    ])
    assert patterns["phrases"] == [
        {"phrase": "ci runner", "count": 2, "workspaces": ["api", "web"]},
        {"phrase": "shared ci", "count": 2, "workspaces": ["api", "web"]},
    ]


def test_per_workspace_summary(run_agent) -> None:
    patterns = detect(run_agent, [entry("api", 1, "Add a", "x"), entry("api", 2, "Add b", "x", "y")])
    assert patterns["workspaces"] == {"api": {"entries": 2, "top_actions": ["add"], "top_tags": ["x", "y"]}}
    assert patterns["entries"] == 2


def test_odd_inputs_do_not_crash(run_agent) -> None:
    assert detect(run_agent, None)["entries"] == 0
    patterns = detect(run_agent, [{"workspace": "api", "tags": "not-a-list"}, 3])
    assert patterns["actions"] == [{"action": "note", "count": 1, "workspaces": ["api"]}]


def test_sample_kb_patterns(sample_stack) -> None:
    patterns = sample_stack["pattern_detector"]["patterns"]
    assert json.loads(json.dumps(patterns)) == patterns
    assert patterns["tag_pairs"][0] == {"tags": ["blocked", "ci"], "count": 7,
                                        "workspaces": ["api-gateway", "billing-service", "data-pipeline"]}
    assert patterns["phrases"][0]["phrase"] == "ci runner"
    assert {"from": "blocked", "to": "fix", "count": 3,
            "workspaces": ["api-gateway", "billing-service", "data-pipeline"]} in patterns["action_sequences"]
