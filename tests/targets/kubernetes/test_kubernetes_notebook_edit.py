"""Editing one notebook changes that agent's ConfigMap and its Deployment's config-hash annotation, nothing else."""

from __future__ import annotations

import copy
from pathlib import Path


def changed(before: dict, after: dict) -> set[tuple[str, str]]:
    return {(kind, name) for kind in before["resource"] for name in before["resource"][kind]
            if before["resource"][kind][name] != after["resource"][kind][name]}


def annotation(deployment: dict) -> str:
    return deployment["spec"]["template"]["metadata"]["annotations"]["strata.config-hash"]


def test_editing_one_notebook_changes_its_config_map_and_its_deployments_annotation_only(project: Path,
                                                                                        kb_conduit):  # noqa: ANN001
    before = kb_conduit()
    notebook = project / "agents" / "debriefer.py"
    notebook.write_text(notebook.read_text().replace("'from'", "'edited'"))
    after = kb_conduit()

    assert changed(before, after) == {("kubernetes_config_map", "debriefer"), ("kubernetes_deployment", "debriefer")}
    assert {k: v for k, v in before.items() if k != "resource"} == {k: v for k, v in after.items() if k != "resource"}
    old, new = (c["resource"]["kubernetes_deployment"]["debriefer"] for c in (before, after))
    assert annotation(old) != annotation(new)
    unannotated = copy.deepcopy(new)
    unannotated["spec"]["template"]["metadata"]["annotations"]["strata.config-hash"] = annotation(old)
    assert unannotated == old
    assert after["resource"]["kubernetes_config_map"]["debriefer"]["data"]["notebook.py"] == notebook.read_text()


def test_changing_one_agents_port_changes_it_and_only_the_agents_that_reach_it(project: Path, kb_conduit):  # noqa: ANN001
    before = kb_conduit()
    path = project / "stacks" / "kb-conduit.yaml"
    path.write_text(path.read_text().replace("port: 2721", "port: 2731"))  # pattern_detector
    after = kb_conduit()
    assert {name for _, name in changed(before, after)} == {"pattern_detector", "concierge"}
    assert after["output"]["pattern_detector_url"]["value"].endswith(":2731")
