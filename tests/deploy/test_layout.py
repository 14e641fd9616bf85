"""Where the toolchain is cached (once per machine, keyed by the pins) and where a project's files go."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from agentstrata.deploy.layout import PINS, pins_sha256, project_layout, toolchain_cache
from agentstrata.deploy.steps import StepRunner
from agentstrata.deploy.toolchain import build_go_tool, find_go
from agentstrata.errors import StrataError
from agentstrata.targets.docker.toolchain import DOCKER_PROVIDER


def _project(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "cdktf.json").write_text("{}")
    return folder


def test_the_cache_is_under_xdg_cache_home_keyed_by_the_pins(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert toolchain_cache() == tmp_path / "strata" / "toolchain" / pins_sha256(PINS)[:16]


def test_without_xdg_cache_home_or_with_a_relative_one_the_cache_is_under_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    expected = tmp_path / ".cache" / "strata" / "toolchain" / pins_sha256(PINS)[:16]
    assert toolchain_cache() == expected
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # invalid per the XDG spec: ignored
    assert toolchain_cache() == expected


def test_a_pin_change_gives_another_cache(tmp_path):
    pins = tmp_path / "pins"
    shutil.copytree(PINS, pins)
    before = toolchain_cache(pins)
    with (pins / "tools" / "tofu" / "go.mod").open("a") as go_mod:
        go_mod.write("// another pin\n")
    assert toolchain_cache(pins) != before


def test_the_project_is_the_nearest_ancestor_with_cdktf_json_else_the_folder_itself(tmp_path):
    root = _project(tmp_path / "project")
    (root / "stacks" / "deep").mkdir(parents=True)
    assert project_layout(root / "stacks" / "deep").root == root
    assert project_layout(root / "stacks" / "deep").logs == root / ".strata" / "logs"
    loose = tmp_path / "loose"
    loose.mkdir()
    assert project_layout(loose).root == loose


def test_the_pins_ship_inside_the_package():
    tools = sorted(p.name for p in (PINS / "tools").iterdir())
    assert tools == ["etcd", "kubernetes", "kwok", "terraform-provider-docker", "terraform-provider-kubernetes", "tofu"]
    assert all((PINS / "tools" / tool / name).is_file() for tool in tools for name in ("go.mod", "go.sum"))
    assert (PINS / "package.json").is_file() and (PINS / "package-lock.json").is_file()


def test_two_projects_share_one_toolchain_and_the_second_builds_nothing(monkeypatch, tmp_path):
    try:
        go = find_go()
    except StrataError:
        pytest.skip("Go is not installed: cannot build a tool")
    # Go's own build cache stays where it is (an XDG_CACHE_HOME change would move it): a warm one links in seconds.
    gocache = subprocess.run([go, "env", "GOCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    monkeypatch.setenv("GOCACHE", gocache)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first, second = project_layout(_project(tmp_path / "one")), project_layout(_project(tmp_path / "two"))
    assert first.toolchain == second.toolchain == toolchain_cache()
    tool = DOCKER_PROVIDER.tool

    screen = io.StringIO()
    built = build_go_tool(first, StepRunner(first.logs, console=Console(file=screen, width=200)), go, tool)
    assert f"build {tool.name} (cached" not in screen.getvalue()
    assert built == (toolchain_cache() / "bin" / tool.name,)
    assert (tmp_path / "one" / ".strata" / "logs" / f"build-{tool.name}.log").is_file()  # logs stay per project

    screen = io.StringIO()
    assert build_go_tool(second, StepRunner(second.logs, console=Console(file=screen, width=200)), go, tool) == built
    assert f"build {tool.name} (cached" in screen.getvalue()
    assert os.access(built[0], os.X_OK)
