"""How the cluster's binaries are built: several commands in one `go build`, each tool rebuilt only
when its own pins change. Shown on two small modules of our own (no network, seconds to build)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from agentstrata.deploy.layout import Layout
from agentstrata.deploy.steps import StepRunner
from agentstrata.deploy.toolchain import GoTool, build_go_tool, find_go
from agentstrata.errors import StrataError

PAIR = GoTool(name="pair", module_dir="tools/pair", packages=("strata.test/pair/cmd/one", "strata.test/pair/cmd/two"),
              ldflags="-s -w")
SOLO = GoTool(name="solo", module_dir="tools/solo", packages=("strata.test/solo",), ldflags="-s -w")


@pytest.fixture
def go() -> Path:
    try:
        return find_go()
    except StrataError:
        pytest.skip("Go is not installed")


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    for module, mains in (("pair", ["cmd/one", "cmd/two"]), ("solo", ["."])):
        folder = tmp_path / "tools" / module
        folder.mkdir(parents=True)
        (folder / "go.mod").write_text(f"module strata.test/{module}\n\ngo 1.24\n")
        (folder / "go.sum").write_text("")
        for main in mains:
            (folder / main).mkdir(parents=True, exist_ok=True)
            (folder / main / "main.go").write_text(f'package main\n\nfunc main() {{ println("{main}") }}\n')
    return Layout(tmp_path, tmp_path / "toolchain", pins=tmp_path)


def _build_all(layout: Layout, go: Path) -> str:
    screen = io.StringIO()
    runner = StepRunner(layout.logs, console=Console(file=screen, width=200))
    for tool in (PAIR, SOLO):
        build_go_tool(layout, runner, go, tool)
    return screen.getvalue()


def test_several_packages_give_one_binary_each_named_after_the_package(layout, go):
    built = build_go_tool(layout, StepRunner(layout.logs, console=Console(file=io.StringIO())), go, PAIR)
    assert built == (layout.tools_bin / "one", layout.tools_bin / "two")
    assert [subprocess.run([b], capture_output=True, text=True).stderr for b in built] == ["cmd/one\n", "cmd/two\n"]
    assert (layout.logs / "build-pair.log").read_text().count(f"$ {go} build") == 1  # one `go build` for both


def test_one_package_gives_the_binary_named_after_the_tool(layout, go):
    built = build_go_tool(layout, StepRunner(layout.logs, console=Console(file=io.StringIO())), go, SOLO)
    assert built == (layout.tools_bin / "solo",)


def test_a_pin_change_rebuilds_only_the_tool_whose_module_it_touches(layout, go):
    _build_all(layout, go)
    untouched = (layout.tools_bin / "solo").stat().st_mtime_ns
    with (layout.pins / PAIR.module_dir / "go.mod").open("a") as go_mod:
        go_mod.write("// a new pin\n")
    screen = _build_all(layout, go)
    assert "build pair (cached" not in screen
    assert "build solo (cached" in screen
    assert (layout.tools_bin / "solo").stat().st_mtime_ns == untouched
