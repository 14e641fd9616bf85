"""The KB workspace reaches only the containers of agents that declare ``workspace: read``."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from agentstrata.constructs.project import synth_file
from agentstrata.loader import load_stack
from agentstrata.targets import configured_target
from tests.targets.docker.plain_stack import write_plain_stack


def test_a_stack_that_declares_no_workspace_gets_no_mount_and_no_kb_variable(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "cdktf.json").write_text("{}")
    stack_file = write_plain_stack(tmp_path, "plain")
    # The default workspace_path (~/.kb-conduit) does not exist: nothing may mount it, nothing warns about it.
    monkeypatch.setenv("HOME", str(tmp_path / "no-home"))
    result = synth_file(stack_file, "docker", tmp_path / "cdktf.out")
    config = json.loads((tmp_path / "cdktf.out" / "stacks" / "plain-docker" / "cdk.tf.json").read_text())
    for block in config["resource"]["docker_container"].values():
        assert block["mounts"] == []
        assert not [line for line in block["env"] if line.startswith("KB_CONDUIT_ROOT=")]
    assert [w.format() for w in result.warnings] == []


def test_d007_a_file_input_under_the_workspace_path_needs_the_declaration(project: Path) -> None:
    stack_file = project / "stacks" / "kb-conduit.yaml"
    document = yaml.safe_load(stack_file.read_text())
    document["stack"]["agents"][1]["interface"]["inputs"].append(
        {"name": "kb_index", "type": "text", "source": "file:stacks/sample-kb/kb.yaml"})
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
    loaded = load_stack(stack_file)
    found = [d.format() for d in configured_target(loaded, "docker").checks(loaded)]
    assert [f.split(": ", 1)[1] for f in found] == [
        "stack.agents[1].interface.inputs[1].source: input 'kb_index' reads 'stacks/sample-kb/kb.yaml', under the "
        "workspace (stacks/sample-kb), which agent 'context_loader' does not declare: add 'workspace: read' to the "
        "agent [D007]"
    ]
