"""Everything a deploy needs on this machine, in order, each part skipped when already done.

`strata setup` runs it on its own; a deploy runs it first and uses what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agentstrata.deploy.base_image import ensure_base_image
from agentstrata.deploy.cdktf_cli import cdktf_env, cdktf_flags, ensure_cdktf_cli
from agentstrata.deploy.engine import ensure_engine
from agentstrata.deploy.layout import Layout
from agentstrata.deploy.steps import StepRunner
from agentstrata.deploy.toolchain import Toolchain, ensure_toolchain
from agentstrata.deploy.wheelhouse import BuildContext, ensure_runtime_context


@dataclass(frozen=True)
class Prepared:
    """What the deploy uses: the CLI, its environment and flags, the base image, the build context."""

    layout: Layout
    engine_version: str
    toolchain: Toolchain
    cdktf: Path
    base_image: str
    runtime_context: BuildContext

    def cdktf_env(self) -> dict[str, str]:
        return cdktf_env(self.layout, self.toolchain)

    def cdktf_flags(self) -> list[str]:
        return cdktf_flags(self.toolchain)


def prepare(layout: Layout, runner: StepRunner) -> Prepared:
    """Engine first (the images need it), then the toolchain, cdktf, base image, build context."""
    engine_version = ensure_engine(layout, runner)
    toolchain = ensure_toolchain(layout, runner)
    cdktf = ensure_cdktf_cli(layout, runner)
    base_image = ensure_base_image(layout, runner)
    context = ensure_runtime_context(layout, runner, base_image)
    return Prepared(layout, engine_version, toolchain, cdktf, base_image, context)
