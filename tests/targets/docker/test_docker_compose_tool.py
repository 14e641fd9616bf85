"""Finding the Compose this machine has: the v2 plugin or v1's docker-compose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentstrata.errors import StrataError
from agentstrata.targets.docker.compose_tool import find_compose


def test_finds_an_installed_compose_with_its_version() -> None:
    if shutil.which("docker-compose") is None and shutil.which("docker") is None:
        pytest.skip("neither docker-compose nor docker is installed")
    tool = find_compose()
    assert tool.command in (("docker", "compose"), ("docker-compose",))
    assert tool.version[0].isdigit()


def test_no_compose_on_path_is_an_error_saying_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(StrataError) as raised:
        find_compose({"PATH": str(tmp_path)})
    assert raised.value.exit_code == 1
    assert raised.value.message == (
        "no Docker Compose found (neither `docker compose` nor `docker-compose`); "
        "install Debian's `docker-compose` package: apt-get install docker-compose"
    )
