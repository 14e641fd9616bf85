"""The supervisor's process: ``python -m agentstrata.targets.local.supervise_main STACK`` (started by `strata up`).

This is the supervisor's own program edge: the environment (``KB_CONDUIT_ROOT``) is read here,
into the local target's props, exactly as the CLI does for `strata up`.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from agentstrata.errors import StrataError


def main(argv: list[str]) -> int:
    from agentstrata.loader import load_stack
    from agentstrata.targets import configured_target
    from agentstrata.targets.local.supervisor import Supervisor
    from agentstrata.targets.local.target import LocalTarget

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s supervisor: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per readiness probe is noise
    if len(argv) != 1:
        print("usage: python -m agentstrata.targets.local.supervise_main STACK", file=sys.stderr)
        return 2
    try:
        loaded = load_stack(Path(argv[0]))
        target = configured_target(loaded, LocalTarget.name, **LocalTarget.props_from_environment(os.environ))
        assert isinstance(target, LocalTarget)
        Supervisor(loaded, target.kb_dir(loaded.root)).run()
    except StrataError as exc:
        print(exc.message, file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
