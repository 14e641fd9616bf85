"""Host ports planned at deploy, against a real Docker engine: free for agents without a port, kept
across deploys, and a fixed port another stack's container holds refused before anything is created.

Containers that publish a port are made with ``docker create``: a created container holds its port
binding in the engine (it takes it on start) without binding anything now.
"""

from __future__ import annotations

import json
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentstrata.deploy.base_image import BASE_IMAGE
from agentstrata.deploy.state_backend import state_file
from agentstrata.errors import SpecError
from agentstrata.loader import load_stack
from agentstrata.targets import configured_target
from agentstrata.targets.docker.host_ports import engine_ports, plan_host_ports
from tests.targets.docker.plain_stack import write_plain_stack


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def publish() -> Iterator:
    """``publish(port, stack)``: a created container publishing ``127.0.0.1:port``, labelled as ``stack``'s."""
    if _docker("info").returncode != 0:
        pytest.skip("no Docker engine answers")
    if _docker("image", "inspect", BASE_IMAGE).returncode != 0:
        pytest.skip(f"{BASE_IMAGE} is not built (`strata setup --target docker` builds it)")
    made: list[str] = []

    def run(port: int, stack: str) -> str:
        name = f"strata-test-ports-{uuid.uuid4().hex[:10]}"
        done = _docker("create", "--name", name, "--label", f"strata.stack={stack}", "-p", f"127.0.0.1:{port}:9",
                       BASE_IMAGE, "true")
        assert done.returncode == 0, done.stderr
        made.append(name)
        return name

    yield run
    for name in made:
        _docker("rm", "-f", name)


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    (tmp_path / "cdktf.json").write_text("{}")
    return write_plain_stack(tmp_path, f"ports-{uuid.uuid4().hex[:8]}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fix_port(stack_file: Path, agent: str, port: int) -> None:
    text = stack_file.read_text()
    marker = f'    - name: "{agent}"\n'
    stack_file.write_text(text.replace(marker, f"{marker}      port: {port}\n"))


def test_an_agent_without_a_port_skips_one_another_stacks_container_publishes(plain: Path, publish) -> None:
    loaded = load_stack(plain)
    own = loaded.stack.agent("source").port
    publish(own, "some-other-stack")
    ports = plan_host_ports(configured_target(loaded, "docker"), loaded, teardown=False)
    others = {p.port for p in engine_ports() if p.stack != loaded.stack.name}
    assert ports["source"] != own
    assert not {ports["source"], ports["plus_one"]} & others
    assert ports["source"] != ports["plus_one"]


def test_a_fixed_port_another_stacks_container_holds_is_refused_naming_it(plain: Path, publish) -> None:
    port = _free_port()
    _fix_port(plain, "plus_one", port)
    holder = publish(port, "kb-conduit")
    loaded = load_stack(plain)
    with pytest.raises(SpecError) as caught:
        plan_host_ports(configured_target(loaded, "docker"), loaded, teardown=False)
    assert [d.format().split(": ", 1)[1] for d in caught.value.diagnostics] == [
        f"stack.agents[1].port: host port {port} of agent 'plus_one' (the stack file) is already published by "
        f"container '{holder}' (stack 'kb-conduit'); destroy that stack, or leave 'port' unset so that Strata "
        "picks a free one"
    ]


def test_a_fixed_port_the_same_stacks_container_holds_is_its_own(plain: Path, publish) -> None:
    port = _free_port()
    _fix_port(plain, "plus_one", port)
    loaded = load_stack(plain)
    publish(port, loaded.stack.name)
    assert plan_host_ports(configured_target(loaded, "docker"), loaded, teardown=False)["plus_one"] == port


def test_the_ports_of_the_last_deploy_are_kept(plain: Path, publish) -> None:
    loaded = load_stack(plain)
    kept = _free_port()
    path = state_file(loaded.root, f"{loaded.stack.name}-docker")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 4, "outputs": {
        "source_url": {"value": f"http://127.0.0.1:{kept}", "type": "string"}}}))
    target = configured_target(loaded, "docker")
    assert plan_host_ports(target, loaded, teardown=False)["source"] == kept
    # A destroy asks the engine nothing: what the state says, the stack's own port for the rest.
    assert plan_host_ports(target, loaded, teardown=True) == {"source": kept}


def test_synthesis_without_a_deploy_keeps_the_stacks_own_ports(plain: Path) -> None:
    loaded = load_stack(plain)
    target = configured_target(loaded, "docker")
    assert target.host_ports == {}
    assert {a.name: target.host_port(a.name, a.port) for a in loaded.stack.agent_specs} == {
        "source": 2718, "plus_one": 2719}
