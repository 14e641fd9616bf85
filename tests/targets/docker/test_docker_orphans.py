"""Orphans: what Docker has under a stack's fixed names but the Terraform state does not track."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from agentstrata.targets.docker.orphans import Orphan, find_orphans, remove_orphans
from agentstrata.deploy.synthesized_stack import SynthesizedStack
from agentstrata.errors import StrataError


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A three-file image (sleep and the C library), made with `docker import`: no registry needed."""
    if shutil.which("docker") is None or _docker("info").returncode != 0:
        pytest.skip("no Docker engine answers")
    files = ("/usr/bin/sleep", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2")
    if not all(Path(f).exists() for f in files):
        pytest.skip(f"the image is made of this host's x86_64 glibc files: {', '.join(files)}")
    folder = tmp_path_factory.mktemp("image")
    archive = folder / "rootfs.tar"
    with tarfile.open(archive, "w") as tar:
        for path in files:
            tar.add(Path(path).resolve(), arcname=path.lstrip("/"))
    tag = f"strata-test-sleep:{uuid.uuid4().hex[:8]}"
    assert _docker("import", str(archive), tag).returncode == 0
    yield tag
    _docker("rmi", "-f", tag)


@pytest.fixture
def names():
    """Unique names for this test's objects; whatever is left of them is removed afterwards."""
    suffix = uuid.uuid4().hex[:8]
    made = {"container": f"strata-orphan-test-{suffix}", "network": f"strata-orphan-net-{suffix}"}
    yield made
    _docker("rm", "-f", made["container"])
    _docker("network", "rm", made["network"])


def _stack(tmp_path: Path, names: dict[str, str], state: dict | None) -> SynthesizedStack:
    directory = tmp_path / "cdktf.out" / "stacks" / "s-docker"
    directory.mkdir(parents=True)
    config = {
        "terraform": {"backend": {"local": {"path": "../../../state/s-docker.tfstate"}}},
        "resource": {
            "docker_container": {"agent": {"name": names["container"]}},
            "docker_network": {"network": {"name": names["network"]}},
            "docker_volume": {"agent_state": {"name": "never-looked-at"}},
        },
    }
    (directory / "cdk.tf.json").write_text(json.dumps(config))
    if state is not None:
        (tmp_path / "state").mkdir()
        (tmp_path / "state" / "s-docker.tfstate").write_text(json.dumps(state))
    return SynthesizedStack.read(tmp_path, "s-docker")


def _state(**ids: tuple[str, str]) -> dict:
    resources = [
        {"mode": "managed", "type": kind, "name": kind.split("_")[1],
         "instances": [{"attributes": {"name": name, "id": object_id}}]}
        for kind, (name, object_id) in ids.items()
    ]
    return {"version": 4, "resources": resources}


def test_state_path_resolves_against_the_stack_directory(tmp_path: Path, names) -> None:
    stack = _stack(tmp_path, names, None)
    assert stack.state_path.resolve() == (tmp_path / "state" / "s-docker.tfstate").resolve()


def test_unsynthesized_stack_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StrataError) as raised:
        SynthesizedStack.read(tmp_path, "s-docker")
    assert raised.value.message == (
        f"{tmp_path / 'cdktf.out' / 'stacks' / 's-docker' / 'cdk.tf.json'}: not synthesized; run `strata synth` first"
    )


def test_nothing_in_docker_means_no_orphans(tmp_path: Path, names) -> None:
    assert find_orphans(_stack(tmp_path, names, None)) == []


def test_untracked_container_and_network_are_orphans_and_are_removed(tmp_path: Path, names, image: str) -> None:
    network_id = _docker("network", "create", names["network"]).stdout.strip()
    container_id = _docker("create", "--name", names["container"], "--network", names["network"], image,
                           "/usr/bin/sleep", "60").stdout.strip()
    stack = _stack(tmp_path, names, None)
    orphans = find_orphans(stack)
    assert sorted(orphans, key=lambda o: o.kind) == [
        Orphan("container", names["container"], container_id),
        Orphan("network", names["network"], network_id),
    ]
    remove_orphans(orphans)
    assert find_orphans(stack) == []
    assert _docker("inspect", names["container"]).returncode != 0


def test_tracked_objects_are_not_orphans(tmp_path: Path, names, image: str) -> None:
    network_id = _docker("network", "create", names["network"]).stdout.strip()
    container_id = _docker("create", "--name", names["container"], image, "/usr/bin/sleep", "60").stdout.strip()
    state = _state(docker_container=(names["container"], container_id), docker_network=(names["network"], network_id))
    assert find_orphans(_stack(tmp_path, names, state)) == []


def test_a_container_replaced_behind_the_states_back_is_an_orphan(tmp_path: Path, names, image: str) -> None:
    container_id = _docker("create", "--name", names["container"], image, "/usr/bin/sleep", "60").stdout.strip()
    state = _state(docker_container=(names["container"], "0" * 64))
    assert find_orphans(_stack(tmp_path, names, state)) == [Orphan("container", names["container"], container_id)]


def test_a_name_that_only_contains_the_stacks_name_is_left_alone(tmp_path: Path, names, image: str) -> None:
    other = names["container"] + "-other"
    _docker("create", "--name", other, image, "/usr/bin/sleep", "60")
    try:
        assert find_orphans(_stack(tmp_path, names, None)) == []
    finally:
        _docker("rm", "-f", other)


def test_an_empty_state_file_tracks_nothing(tmp_path: Path, names) -> None:
    # tofu creates the state file empty when it first locks it; a run killed before its first write leaves it so.
    stack = _stack(tmp_path, names, None)
    stack.state_path.parent.mkdir(parents=True)
    stack.state_path.write_text("")
    assert find_orphans(stack) == []
