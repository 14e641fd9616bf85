"""Shared, cached pieces of the real deploy toolchain: built once into .strata/, then reused."""

from __future__ import annotations

import os
import shutil

import pytest
from rich.console import Console

from agentstrata.deploy.base_image import BASE_IMAGE, ensure_base_image, image_exists
from agentstrata.deploy.engine import docker_info, ensure_engine
from agentstrata.deploy.layout import Layout, project_layout
from agentstrata.deploy.steps import StepRunner
from agentstrata.deploy.toolchain import Toolchain, build_toolchain
from agentstrata.errors import StrataError
from agentstrata.targets.docker.toolchain import DOCKER_PROVIDER


@pytest.fixture(scope="session")
def layout() -> Layout:
    return project_layout()


@pytest.fixture(scope="session")
def runner(layout: Layout) -> StepRunner:
    return StepRunner(layout.logs, console=Console(stderr=True, width=200))


@pytest.fixture(scope="session")
def toolchain(layout: Layout, runner: StepRunner) -> Toolchain:
    """tofu and the provider mirror built from source (minutes when cold, instant when cached)."""
    if shutil.which("go") is None and not os.path.exists("/usr/local/go/bin/go"):
        pytest.skip("Go is not installed: cannot build OpenTofu and the providers")
    return build_toolchain(layout, runner, (DOCKER_PROVIDER,))


@pytest.fixture(scope="session")
def engine(layout: Layout, runner: StepRunner) -> str:
    """A Docker engine that answers: started here when we are root, else skip."""
    if docker_info().returncode != 0 and os.geteuid() != 0:
        pytest.skip("no Docker engine answers, and starting one needs root")
    try:
        return ensure_engine(layout, runner)
    except StrataError as exc:
        pytest.skip(f"no Docker engine could be started: {exc.message}")


@pytest.fixture(scope="session")
def base_image(layout: Layout, runner: StepRunner, engine: str) -> str:
    if not image_exists(BASE_IMAGE) and os.geteuid() != 0:
        pytest.skip(f"{BASE_IMAGE} does not exist and building it (debootstrap) needs root")
    return ensure_base_image(layout, runner)
