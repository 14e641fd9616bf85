"""``strata setup``: everything the targets need on this machine, each part skipped when done."""

from __future__ import annotations

import time
from typing import Optional

import typer

from agentstrata.cli.app import app, err
from agentstrata.errors import StrataError
from agentstrata.targets import target_class, target_names


@app.command("setup")
def setup_command(
    target: Optional[list[str]] = typer.Option(None, "--target", help="Only this target's toolchain (repeatable)."),
) -> None:
    """Set up the deploy toolchain of every target: Docker engine, OpenTofu and providers, cdktf CLI, images."""
    start = time.monotonic()
    for name in target or target_names():
        chosen = target_class(name)
        if chosen.unavailable is not None:
            if target:
                raise StrataError(f"the {name} target cannot be set up: {chosen.unavailable}", 1)
            err.print(f"{name}: skipped ({chosen.unavailable})", markup=False, highlight=False)
            continue
        chosen.setup_toolchain(err)
    err.print(f"setup done in {time.monotonic() - start:.1f} s", highlight=False)
