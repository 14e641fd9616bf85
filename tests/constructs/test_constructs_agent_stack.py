"""``AgentStack``: one API for YAML and Python stacks, validated like `strata validate` before synthesis."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest
import yaml
import cdktf

from agentstrata.constructs import AgentStack, DockerTarget, MarimoAgent
from agentstrata.errors import SpecError
from agentstrata.loader import load_stack
from agentstrata.validate import validate


def kb_conduit_in_python(app, project: Path) -> AgentStack:  # noqa: ANN001
    """stacks/kb-conduit.yaml, composed call by call."""
    stack = AgentStack(app, "kb-conduit", target=DockerTarget(workspace_path="stacks/sample-kb"), root=project)
    kb = stack.add_agent(
        name="kb_base", layer=0, notebook="agents/kb_base.py", port=2717, workspace="read",
        inputs={"kb_root": ("kb_directory", "file:${KB_CONDUIT_ROOT}")},
        outputs={"workspace_context": "workspace_context", "session_log": "session_log"},
    )
    loader = stack.add_agent(name="context_loader", layer=1, notebook="agents/context_loader.py", port=2718,
                             outputs={"context": "context"})
    validator = stack.add_agent(name="validator", layer=1, notebook="agents/validator.py", port=2719,
                                outputs={"validated_context": "validated_context"})
    debriefer = stack.add_agent(name="debriefer", layer=2, notebook="agents/debriefer.py", port=2720,
                                outputs={"insights": "insights"})
    patterns = stack.add_agent(name="pattern_detector", layer=2, notebook="agents/pattern_detector.py", port=2721,
                               outputs={"patterns": "patterns"})
    concierge = stack.add_agent(name="concierge", layer=3, notebook="agents/concierge.py", port=2722,
                                outputs={"recommendations": "recommendations"})
    loader.consumes(kb, "workspace_context")
    validator.consumes(kb, "workspace_context").consumes(kb, "session_log")
    debriefer.consumes(kb, "session_log", as_="history", transform="parse_yaml_log")
    debriefer.consumes(validator, "validated_context")
    patterns.consumes(kb, "session_log", as_="history", transform="parse_yaml_log")
    concierge.consumes(loader, "context").consumes(debriefer, "insights").consumes(patterns, "patterns")
    return stack


def test_a_stack_composed_in_python_synthesizes_like_its_yaml(project: Path, synth):  # noqa: ANN001
    from_yaml = synth(lambda app: AgentStack.from_file(app, project / "stacks" / "kb-conduit.yaml", target="docker"))
    from_python = synth(lambda app: kb_conduit_in_python(app, project))
    assert from_python == from_yaml


def test_the_python_spec_is_the_model_the_yaml_file_loads(project: Path):
    stack = kb_conduit_in_python(cdktf.Testing.app(outdir=str(project / "cdktf.out")), project)
    stack.render()
    assert stack.spec == load_stack(project / "stacks" / "kb-conduit.yaml").stack


def test_an_invalid_stack_file_fails_with_the_validators_located_errors(project: Path):
    (project / "agents" / "concierge.py").unlink()
    expected = [d for d in validate(load_stack(project / "stacks" / "kb-conduit.yaml")) if d.severity == "error"]
    with pytest.raises(SpecError) as caught:
        AgentStack.from_file(cdktf.Testing.app(), project / "stacks" / "kb-conduit.yaml", target="docker")
    assert caught.value.diagnostics == expected
    assert [d.code for d in expected] == ["S015"]


def test_a_python_stack_is_validated_at_render_and_located_at_the_calls(project: Path):
    stack = AgentStack(cdktf.Testing.app(), "s", target=DockerTarget(), root=project)
    line = inspect.currentframe().f_lineno + 1
    stack.add_agent(name="a", layer=0, notebook="agents/missing.py")
    with pytest.raises(SpecError) as caught:
        stack.render()
    (found,) = caught.value.diagnostics
    assert (Path(found.file).name, found.line, found.code) == ("test_constructs_agent_stack.py", line, "S015")
    assert found.loc == "stack.agents[0].implementation.path"


def test_plain_app_synth_renders_the_stack_first(project: Path):
    app = cdktf.App(outdir=str(project / "cdktf.out"))
    AgentStack.from_file(app, project / "stacks" / "kb-conduit.yaml", target="docker")
    app.synth()
    config = json.loads((project / "cdktf.out" / "stacks" / "kb-conduit-docker" / "cdk.tf.json").read_text())
    assert len(config["resource"]["docker_container"]) == 6


def test_the_terraform_stack_is_named_after_the_stack_and_target(project: Path):
    stack = AgentStack.from_file(cdktf.Testing.app(), project / "stacks" / "kb-conduit.yaml", target="docker")
    assert stack.node.id == "kb-conduit-docker"
    assert isinstance(stack.agents["debriefer"], MarimoAgent)
    assert stack.agents["debriefer"].node.path == "kb-conduit-docker/debriefer"


def test_the_default_target_is_the_files_deployment_target(project: Path):
    stack = AgentStack.from_file(cdktf.Testing.app(), project / "stacks" / "kb-conduit.yaml")
    assert isinstance(stack.target, DockerTarget)
    assert stack.target.workspace_path == "stacks/sample-kb"


def test_a_target_terraform_cannot_apply_is_refused(project: Path):
    with pytest.raises(SpecError, match=re.escape(
            "the 'local' target cannot be synthesized: it runs without Terraform (`strata deploy --target local` "
            "runs it)")):
        AgentStack.from_file(cdktf.Testing.app(), project / "stacks" / "kb-conduit.yaml", target="local")


def test_a_target_missing_a_prop_only_the_user_can_give_says_which(project: Path):
    stack = AgentStack.from_file(cdktf.Testing.app(), project / "stacks" / "kb-conduit.yaml", target="kubernetes")
    with pytest.raises(SpecError, match=re.escape("deployment.kubernetes.image: the kubernetes target needs the "
                                                  "runtime image")):
        stack.render()


def test_a_target_the_file_does_not_allow_is_refused_at_its_deployment_block(project: Path):
    path = project / "stacks" / "kb-conduit.yaml"
    document = yaml.safe_load(path.read_text())
    document["deployment"] = {"target": "local"}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(SpecError) as caught:
        AgentStack.from_file(cdktf.Testing.app(), path, target="docker")
    (found,) = caught.value.diagnostics
    assert found.loc == "deployment"
    assert found.message == ("stack 'kb-conduit' does not allow target 'docker' (allowed: local); add a "
                             "'deployment.docker' block")


def test_a_file_stack_takes_its_connections_from_the_file(project: Path):
    stack = AgentStack.from_file(cdktf.Testing.app(), project / "stacks" / "kb-conduit.yaml", target="docker")
    with pytest.raises(SpecError, match="comes from .*kb-conduit.yaml: connect agents in that file"):
        stack.agents["concierge"].consumes(stack.agents["kb_base"], "session_log", as_="log")


def test_a_rendered_stack_takes_no_more_agents(project: Path):
    stack = kb_conduit_in_python(cdktf.Testing.app(), project)
    stack.render()
    with pytest.raises(SpecError, match="stack 'kb-conduit' is already rendered: add agents before render"):
        stack.add_agent(name="late", layer=4, notebook="agents/late.py")


def test_an_agent_named_like_a_target_resource_does_not_collide(project: Path, synth):  # noqa: ANN001
    path = project / "stacks" / "kb-conduit.yaml"
    path.write_text(path.read_text().replace('"kb_base"', '"network"').replace("kb_base.", "network."))
    (project / "agents" / "kb_base.py").rename(project / "agents" / "network.py")
    path.write_text(path.read_text().replace("agents/kb_base.py", "agents/network.py"))
    config = synth(lambda app: AgentStack.from_file(app, path, target="docker"))
    assert {"network"} <= set(config["resource"]["docker_container"]) and "network" in config["resource"]["docker_network"]


def test_an_agent_file_cannot_use_the_backends_name(project: Path):
    path = project / "stacks" / "kb-conduit.yaml"
    path.write_text(path.read_text().replace('"concierge"', '"backend"'))
    with pytest.raises(SpecError) as caught:
        AgentStack.from_file(cdktf.Testing.app(), path, target="docker")
    (found,) = caught.value.diagnostics
    assert found.loc == "stack.agents[5].name" and found.message.startswith("agent name 'backend' is reserved")


def s3_backend(stack: AgentStack) -> cdktf.S3Backend:
    return cdktf.S3Backend(stack, bucket="tf-state", key="kb-conduit.tfstate", region="eu-west-1")


def test_a_backend_brought_along_replaces_the_local_one(project: Path, synth):  # noqa: ANN001
    config = synth(lambda app: AgentStack.from_file(app, project / "stacks" / "kb-conduit.yaml", target="docker",
                                                    backend=s3_backend))
    assert config["terraform"]["backend"] == {"s3": {"bucket": "tf-state", "key": "kb-conduit.tfstate",
                                                     "region": "eu-west-1"}}


def test_without_a_backend_brought_along_render_creates_the_local_one(project: Path):
    stack = kb_conduit_in_python(cdktf.Testing.app(), project)
    assert stack.backend is None
    stack.render()
    assert isinstance(stack.backend, cdktf.LocalBackend)


def test_the_backend_brought_along_is_the_stacks_from_the_start(project: Path):
    stack = AgentStack(cdktf.Testing.app(), "s", target=DockerTarget(), root=project, backend=s3_backend)
    assert isinstance(stack.backend, cdktf.S3Backend) and stack.backend.node.scope is stack


def test_a_backend_function_that_makes_no_backend_of_the_stack_is_located_at_the_call(project: Path):
    app = cdktf.Testing.app()
    other = cdktf.TerraformStack(app, "other")
    with pytest.raises(SpecError) as caught:
        line = inspect.currentframe().f_lineno + 1
        AgentStack(app, "s", target=DockerTarget(), root=project, backend=lambda stack: s3_backend(other))
    (found,) = caught.value.diagnostics
    assert (Path(found.file).name, found.line, found.loc) == ("test_constructs_agent_stack.py", line, "backend")
    assert found.message == ("AgentStack: backend returned a backend of stack 'other', not a Terraform backend "
                             "created on the stack it was given (e.g. backend=lambda stack: S3Backend(stack, ...))")
