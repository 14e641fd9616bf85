"""debriefer (layer 2): per-session insights, open threads and a handoff per workspace."""

from __future__ import annotations

import json

VALID = {"valid": True, "workspaces": {"api": {"owner": "alice"}, "web": {}}, "rejected": [], "problems": [],
         "counts": {}}


def entry(workspace, day, message, *tags, agent="alice"):
    return {"workspace": workspace, "timestamp": f"2025-03-{day:02d}T10:00:00.000Z", "message": message,
            "tags": list(tags), "agent": agent}


def debrief(run_agent, history, validated_context=VALID):
    return run_agent("debriefer", history=history, validated_context=validated_context)["insights"]


def open_messages(insights, workspace):
    return [(t["kind"], t["message"]) for t in insights["workspaces"][workspace]["open_threads"]]


def test_tags_and_markers_open_threads(run_agent) -> None:
    insights = debrief(run_agent, [
        entry("api", 1, "Runner out of disk", "ci", "blocked"),
        entry("api", 2, "Should we shard Redis?", "question"),
        entry("api", 3, "Load-test the bucket", "todo"),
        entry("api", 4, "Wrote the parser, TODO error messages"),
        entry("api", 5, "Merged the PR; next: deploy to staging"),
        entry("api", 6, "Plain progress"),
    ])
    assert open_messages(insights, "api") == [
        ("blocked", "Runner out of disk"),
        ("question", "Should we shard Redis?"),
        ("todo", "Load-test the bucket"),
        ("todo", "Wrote the parser, TODO error messages"),
        ("next", "deploy to staging"),
    ]
    assert insights["open_thread_count"] == 5


def test_a_later_done_entry_with_a_shared_topic_closes_a_thread(run_agent) -> None:
    insights = debrief(run_agent, [
        entry("api", 1, "Blocked: CI runner out of disk", "ci", "blocked"),
        entry("api", 2, "TODO: alert on rate limiting", "observability", "todo"),
        entry("api", 3, "Pruned images, CI green", "ci", "done", agent="claude"),
    ])
    assert open_messages(insights, "api") == [("todo", "alert on rate limiting")]
    ws = insights["workspaces"]["api"]
    assert ws["closed_threads"] == 1
    assert ws["done"] == [{"timestamp": "2025-03-03T10:00:00.000Z", "agent": "claude", "summary": "Pruned images, CI green"}]
    assert insights["sessions"][2]["closes"] == ["2025-03-01T10:00:00.000Z"]
    assert insights["sessions"][2]["outcome"] == "closed"


def test_a_thread_without_topics_closes_on_two_shared_words(run_agent) -> None:
    insights = debrief(run_agent, [
        entry("api", 1, "Next: migrate invoices table"),
        entry("api", 2, "Done: unrelated cleanup"),
        entry("api", 3, "Fixed the invoices table migration"),
    ])
    assert [s["closes"] for s in insights["sessions"]] == [[], [], ["2025-03-01T10:00:00.000Z"]]
    assert open_messages(insights, "api") == []


def test_done_in_another_workspace_or_earlier_does_not_close(run_agent) -> None:
    insights = debrief(run_agent, [
        entry("api", 1, "CI fixed", "ci", "done"),
        entry("api", 2, "CI broken again", "ci", "blocked"),
        entry("web", 3, "CI fixed for web", "ci", "done"),
    ])
    assert open_messages(insights, "api") == [("blocked", "CI broken again")]


def test_per_session_insights(run_agent) -> None:
    insights = debrief(run_agent, [
        entry("api", 2, "Fixed flaky tests", "ci", "done", agent="claude"),
        entry("api", 1, "Blocked: flaky tests", "ci", "blocked"),
    ])
    assert insights["sessions"] == [
        {"workspace": "api", "timestamp": "2025-03-01T10:00:00.000Z", "agent": "alice", "action": "blocked",
         "outcome": "opened", "opens": "blocked", "closes": [], "summary": "Blocked: flaky tests"},
        {"workspace": "api", "timestamp": "2025-03-02T10:00:00.000Z", "agent": "claude", "action": "fix",
         "outcome": "closed", "opens": None, "closes": ["2025-03-01T10:00:00.000Z"], "summary": "Fixed flaky tests"},
    ]


def test_handoff_summary(run_agent) -> None:
    insights = debrief(run_agent, [
        entry("api", 1, "Add token buckets", "rate-limit"),
        entry("api", 4, "TODO: load-test the bucket", "rate-limit", "todo", agent="claude"),
    ])
    assert insights["workspaces"]["api"]["handoff"] == (
        "api: 2 session(s) from 2025-03-01 to 2025-03-04 by alice, claude. "
        "Last: TODO: load-test the bucket (claude). Open (1): [todo] load-test the bucket."
    )
    assert insights["workspaces"]["web"]["handoff"] == "web: no sessions yet."


def test_validation_problems_are_counted_per_workspace(run_agent) -> None:
    validated = {"valid": False, "workspaces": {"web": {}}, "rejected": ["api"], "problems": [
        {"severity": "error", "workspace": "api", "code": "bad-timestamp"},
        {"severity": "warning", "workspace": "web", "code": "empty-context"},
    ]}
    insights = debrief(run_agent, [entry("api", 1, "Work")], validated)
    assert insights["valid"] is False and insights["problems"] == 2
    assert insights["workspaces"]["api"]["problems"] == {"errors": 1, "warnings": 0}
    assert insights["workspaces"]["api"]["trusted"] is False
    assert insights["workspaces"]["web"]["trusted"] is True
    assert insights["workspaces"]["api"]["handoff"].endswith("KB problems: 1 error(s), 0 warning(s).")


def test_odd_inputs_do_not_crash(run_agent) -> None:
    insights = debrief(run_agent, "not a list", None)
    assert insights["session_count"] == 0 and insights["workspaces"] == {} and insights["valid"] is False
    insights = debrief(run_agent, [{"workspace": "api"}, "junk"], VALID)
    assert insights["workspaces"]["api"]["sessions"] == 1


def test_sample_kb_insights(sample_stack) -> None:
    insights = sample_stack["debriefer"]["insights"]
    assert json.loads(json.dumps(insights)) == insights
    assert insights["session_count"] == 45
    assert insights["last_activity"] == "2025-03-28T11:00:00.000Z"
    assert {name: len(ws["open_threads"]) for name, ws in insights["workspaces"].items()} == {
        "api-gateway": 2, "billing-service": 3, "data-pipeline": 2, "docs-site": 1, "spikes": 0}
    assert open_messages(insights, "billing-service") == [
        ("todo", "idempotency keys for webhook retries"),
        ("question", "Question for finance: should refunds reuse the original invoice number?"),
        ("next", "deploy it behind a feature flag"),
    ]
