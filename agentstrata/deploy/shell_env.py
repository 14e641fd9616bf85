"""The shell environment in which plain ``cdktf`` runs on Strata's toolchain (``strata env``).

The same variables ``strata deploy`` gives cdktf (:func:`agentstrata.deploy.cdktf_cli.cdktf_env`),
as ``export`` lines for ``eval``. Nothing is built here: what ``strata setup`` built is used,
else a ``tofu``/``terraform`` on PATH that reaches its registry.
"""

from __future__ import annotations

import shlex
import shutil

from agentstrata.deploy.base_image import BASE_IMAGE, image_exists
from agentstrata.deploy.cdktf_cli import cdktf_env
from agentstrata.deploy.layout import Layout
from agentstrata.deploy.toolchain import TOFU, Toolchain, find_registry_backed_binary
from agentstrata.errors import StrataError
from agentstrata.targets.docker.target import BASE_IMAGE_ENV


def export_lines(layout: Layout) -> list[str]:
    """``export NAME=value`` lines; PATH is prepended to, so that an ``eval`` keeps the rest of it."""
    toolchain = _set_up_toolchain(layout)
    if not (layout.node_bin / "cdktf").is_file():
        raise StrataError(f"the cdktf CLI is not installed in {layout.cdktf_cli}: run `strata setup` first",
                          exit_code=1)
    env = cdktf_env(layout, toolchain, base={"PATH": ""})
    path = env.pop("PATH").rstrip(":")
    if shutil.which("docker") is not None and image_exists(BASE_IMAGE):
        # What `strata deploy` passes the docker target: the base image `strata setup` made with no registry.
        env[BASE_IMAGE_ENV] = BASE_IMAGE
    return [f'export PATH={shlex.quote(path)}:"$PATH"',
            *(f"export {name}={shlex.quote(value)}" for name, value in sorted(env.items()))]


def _set_up_toolchain(layout: Layout) -> Toolchain:
    """The toolchain ``strata setup`` chose: ours when it built one, else a registry-backed one on PATH."""
    built = layout.tools_bin / TOFU.name
    if built.is_file() and layout.tofurc.is_file():
        return Toolchain(binary=built, cli_config=layout.tofurc)
    system = find_registry_backed_binary(exclude=layout.tools_bin)
    if system is not None:
        return Toolchain(binary=system, cli_config=None)
    raise StrataError(f"no OpenTofu is set up in {layout.toolchain} and none on PATH reaches its registry: "
                      "run `strata setup` first", exit_code=1)
