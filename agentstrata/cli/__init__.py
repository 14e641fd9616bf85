"""Entry point of the ``strata`` command: registers the commands, turns failures into messages."""

from __future__ import annotations

import sys

from agentstrata.cli.app import app, err
from agentstrata.errors import StrataError

# Each module registers its commands on `app` when imported.
from agentstrata.cli import schema_cmd  # noqa: E402,F401
from agentstrata.cli import serve_cmd  # noqa: E402,F401
from agentstrata.cli import status_cmd  # noqa: E402,F401
from agentstrata.cli import validate_cmd  # noqa: E402,F401
from agentstrata.cli import synth_cmd  # noqa: E402,F401
from agentstrata.cli import graph_cmd  # noqa: E402,F401
from agentstrata.cli import setup_cmd  # noqa: E402,F401
from agentstrata.cli import export_cmd  # noqa: E402,F401
from agentstrata.cli import deploy_cmd  # noqa: E402,F401
from agentstrata.cli import cluster_cmd  # noqa: E402,F401
from agentstrata.cli import init_cmd  # noqa: E402,F401
from agentstrata.cli import env_cmd  # noqa: E402,F401


def main() -> None:
    """Run the CLI; a user sees a message and an exit code, never a traceback."""
    import os

    from agentstrata.constructs.node_warnings import silence_node_warnings

    silence_node_warnings(os.environ)  # this program's edge: before `strata synth`/`deploy` start jsii's kernel
    try:
        app()  # standalone: Typer itself reports usage errors (exit 2)
    except StrataError as exc:
        err.print(exc.message, markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence for users
        err.print(f"strata: internal error: {type(exc).__name__}: {exc}", markup=False, highlight=False)
        err.print("Re-run with STRATA_DEBUG=1 for the traceback, and please report it.", markup=False)
        if _debug():
            raise
        sys.exit(70)


def _debug() -> bool:
    import os

    return os.environ.get("STRATA_DEBUG") == "1"
