"""The Docker target's synthesized Terraform: the kb-conduit snapshot and one test per rule it follows."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from syrupy.extensions.json import JSONSnapshotExtension

from agentstrata.constructs import AgentStack, DockerTarget
from agentstrata.targets.docker.resources import PROVIDER_VERSION
from agentstrata.errors import SpecError, StrataError
from tests.constructs.conftest import normalise

LAYERS = {"kb_base": 0, "context_loader": 1, "validator": 1, "debriefer": 2, "pattern_detector": 2, "concierge": 3}


def stack_file(project: Path) -> Path:
    return project / "stacks" / "kb-conduit.yaml"


def edit_stack(project: Path, change) -> None:  # noqa: ANN001 - a function of the parsed YAML
    document = yaml.safe_load(stack_file(project).read_text())
    change(document)
    stack_file(project).write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.fixture
def kb_conduit(project: Path, synth):  # noqa: ANN001, ANN201
    """``kb_conduit(**props)``: the project's kb-conduit synthesized, for ``DockerTarget(**props)`` if given,
    else for the target the file's deployment block configures."""
    def run(**props: object) -> dict:
        target = DockerTarget(**props) if props else "docker"
        return synth(lambda app: AgentStack.from_file(app, stack_file(project), target=target))

    return run


def containers(config: dict) -> dict[str, dict]:
    return config["resource"]["docker_container"]


def test_kb_conduit_matches_the_snapshot(project: Path, kb_conduit, snapshot):  # noqa: ANN001
    assert normalise(kb_conduit(), project) == snapshot.use_extension(JSONSnapshotExtension)


def test_each_agent_gets_its_image_container_state_volume_and_url_output(kb_conduit):  # noqa: ANN001
    config = kb_conduit()
    assert sorted(containers(config)) == sorted(LAYERS)
    assert sorted(config["resource"]["docker_volume"]) == sorted(f"{a}_state" for a in LAYERS)
    assert sorted(config["output"]) == sorted(f"{a}_url" for a in LAYERS)
    assert list(config["resource"]["docker_network"]) == ["network"]
    assert sorted(config["resource"]["docker_image"]) == sorted(["runtime", *(f"{a}_image" for a in LAYERS)])


def test_containers_start_after_their_upstreams_which_orders_the_layers(kb_conduit):  # noqa: ANN001
    starts_after = {
        name: sorted(ref.split(".")[1] for ref in block["depends_on"] if ref.startswith("docker_container."))
        for name, block in containers(kb_conduit()).items()
    }
    assert starts_after == {
        "kb_base": [], "context_loader": ["kb_base"], "validator": ["kb_base"],
        "debriefer": ["kb_base", "validator"], "pattern_detector": ["kb_base"],
        "concierge": ["context_loader", "debriefer", "pattern_detector"],
    }
    assert all(LAYERS[u] < LAYERS[name] for name, ups in starts_after.items() for u in ups)


def test_without_parallel_init_the_agents_of_a_layer_start_one_after_another(project: Path, kb_conduit):  # noqa: ANN001
    edit_stack(project, lambda d: d["stack"]["policies"].update(parallel_init=False))
    depends = {name: block["depends_on"] for name, block in containers(kb_conduit()).items()}
    assert "docker_container.context_loader" in depends["validator"]
    assert "docker_container.debriefer" in depends["pattern_detector"]
    assert not any(ref.endswith(".validator") for ref in depends["context_loader"])


def test_every_container_keeps_its_state_in_its_own_volume(kb_conduit):  # noqa: ANN001
    for name, block in containers(kb_conduit()).items():
        volume = f"kb-conduit-{name.replace('_', '-')}-state"
        assert block["volumes"] == [{"container_path": "/var/lib/strata", "volume_name": volume}]
        assert f"docker_volume.{name}_state" in block["depends_on"]


def test_no_port_is_published_on_all_interfaces(kb_conduit):  # noqa: ANN001
    for block in containers(kb_conduit()).values():
        assert [p["ip"] for p in block["ports"]] == ["127.0.0.1"]


def test_every_container_has_healthcheck_own_image_restart_policy_and_read_only_hardening(kb_conduit):  # noqa: ANN001
    for name, block in containers(kb_conduit()).items():
        port = block["ports"][0]["internal"]
        assert block["healthcheck"]["test"][:3] == ["CMD", "python3", "-c"]
        assert f"http://127.0.0.1:{port}/ready" in block["healthcheck"]["test"][3]
        assert "upload" not in block and block["read_only"] is True
        assert block["image"] == f"${{docker_image.{name}_image.image_id}}"
        assert block["restart"] == "unless-stopped" and block["must_run"] is True
        assert block["wait"] is True and block["wait_timeout"] == 120
        assert block["user"] == "10001:10001"
        assert block["capabilities"] == {"drop": ["ALL"]}
        assert block["security_opts"] == ["no-new-privileges"]
        assert block["tmpfs"] == {"/tmp": "rw,nosuid,nodev,size=128m"}
        assert "HOME=/tmp" in block["env"]
        assert block["command"] == ["--stack", "/app/stack.yaml", "--agent", name, "--host", "0.0.0.0",
                                    "--port", str(port)]


def test_only_the_agent_that_declares_the_workspace_gets_the_kb_mount(project: Path, kb_conduit):  # noqa: ANN001
    blocks = containers(kb_conduit())
    assert blocks["kb_base"]["mounts"] == [{"read_only": True, "source": str(project / "stacks" / "sample-kb"),
                                            "target": "/kb-conduit", "type": "bind"}]
    assert {"KB_CONDUIT_ROOT=/kb-conduit", "STRATA_STATE_DIR=/var/lib/strata"} <= set(blocks["kb_base"]["env"])
    for name, block in blocks.items():
        if name != "kb_base":
            assert block["mounts"] == []
            assert "STRATA_STATE_DIR=/var/lib/strata" in block["env"]
            assert not [line for line in block["env"] if line.startswith("KB_CONDUIT_ROOT=")]


def test_synthesis_reads_no_environment(project: Path, kb_conduit, monkeypatch):  # noqa: ANN001
    monkeypatch.setenv("KB_CONDUIT_ROOT", "/elsewhere")
    monkeypatch.setenv("STRATA_BASE_IMAGE", "other:tag")
    config = kb_conduit()
    assert containers(config)["kb_base"]["mounts"][0]["source"] == str(project / "stacks" / "sample-kb")
    assert config["resource"]["docker_image"]["runtime"]["build"]["build_args"] == {"BASE_IMAGE": "python:3.11-slim"}


def test_the_cli_edge_maps_the_environment_to_props():
    environ = {"KB_CONDUIT_ROOT": "/elsewhere", "STRATA_BASE_IMAGE": "other:tag", "UNRELATED": "x"}
    assert DockerTarget.props_from_environment(environ) == {"workspace_path": "/elsewhere", "base_image": "other:tag"}


def test_upstream_urls_reach_the_upstream_containers_by_name_in_sorted_env(kb_conduit):  # noqa: ANN001
    env = containers(kb_conduit())["debriefer"]["env"]
    assert env == sorted(env)
    assert "STRATA_UPSTREAM_KB_BASE_URL=http://kb-conduit-kb-base:2717" in env
    assert "STRATA_UPSTREAM_VALIDATOR_URL=http://kb-conduit-validator:2719" in env
    assert not [v for v in containers(kb_conduit())["kb_base"]["env"] if v.startswith("STRATA_UPSTREAM_")]


def test_auto_restart_off_means_restart_no(project: Path, kb_conduit):  # noqa: ANN001
    edit_stack(project, lambda d: d["stack"]["policies"].update(auto_restart=False))
    assert {b["restart"] for b in containers(kb_conduit()).values()} == {"no"}


def test_resources_become_memory_and_cpu_limits(project: Path, kb_conduit):  # noqa: ANN001
    edit_stack(project, lambda d: d["stack"]["agents"][0].update(resources={"memory": "1Gi", "cpu": "500m"}))
    block = containers(kb_conduit())["kb_base"]
    assert (block["memory"], block["memory_swap"]) == (1024, 1024)
    assert (block["cpu_period"], block["cpu_quota"]) == (100000, 50000)
    assert {"label": "strata.cpus", "value": "0.5"} in block["labels"]
    assert "memory" not in containers(kb_conduit())["validator"]


def test_urls_are_outputs_on_the_bind_address(kb_conduit):  # noqa: ANN001
    assert kb_conduit()["output"]["concierge_url"]["value"] == "http://127.0.0.1:2722"


def test_another_bind_address_and_host_port_can_be_set_explicitly(kb_conduit):  # noqa: ANN001
    config = kb_conduit(bind_address="0.0.0.0", host_ports={"concierge": 8080}, workspace_path="stacks/sample-kb")
    assert containers(config)["concierge"]["ports"] == [{"external": 8080, "internal": 2722, "ip": "0.0.0.0",
                                                         "protocol": "tcp"}]
    assert config["output"]["concierge_url"]["value"] == "http://127.0.0.1:8080"


def test_the_runtime_image_is_built_from_the_runtime_context_and_rebuilt_on_change(project: Path, kb_conduit):  # noqa: ANN001
    config = kb_conduit(base_image="strata-base:bookworm-py311", workspace_path="stacks/sample-kb")
    image = config["resource"]["docker_image"]["runtime"]
    assert image["build"] == {"build_args": {"BASE_IMAGE": "strata-base:bookworm-py311"},
                              "context": str(project / ".strata" / "build" / "runtime")}
    assert image["keep_locally"] is True
    assert image["name"] == f"strata-runtime:{image['triggers']['runtime_inputs'][:12]}"
    agent_images = {k: v for k, v in config["resource"]["docker_image"].items() if k != "runtime"}
    assert sorted(agent_images) == sorted(f"{a}_image" for a in LAYERS)
    for agent_image in agent_images.values():
        assert agent_image["build"]["build_args"] == {"RUNTIME_IMAGE": "${docker_image.runtime.name}"}
        assert agent_image["triggers"]["runtime_inputs"] == image["triggers"]["runtime_inputs"]


def test_state_lives_in_the_project_at_a_path_relative_to_the_stack_directory(kb_conduit):  # noqa: ANN001
    backend = kb_conduit()["terraform"]["backend"]
    assert backend == {"local": {"path": "../../../.strata/state/terraform/kb-conduit-docker.tfstate"}}


def test_the_provider_version_is_the_one_the_toolchain_mirrors(kb_conduit):  # noqa: ANN001
    from agentstrata.targets.docker.toolchain import DOCKER_PROVIDER

    assert PROVIDER_VERSION == DOCKER_PROVIDER.version
    assert kb_conduit()["terraform"]["required_providers"]["docker"] == {
        "source": "kreuzwerker/docker", "version": PROVIDER_VERSION}


def test_escape_hatches_are_the_created_resources(project: Path, synth):  # noqa: ANN001
    stacks = []

    def build(app):  # noqa: ANN001, ANN202
        stacks.append(AgentStack.from_file(app, stack_file(project), target="docker"))
        return stacks[0]

    synth(build)
    stack = stacks[0]
    assert stack.agents["debriefer"].container.name_input == "kb-conduit-debriefer"
    assert stack.network.name_input == "kb-conduit"
    assert stack.image.keep_locally_input is True
    assert set(stack.agents["debriefer"].resources) == {"container", "volume", "url", "image"}
    assert stack.agents["debriefer"].image.name_input.startswith("strata-agent-kb-conduit-debriefer:")


# -- conflicting props: rejected with a message naming both sides -------------------------------


def test_a_host_port_bound_twice_names_both_agents(kb_conduit):  # noqa: ANN001
    with pytest.raises(SpecError) as caught:
        kb_conduit(host_ports={"concierge": 2717}, workspace_path="stacks/sample-kb")
    assert [d.code for d in caught.value.diagnostics] == ["D002"]
    assert ("host port 2717 (DockerTarget host_ports) is bound twice: by agent 'kb_base' and by agent "
            "'concierge'") in caught.value.message


def test_one_host_port_given_to_two_agents_names_both():
    with pytest.raises(StrataError, match="host port 8080 is given to both 'a' and 'b'"):
        DockerTarget(host_ports={"a": 8080, "b": 8080})


def test_host_ports_for_an_unknown_agent_is_an_error(kb_conduit):  # noqa: ANN001
    with pytest.raises(SpecError, match="host_ports names unknown agent 'concierg'; did you mean 'concierge'"):
        kb_conduit(host_ports={"concierg": 9000})


def test_an_agent_env_may_not_redefine_what_the_target_sets(project: Path, kb_conduit):  # noqa: ANN001
    edit_stack(project, lambda d: d["stack"]["agents"][1].update(env={"HOME": "/root"}))
    with pytest.raises(SpecError) as caught:
        kb_conduit()
    # The stack allows the kubernetes target too, which sets HOME as well (K003).
    (found,) = [d for d in caught.value.diagnostics if d.code.startswith("D")]
    assert found.code == "D003" and found.loc == "stack.agents[1].env.HOME"
    assert "env 'HOME' of agent 'context_loader' conflicts with the docker target's HOME=/tmp" in found.message


def test_a_memory_limit_below_dockers_minimum_is_an_error(project: Path, kb_conduit):  # noqa: ANN001
    edit_stack(project, lambda d: d["stack"]["agents"][0].update(resources={"memory": "4Mi"}))
    with pytest.raises(SpecError, match="memory 4Mi is below Docker's minimum of 6Mi"):
        kb_conduit()


@pytest.mark.parametrize(("props", "message"), [
    ({"bind_address": "localhost"}, "bind_address 'localhost' is not an IP address"),
    ({"user": "0:0"}, "user '0:0' is root"),
    ({"wait_timeout": 0}, "wait_timeout must be a positive number of seconds"),
    ({"host_ports": {"a": 70000}}, r"host_ports\['a'\] = 70000 is not a port number"),
])
def test_bad_target_props_are_refused_at_construction(props: dict, message: str):
    with pytest.raises(StrataError, match=message):
        DockerTarget(**props)


def test_a_missing_kb_directory_is_a_warning_not_an_error(project: Path, synth):  # noqa: ANN001
    (project / "stacks" / "sample-kb").rmdir()
    stacks = []
    synth(lambda app: stacks.append(AgentStack.from_file(app, stack_file(project), target="docker")) or stacks[0])
    (warning,) = stacks[0].warnings
    assert (warning.severity, warning.loc) == ("warning", "deployment")
    assert warning.message == (f"KB directory {project / 'stacks' / 'sample-kb'} does not exist: Docker will refuse "
                               "to mount it when the stack is applied")
