"""The ``strata`` Typer application that every command module registers on."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="strata",
    help="Strata: layered stacks of marimo notebooks, deployed as infrastructure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Results go to stdout; progress and errors to stderr, so `strata X > file` stays clean.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@app.callback()
def _root() -> None:
    """Strata: layered stacks of marimo notebooks, deployed as infrastructure."""
