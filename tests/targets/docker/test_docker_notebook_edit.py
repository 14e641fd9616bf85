"""Editing one notebook, or one agent, changes only the containers that hold it."""

from __future__ import annotations

from pathlib import Path

from agentstrata.constructs import AgentStack


def synth_kb_conduit(project: Path, synth) -> dict:  # noqa: ANN001
    return synth(lambda app: AgentStack.from_file(app, project / "stacks" / "kb-conduit.yaml", target="docker"))


def test_editing_one_notebook_changes_only_that_agents_image(project: Path, synth):  # noqa: ANN001
    before = synth_kb_conduit(project, synth)
    notebook = project / "agents" / "debriefer.py"
    notebook.write_text(notebook.read_text().replace("'from'", "'edited'"))
    after = synth_kb_conduit(project, synth)

    changed = {
        (kind, name)
        for kind in before["resource"]
        for name in before["resource"][kind]
        if before["resource"][kind][name] != after["resource"][kind][name]
    }
    # The container refers to its image's id, which the rebuild changes: the plan replaces both (the e2e test).
    assert changed == {("docker_image", "debriefer_image")}
    assert after["resource"]["docker_container"]["debriefer"]["image"] == "${docker_image.debriefer_image.image_id}"
    assert {k: v for k, v in before.items() if k != "resource"} == {k: v for k, v in after.items() if k != "resource"}

    old, new = (Path(c["resource"]["docker_image"]["debriefer_image"]["build"]["context"]) for c in (before, after))
    assert (new / "notebook.py").read_text() == notebook.read_text() != (old / "notebook.py").read_text()
    assert (new / "stack.yaml").read_text() == (old / "stack.yaml").read_text()


def test_changing_one_agents_spec_changes_only_it_and_its_consumers(project: Path, synth):  # noqa: ANN001
    before = synth_kb_conduit(project, synth)
    path = project / "stacks" / "kb-conduit.yaml"
    path.write_text(path.read_text().replace("port: 2721", "port: 2731"))  # pattern_detector
    after = synth_kb_conduit(project, synth)
    changed = {name for name, block in before["resource"]["docker_container"].items()
               if block != after["resource"]["docker_container"][name]}
    assert changed == {"pattern_detector", "concierge"}
