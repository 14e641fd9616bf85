"""The Docker engine does what a stack needs: ports on 127.0.0.1, names on a bridge network."""

from __future__ import annotations

import subprocess
import time
import urllib.request
import uuid

import pytest

from agentstrata.deploy.engine import ensure_engine
from agentstrata.errors import StrataError


def test_a_running_engine_is_reported_with_its_version(layout, runner, engine):
    assert ensure_engine(layout, runner) == engine
    assert engine[0].isdigit()


def test_an_engine_elsewhere_that_does_not_answer_is_not_started_here(layout, runner, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(StrataError, match="DOCKER_HOST=unix://.*does not answer") as caught:
        ensure_engine(layout, runner)
    assert "What to do" in caught.value.message


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=120).stdout.strip()


def test_containers_publish_on_localhost_and_reach_each_other_by_name(base_image):
    tag = uuid.uuid4().hex[:8]
    network, server, client = f"strata-net-{tag}", f"strata-server-{tag}", f"strata-client-{tag}"
    serve = ["python3", "-m", "http.server", "8000", "--directory", "/etc"]
    _docker("network", "create", network)
    try:
        _docker("run", "-d", "--name", server, "--network", network, "-p", "127.0.0.1::8000", base_image, *serve)
        _docker("run", "-d", "--name", client, "--network", network, base_image, "sleep", "120")
        host_port = _docker("port", server, "8000/tcp").splitlines()[0].rsplit(":", 1)[1]
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{host_port}/hostname", timeout=2) as reply:
                    assert reply.status == 200
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        fetch = f"import urllib.request; print(urllib.request.urlopen('http://{server}:8000/os-release').status)"
        assert _docker("exec", client, "python3", "-c", fetch) == "200"
    finally:
        subprocess.run(["docker", "rm", "-f", server, client], capture_output=True, check=False)
        subprocess.run(["docker", "network", "rm", network], capture_output=True, check=False)
