"""``strata setup``: everything a deploy needs on this machine, each part skipped when done."""

from __future__ import annotations

import time

from agentstrata.cli.app import app, err
from agentstrata.deploy.layout import checkout_layout
from agentstrata.deploy.prepare import prepare
from agentstrata.deploy.steps import StepRunner


@app.command("setup")
def setup_command() -> None:
    """Set up the deploy toolchain: Docker engine, OpenTofu and providers, cdktf CLI, images."""
    start = time.monotonic()
    layout = checkout_layout()
    prepare(layout, StepRunner(layout.logs, console=err))
    err.print(f"setup done in {time.monotonic() - start:.1f} s (logs in {layout.logs})", highlight=False)
