"""The Kubernetes target's synthesized Terraform: the kb-conduit snapshot and one test per rule it follows."""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from agentstrata.constructs import AgentStack
from agentstrata.targets.base.start_order import upstreams
from agentstrata.loader import load_stack
from agentstrata.targets.kubernetes import KubernetesTarget
from agentstrata.targets.kubernetes.toolchain import KUBERNETES_PROVIDER
from tests.constructs.conftest import normalise
from tests.targets.kubernetes.conftest import AGENTS, IMAGE, edit_stack, resources, stack_file

SELECT = "strata.agent"


def pod_spec(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]


def container(deployment: dict) -> dict:
    (only,) = pod_spec(deployment)["container"]
    return only


def test_kb_conduit_matches_the_snapshot(project: Path, kb_conduit, snapshot):  # noqa: ANN001
    assert normalise(kb_conduit(), project) == snapshot.use_extension(JSONSnapshotExtension)


def test_each_agent_gets_a_config_map_deployment_service_network_policy_and_url_output(kb_conduit):  # noqa: ANN001
    config = kb_conduit()
    for kind in ("config_map", "deployment", "service", "network_policy"):
        assert sorted(resources(config, kind)) == sorted(AGENTS), kind
    assert sorted(config["output"]) == sorted(f"{a}_url" for a in AGENTS)
    assert list(resources(config, "namespace")) == ["namespace"]


def test_the_seed_namespace_is_created_with_pod_security_labels_of_profile_1_13(kb_conduit):  # noqa: ANN001
    metadata = resources(kb_conduit(), "namespace")["namespace"]["metadata"]
    assert metadata["name"] == "kb-conduit-agents"
    assert {key: value for key, value in metadata["labels"].items() if key.startswith("pod-security")} == {
        "pod-security.kubernetes.io/enforce": "baseline",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }


def test_a_namespace_brought_by_the_user_is_not_created(kb_conduit):  # noqa: ANN001
    config = kb_conduit(create_namespace=False)
    assert resources(config, "namespace") == {}
    assert all("depends_on" not in block for block in resources(config, "service").values())


def test_urls_are_the_in_cluster_service_addresses(kb_conduit):  # noqa: ANN001
    config = kb_conduit()
    assert config["output"]["kb_base_url"]["value"] == "http://kb-conduit-kb-base.kb-conduit-agents.svc:2717"
    (port,) = resources(config, "service")["kb_base"]["spec"]["port"]
    assert port == {"name": "http", "port": 2717, "protocol": "TCP", "target_port": "2717"}


def test_upstream_urls_in_sorted_env_name_the_upstream_services(kb_conduit):  # noqa: ANN001
    env = container(resources(kb_conduit(), "deployment")["debriefer"])["env"]
    assert [e["name"] for e in env] == sorted(e["name"] for e in env)
    values = {e["name"]: e["value"] for e in env}
    assert values["STRATA_UPSTREAM_KB_BASE_URL"] == "http://kb-conduit-kb-base.kb-conduit-agents.svc:2717"
    assert values["STRATA_UPSTREAM_VALIDATOR_URL"] == "http://kb-conduit-validator.kb-conduit-agents.svc:2719"
    assert (values["HOME"], values["STRATA_STATE_DIR"]) == ("/tmp", "/var/lib/strata")
    assert "KB_CONDUIT_ROOT" not in values


def test_only_the_agents_that_declare_the_workspace_get_kb_conduit_root(kb_conduit):  # noqa: ANN001
    env = {name: {e["name"]: e["value"] for e in container(deployment)["env"]}
           for name, deployment in resources(kb_conduit(), "deployment").items()}
    assert {name for name, values in env.items() if "KB_CONDUIT_ROOT" in values} == {"kb_base"}
    assert env["kb_base"]["KB_CONDUIT_ROOT"] == "/kb-conduit"


def test_every_pod_is_hardened_probed_and_runs_strata_serve_from_the_image(kb_conduit):  # noqa: ANN001
    for name, deployment in resources(kb_conduit(), "deployment").items():
        pod = pod_spec(deployment)
        main = container(deployment)
        port = str(main["port"][0]["container_port"])
        assert pod["automount_service_account_token"] is False
        assert pod["security_context"] == {"run_as_non_root": True, "run_as_user": 10001, "run_as_group": 10001,
                                           "fs_group": 10001}
        assert main["security_context"] == {"allow_privilege_escalation": False, "read_only_root_filesystem": True,
                                            "run_as_non_root": True, "run_as_user": 10001,
                                            "capabilities": {"drop": ["ALL"]}}
        assert main["image"] == IMAGE
        assert main["args"] == ["--stack", "/app/stack.yaml", "--agent", name, "--host", "0.0.0.0", "--port", port]
        assert main["readiness_probe"]["http_get"] == {"path": "/ready", "port": port, "scheme": "HTTP"}
        assert main["liveness_probe"]["http_get"] == {"path": "/health", "port": port, "scheme": "HTTP"}
        assert deployment["wait_for_rollout"] is True
        assert deployment["timeouts"] == {"create": "360s", "update": "360s", "delete": "360s"}
        assert deployment["spec"]["progress_deadline_seconds"] == 300


def test_files_are_mounted_at_the_wire_paths_and_only_tmp_and_state_are_writable(kb_conduit):  # noqa: ANN001
    deployment = resources(kb_conduit(), "deployment")["validator"]
    assert container(deployment)["volume_mount"] == [
        {"name": "files", "mount_path": "/app/agents/validator.py", "sub_path": "notebook.py", "read_only": True},
        {"name": "files", "mount_path": "/app/stack.yaml", "sub_path": "stack.yaml", "read_only": True},
        {"name": "tmp", "mount_path": "/tmp"},
        {"name": "state", "mount_path": "/var/lib/strata"},
    ]
    assert pod_spec(deployment)["volume"] == [
        {"name": "files", "config_map": {"name": "kb-conduit-validator"}},
        {"name": "tmp", "empty_dir": {"size_limit": "128Mi"}},
        {"name": "state", "empty_dir": {}},
    ]


def test_the_config_map_holds_the_notebook_and_the_agents_own_spec(project: Path, kb_conduit):  # noqa: ANN001
    data = resources(kb_conduit(), "config_map")["pattern_detector"]["data"]
    assert data["notebook.py"] == (project / "agents" / "pattern_detector.py").read_text()
    assert "name: pattern_detector" in data["stack.yaml"] and "name: concierge" not in data["stack.yaml"]


def test_text_that_looks_like_terraform_interpolation_is_escaped(kb_conduit):  # noqa: ANN001
    spec = resources(kb_conduit(), "config_map")["kb_base"]["data"]["stack.yaml"]
    assert "source: file:$${KB_CONDUIT_ROOT}" in spec


def test_only_the_agents_that_declare_the_workspace_mount_the_kb_claim_read_only(kb_conduit):  # noqa: ANN001
    config = kb_conduit()
    (claim,) = resources(config, "persistent_volume_claim").values()
    assert claim["metadata"]["name"] == "kb-conduit-kb"
    assert claim["spec"] == {"access_modes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    assert claim["wait_until_bound"] is False
    for name, deployment in resources(config, "deployment").items():
        kb = [v for v in pod_spec(deployment)["volume"] if v["name"] == "kb"]
        mounts = [m for m in container(deployment)["volume_mount"] if m["name"] == "kb"]
        if name == "kb_base":
            assert kb == [{"name": "kb", "persistent_volume_claim": {"claim_name": "kb-conduit-kb", "read_only": True}}]
            assert mounts == [{"name": "kb", "mount_path": "/kb-conduit", "read_only": True}]
            assert deployment["spec"]["strategy"] == {"type": "Recreate"}
        else:
            assert kb == [] and mounts == []


def test_a_stack_that_brings_its_kb_claim_gets_none_created(kb_conduit):  # noqa: ANN001
    config = kb_conduit(kb_claim="team-kb")
    assert resources(config, "persistent_volume_claim") == {}
    volumes = pod_spec(resources(config, "deployment")["kb_base"])["volume"]
    assert {"name": "kb", "persistent_volume_claim": {"claim_name": "team-kb", "read_only": True}} in volumes


def test_a_stack_whose_agents_do_not_read_the_kb_has_no_kb_claim(project: Path, kb_conduit):  # noqa: ANN001
    def change(document: dict) -> None:  # noqa: ANN001
        del document["stack"]["agents"][0]["workspace"]
        document["stack"]["agents"][0]["interface"]["inputs"][0]["source"] = "env:KB_PATH"

    edit_stack(project, change)
    config = kb_conduit()
    assert resources(config, "persistent_volume_claim") == {}
    assert all(v["name"] != "kb" for d in resources(config, "deployment").values() for v in pod_spec(d)["volume"])


def test_state_claims_on_request_replace_the_state_empty_dir(kb_conduit):  # noqa: ANN001
    config = kb_conduit(state_claim_size="512Mi", storage_class="fast")
    claims = resources(config, "persistent_volume_claim")
    assert sorted(claims) == sorted(["kb_claim", *(f"{a}_state" for a in AGENTS)])
    assert claims["debriefer_state"]["spec"]["storage_class_name"] == "fast"
    deployment = resources(config, "deployment")["debriefer"]
    assert {"name": "state", "persistent_volume_claim": {"claim_name": "kb-conduit-debriefer-state"}} in \
        pod_spec(deployment)["volume"]
    assert "kubernetes_persistent_volume_claim.debriefer_state" in deployment["depends_on"]


def test_network_policy_peers_are_exactly_the_dependency_graph(project: Path, kb_conduit):  # noqa: ANN001
    config = kb_conduit()
    loaded = load_stack(stack_file(project))
    reads_from = {a.name: set(upstreams(a)) for a in loaded.stack.agent_specs}
    label = {name: name.replace("_", "-") for name in AGENTS}
    for name, policy in resources(config, "network_policy").items():
        spec = policy["spec"]
        assert spec["policy_types"] == ["Ingress", "Egress"]
        assert spec["pod_selector"] == {"match_labels": {SELECT: label[name], "strata.stack": "kb-conduit"}}
        ingress = {peer["pod_selector"]["match_labels"][SELECT] for rule in spec["ingress"] for peer in rule["from"]}
        readers = {label[other] for other, ups in reads_from.items() if name in ups}
        assert ingress == readers, name
        port = str(loaded.stack.agent(name).port)
        assert all(rule["ports"] == [{"port": port, "protocol": "TCP"}] for rule in spec["ingress"])
        *to_agents, dns = spec["egress"]
        assert {rule["to"][0]["pod_selector"]["match_labels"][SELECT] for rule in to_agents} == {
            label[u] for u in reads_from[name]}, name
        for rule in to_agents:
            peer = rule["to"][0]["pod_selector"]["match_labels"][SELECT]
            upstream = next(u for u in reads_from[name] if label[u] == peer)
            assert rule["ports"] == [{"port": str(loaded.stack.agent(upstream).port), "protocol": "TCP"}]
        assert dns == {"to": [{"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "kube-system"}},
                               "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}}}],
                       "ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}]}


def test_the_ui_peer_may_reach_the_agents_it_names_on_their_port(kb_conduit):  # noqa: ANN001
    config = kb_conduit(ui_ingress_from={"namespace_labels": {"team": "ops"}, "pod_labels": {"app": "browser"},
                                         "agents": ["concierge"]})
    policies = resources(config, "network_policy")
    assert policies["concierge"]["spec"]["ingress"] == [{
        "from": [{"namespace_selector": {"match_labels": {"team": "ops"}},
                  "pod_selector": {"match_labels": {"app": "browser"}}}],
        "ports": [{"port": "2722", "protocol": "TCP"}],
    }]
    assert all(len(rule["from"]) >= 1 and "namespace_selector" not in rule["from"][0]
               for rule in policies["debriefer"]["spec"]["ingress"])


def test_resources_become_canonical_requests_and_limits(project: Path, kb_conduit):  # noqa: ANN001
    edit_stack(project, lambda d: d["stack"]["agents"][0].update(resources={"memory": "1.5Gi", "cpu": 1.5}))
    main = container(resources(kb_conduit(), "deployment")["kb_base"])
    assert main["resources"] == {"limits": {"cpu": "1500m", "memory": "1536Mi"},
                                 "requests": {"cpu": "1500m", "memory": "1536Mi"}}
    assert "resources" not in container(resources(kb_conduit(), "deployment")["validator"])


def test_agents_start_after_their_upstreams_and_after_what_they_mount(kb_conduit):  # noqa: ANN001
    deployments = resources(kb_conduit(), "deployment")
    assert deployments["concierge"]["depends_on"] == [
        "kubernetes_namespace.namespace", "kubernetes_config_map.concierge", "kubernetes_deployment.context_loader",
        "kubernetes_deployment.debriefer", "kubernetes_deployment.pattern_detector"]
    assert "kubernetes_persistent_volume_claim.kb_claim" in deployments["kb_base"]["depends_on"]


def test_profile_1_13_pins_the_mirrored_provider_and_reads_the_kubeconfig_explicitly(kb_conduit):  # noqa: ANN001
    config = kb_conduit(kubeconfig="/home/me/.kube/lab", context="lab")
    assert config["terraform"]["required_providers"]["kubernetes"] == {
        "source": KUBERNETES_PROVIDER.source, "version": KUBERNETES_PROVIDER.version}
    assert config["provider"]["kubernetes"] == [{"config_path": "/home/me/.kube/lab", "config_context": "lab",
                                                 "load_config_file": True}]


def test_profile_2_pins_2_38_sets_seccomp_and_enforces_restricted(kb_conduit):  # noqa: ANN001
    config = kb_conduit(provider_profile="2")
    assert config["terraform"]["required_providers"]["kubernetes"]["version"] == "2.38.0"
    assert config["provider"]["kubernetes"] == [{"config_path": "~/.kube/config"}]
    labels = resources(config, "namespace", "2")["namespace"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    deployment = resources(config, "deployment", "2")["concierge"]
    assert pod_spec(deployment)["security_context"]["seccomp_profile"] == {"type": "RuntimeDefault"}
    assert pod_spec(deployment)["security_context"]["run_as_user"] == "10001"
    assert deployment["spec"]["replicas"] == "1"
    assert resources(config, "deployment") == {}


def test_synthesis_reads_no_environment(kb_conduit, monkeypatch):  # noqa: ANN001
    monkeypatch.setenv("KUBECONFIG", "/elsewhere/config")
    monkeypatch.setenv("STRATA_KUBERNETES_IMAGE", "other:tag")
    config = kb_conduit()
    assert config["provider"]["kubernetes"][0]["config_path"] == "~/.kube/config"
    assert container(resources(config, "deployment")["kb_base"])["image"] == IMAGE


def test_the_cli_edge_maps_the_environment_to_props(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    environ = {"KUBECONFIG": "lab/config", "STRATA_KUBERNETES_IMAGE": "other:tag", "UNRELATED": "x"}
    assert KubernetesTarget.props_from_environment(environ) == {"kubeconfig": str(tmp_path / "lab" / "config"),
                                                                "image": "other:tag"}


def test_escape_hatches_are_the_created_resources(project: Path, synth):  # noqa: ANN001
    stacks = []

    def build(app):  # noqa: ANN001, ANN202
        stacks.append(AgentStack.from_file(app, stack_file(project), target=KubernetesTarget(image=IMAGE)))
        return stacks[0]

    synth(build)
    stack = stacks[0]
    assert set(stack.agents["debriefer"].resources) == {"config_map", "deployment", "service", "network_policy",
                                                        "url", "state_claim"}
    assert stack.agents["debriefer"].deployment.terraform_resource_type == "kubernetes_deployment"
    assert stack.agents["debriefer"].state_claim is None
    assert stack.namespace.friendly_unique_id == "namespace"
    assert stack.kb_claim.terraform_resource_type == "kubernetes_persistent_volume_claim"
