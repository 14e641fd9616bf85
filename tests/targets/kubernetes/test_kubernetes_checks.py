"""Bad props and stacks the Kubernetes target cannot run: each a located error, before anything reaches a cluster."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from agentstrata.constructs import AgentStack
from agentstrata.errors import SpecError, StrataError
from agentstrata.loader import load_stack
from agentstrata.targets import configured_target
from agentstrata.targets.kubernetes import KubernetesTarget
from agentstrata.validate import validate
from tests.targets.kubernetes.conftest import IMAGE, edit_stack, stack_file


def line_of(path: Path, text: str, after: str = "") -> int:
    """The 1-based line of the first ``text`` in ``path`` (after the first ``after``)."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and text in line) + 1


def synth_errors(project: Path, synth, **props: object) -> list[str]:  # noqa: ANN001
    def build(app):  # noqa: ANN001, ANN202
        target = configured_target(load_stack(stack_file(project)), "kubernetes", **{"image": IMAGE, **props})
        return AgentStack.from_file(app, stack_file(project), target=target)

    with pytest.raises(SpecError) as caught:
        synth(build)
    return [d.format().replace(str(project) + "/", "") for d in caught.value.diagnostics]


def kubernetes_findings(project: Path) -> list[str]:
    """What `strata validate` finds that is the kubernetes target's: K-codes and its settings."""
    return [d.format().replace(str(project) + "/", "") for d in validate(load_stack(stack_file(project)))
            if d.code.startswith("K") or d.loc.startswith("deployment.kubernetes")]


def test_the_seed_kubernetes_block_is_valid_as_it_is(project: Path):
    assert kubernetes_findings(project) == []


def test_a_namespace_that_is_not_a_dns_label_is_an_error_at_its_line(project: Path):
    edit_stack(project, lambda d: d["deployment"]["kubernetes"].update(namespace="KB_Conduit"))
    with pytest.raises(SpecError) as caught:
        load_stack(stack_file(project))
    line = line_of(stack_file(project), "namespace: KB_Conduit")
    assert [d.format().replace(str(project) + "/", "") for d in caught.value.diagnostics] == [
        f"stacks/kb-conduit.yaml:{line}:16: deployment.kubernetes.namespace: 'KB_Conduit' does not match "
        "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"]


def test_a_namespace_prop_that_is_not_a_dns_label_is_an_error_at_the_call():
    with pytest.raises(SpecError) as caught:
        KubernetesTarget(namespace="KB_Conduit", image=IMAGE)
    line = inspect.currentframe().f_lineno - 1  # type: ignore[union-attr]
    (diagnostic,) = caught.value.diagnostics
    assert (Path(diagnostic.file).name, diagnostic.line, diagnostic.loc, diagnostic.message) == (
        "test_kubernetes_checks.py", line, "namespace",
        "KubernetesTarget: 'KB_Conduit' is not a DNS label (lower-case letters, digits and '-', starting and ending "
        "with a letter or digit)")


def test_memory_in_an_unknown_unit_is_an_error_at_its_line(project: Path):
    edit_stack(project, lambda d: d["stack"]["agents"][2].update(resources={"memory": "1.5Gb"}))
    with pytest.raises(SpecError) as caught:
        load_stack(stack_file(project))
    line = line_of(stack_file(project), "memory: 1.5Gb")
    assert [d.format().replace(str(project) + "/", "") for d in caught.value.diagnostics] == [
        f"stacks/kb-conduit.yaml:{line}:15: stack.agents[2].resources.memory: '1.5Gb' does not match "
        "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$"]


def test_cpu_finer_than_a_millicore_is_an_error_at_its_line(project: Path):
    edit_stack(project, lambda d: d["stack"]["agents"][1].update(resources={"cpu": "0.0005"}))
    line = line_of(stack_file(project), "cpu: '0.0005'")
    assert [f for f in kubernetes_findings(project) if "[K" in f] == [
        f"stacks/kb-conduit.yaml:{line}:12: stack.agents[1].resources.cpu: cpu 0.0005 is not a whole number of "
        "millicores above zero (Kubernetes counts 1m = 0.001 cores) [K004]"]


def test_a_ui_ingress_on_an_agent_without_a_port_of_its_own_is_an_error_at_the_agent_it_names(project: Path):
    def change(document: dict) -> None:  # noqa: ANN001
        del document["stack"]["agents"][3]["port"]  # debriefer
        document["deployment"]["kubernetes"]["ui_ingress_from"] = {"pod_labels": {"app": "browser"},
                                                                   "agents": ["concierge", "debriefer"]}

    edit_stack(project, change)
    line = line_of(stack_file(project), "- debriefer", after="ui_ingress_from")
    assert kubernetes_findings(project) == [
        f"stacks/kb-conduit.yaml:{line}:9: deployment.kubernetes.ui_ingress_from.agents[1]: the UI ingress reaches "
        "agent 'debriefer', which has no port of its own (it gets 2720 from its place in the file, and moves when "
        "agents are added); give it a 'port' [K006]"]


def test_a_ui_ingress_naming_an_unknown_agent_suggests_the_close_one(project: Path):
    edit_stack(project, lambda d: d["deployment"]["kubernetes"].update(
        ui_ingress_from={"namespace_labels": {"team": "ops"}, "agents": ["concierg"]}))
    line = line_of(stack_file(project), "- concierg")
    assert kubernetes_findings(project) == [
        f"stacks/kb-conduit.yaml:{line}:9: deployment.kubernetes.ui_ingress_from.agents[0]: ui_ingress_from names "
        "unknown agent 'concierg'; did you mean 'concierge'? [K005]"]


def test_a_ui_ingress_must_name_its_peer(project: Path):
    edit_stack(project, lambda d: d["deployment"]["kubernetes"].update(ui_ingress_from={"agents": ["concierge"]}))
    with pytest.raises(SpecError, match="deployment.kubernetes.ui_ingress_from: .*name the peer: namespace_labels, "
                                        "pod_labels or both"):
        load_stack(stack_file(project))


def test_a_config_map_over_one_mebibyte_is_an_error_at_the_notebook(project: Path, synth):  # noqa: ANN001
    notebook = project / "agents" / "validator.py"
    notebook.write_text(notebook.read_text() + "\n# " + "x" * (1024 * 1024) + "\n")
    line = line_of(stack_file(project), 'path: "agents/validator.py"')
    (error,) = synth_errors(project, synth)
    assert error.startswith(f"stacks/kb-conduit.yaml:{line}:15: stack.agents[2].implementation.path: agent "
                            "'validator': its notebook and spec take 1,")
    assert error.endswith(" bytes, over the 1,048,576 a ConfigMap may hold; move data out of the notebook (into "
                          "the KB or an input) [K002]")


def test_an_env_variable_the_target_sets_is_an_error_at_its_key(project: Path):
    edit_stack(project, lambda d: d["stack"]["agents"][4].update(env={"HOME": "/home/agent"}))
    line = line_of(stack_file(project), "HOME:")
    assert kubernetes_findings(project) == [
        f"stacks/kb-conduit.yaml:{line}:7: stack.agents[4].env.HOME: env 'HOME' of agent 'pattern_detector' "
        "conflicts with the kubernetes target's HOME=/tmp [K003]"]


def test_a_file_input_outside_the_kb_is_an_error_at_its_source(project: Path):
    edit_stack(project, lambda d: d["stack"]["agents"][0]["interface"]["inputs"][0].update(
        source="file:stacks/sample-kb"))
    line = line_of(stack_file(project), "source: file:stacks/sample-kb")
    assert kubernetes_findings(project) == [
        f"stacks/kb-conduit.yaml:{line}:17: stack.agents[0].interface.inputs[0].source: 'file:stacks/sample-kb' is "
        "not in agent 'kb_base''s pod: of this machine's files a pod gets the KB alone (at /kb-conduit, with "
        "'workspace: read'); read it from there: 'file:${KB_CONDUIT_ROOT}/...' [K007]"]


def test_agents_whose_names_meet_in_one_kubernetes_name_are_an_error(project: Path):
    edit_stack(project, lambda d: d["stack"]["agents"].append(
        {**d["stack"]["agents"][4], "name": "pattern-detector", "port": 2731, "layer": 2}))
    line = line_of(stack_file(project), "name: pattern-detector")
    assert [f for f in kubernetes_findings(project) if "K001" in f] == [
        f"stacks/kb-conduit.yaml:{line}:11: stack.agents[6].name: agents 'pattern_detector' and 'pattern-detector' "
        "both map to the Kubernetes name 'kb-conduit-pattern-detector'; rename one [K001]"]


def test_a_deploy_without_an_image_is_an_error_where_the_file_would_set_it(project: Path, synth):  # noqa: ANN001
    line = line_of(stack_file(project), "namespace:", after="kubernetes:")
    assert synth_errors(project, synth, image=None) == [
        f"stacks/kb-conduit.yaml:{line}:5: deployment.kubernetes.image: the kubernetes target needs the runtime image, "
        "from a registry the cluster can pull from: set deployment.kubernetes.image (or STRATA_KUBERNETES_IMAGE), "
        "e.g. registry.example.com/strata-runtime:1.0; `strata setup` builds it locally as strata-runtime:<hash>, "
        "to push there"]


def test_a_kubeconfig_listing_several_files_is_refused_plainly(project: Path):
    with pytest.raises(StrataError) as caught:
        configured_target(load_stack(stack_file(project)), "kubernetes", kubeconfig="/a/config:/b/config")
    assert not isinstance(caught.value, SpecError)
    assert caught.value.message == ("KubernetesTarget: kubeconfig: names several files "
                                    "('/a/config:/b/config'); the provider reads one: name the one to use")


def test_a_numeric_provider_profile_reads_as_its_name(project: Path):
    edit_stack(project, lambda d: d["deployment"]["kubernetes"].update(provider_profile=2))
    target = configured_target(load_stack(stack_file(project)), "kubernetes")
    assert target.profile.name == "2" and target.profile.enforce == "restricted"
