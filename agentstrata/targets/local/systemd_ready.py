"""``python -m agentstrata.targets.local.systemd_ready URL SECONDS``: an agent unit's ``ExecStartPost=``.

The runtime does not speak sd_notify, so this is how systemd learns that an agent is ready: the
unit stays "activating" until this exits 0, once ``URL`` answers ``/ready``, and the units
ordered ``After=`` it start only then. After ``SECONDS`` it gives up with the reason (exit 1),
which fails the start.
"""

from __future__ import annotations

import argparse
import sys
import time

import httpx

from agentstrata.targets.local.probe import probe_ready

POLL_SECONDS = 0.5


def wait_ready(url: str, seconds: float) -> str | None:
    """None once the agent at ``url`` is ready; if it is not after ``seconds``, why not."""
    deadline = time.monotonic() + seconds
    with httpx.Client(trust_env=False) as client:
        while True:
            ready, why = probe_ready(client, url)
            if ready:
                return None
            if time.monotonic() >= deadline:
                return why
            time.sleep(POLL_SECONDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="systemd_ready", description="Wait until an agent answers /ready.")
    parser.add_argument("url", help="the agent's base URL, e.g. http://127.0.0.1:2717")
    parser.add_argument("seconds", type=float, help="how long to wait before giving up")
    args = parser.parse_args(argv)
    why = wait_ready(args.url, args.seconds)
    if why is None:
        return 0
    print(f"{args.url}: not ready after {args.seconds:g} s: {why}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
