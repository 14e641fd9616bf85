"""context_loader (layer 1): normalised, typed workspace contexts with defaults and a summary each."""

from __future__ import annotations

import json


def load(run_agent, workspace_context):
    return run_agent("context_loader", workspace_context=workspace_context)["context"]


def test_keys_are_normalised(run_agent) -> None:
    ws = load(run_agent, {"api": {"On-Call": "alice", "Release Train": "weekly"}})["workspaces"]["api"]
    assert ws["settings"]["on_call"] == ["alice"]
    assert ws["settings"]["release_train"] == "weekly"
    assert ws["notes"] == ["key 'On-Call' normalised to 'on_call'", "key 'Release Train' normalised to 'release_train'"]


def test_values_are_typed(run_agent) -> None:
    settings = load(run_agent, {"api": {
        "pci_scope": "yes", "public": "False", "replicas": "3", "python": "3.10", "zip": "01234",
        "stack": "go, envoy , redis", "empty": "", "note": "plain text",
    }})["workspaces"]["api"]["settings"]
    assert settings["pci_scope"] is True
    assert settings["public"] is False
    assert settings["replicas"] == 3
    assert settings["python"] == "3.10"  # decimals stay text: versions are not numbers
    assert settings["zip"] == "01234"
    assert settings["stack"] == ["go", "envoy", "redis"]
    assert settings["empty"] is None
    assert settings["note"] == "plain text"


def test_defaults_fill_missing_settings(run_agent) -> None:
    ws = load(run_agent, {"bare": {}})["workspaces"]["bare"]
    assert (ws["status"], ws["priority"], ws["owner"], ws["stale_after_days"], ws["description"]) == (
        "active", "normal", None, 7, "")
    assert ws["defaults_applied"] == ["description", "owner", "priority", "stale_after_days", "status"]


def test_invalid_settings_fall_back_with_a_note(run_agent) -> None:
    ws = load(run_agent, {"api": {"status": "Sleeping", "priority": "urgent", "stale_after_days": "-2"}})["workspaces"]["api"]
    assert (ws["status"], ws["priority"], ws["stale_after_days"]) == ("active", "normal", 7)
    assert ws["notes"] == [
        "status 'Sleeping' is not one of active, paused, archived: using 'active'",
        "priority 'urgent' is not one of low, normal, high: using 'normal'",
        "stale_after_days -2 is not a positive whole number: using 7",
    ]


def test_status_and_priority_are_case_insensitive(run_agent) -> None:
    ws = load(run_agent, {"api": {"Status": "PAUSED", "priority": "High"}})["workspaces"]["api"]
    assert (ws["status"], ws["priority"]) == ("paused", "high")


def test_keys_that_collide_after_normalising_keep_one_with_a_note(run_agent) -> None:
    ws = load(run_agent, {"api": {"Owner": "alice", "owner": "bob"}})["workspaces"]["api"]
    assert ws["owner"] == "bob"
    assert "keys 'Owner' and 'owner' both normalise to 'owner': kept 'owner'" in ws["notes"]


def test_summary_per_workspace(run_agent) -> None:
    ws = load(run_agent, {"api": {"owner": "alice", "priority": "high", "stale_after_days": "5",
                                  "description": "Public gateway"}})["workspaces"]["api"]
    assert ws["summary"] == "api: active, priority high, owner alice, stale after 5 day(s); 4 key(s) set - Public gateway"


def test_workspaces_are_grouped_by_status(run_agent) -> None:
    context = load(run_agent, {"b": {"status": "paused"}, "a": {}, "c": {}})
    assert list(context["workspaces"]) == ["a", "b", "c"]
    assert context["by_status"] == {"active": ["a", "c"], "paused": ["b"]}
    assert context["workspace_count"] == 3


def test_a_context_that_is_not_a_mapping_is_noted(run_agent) -> None:
    ws = load(run_agent, {"api": ["not", "a", "mapping"]})["workspaces"]["api"]
    assert ws["notes"][0] == "context is a list, not a mapping: ignored"
    assert load(run_agent, "nonsense")["notes"] == ["workspace_context is a str, expected a mapping"]


def test_output_is_json_data(run_agent, copied_sample_kb) -> None:
    contexts = run_agent("kb_base", kb_root=str(copied_sample_kb))["workspace_context"]
    context = load(run_agent, contexts)
    assert json.loads(json.dumps(context)) == context
    assert context["workspaces"]["billing-service"]["settings"]["pci_scope"] is True
