"""Wait, within a bound, until every deployed agent answers ``/ready`` on its published URL."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Mapping

import httpx

from agentstrata.errors import StrataError
from agentstrata.wire import READY_PATH


@dataclass
class Readiness:
    """The last answer of one agent's ``/ready``: a status code, or why there was none."""

    url: str
    status: int | None = None
    error: str = "not asked yet"

    @property
    def ready(self) -> bool:
        return self.status == 200

    def describe(self) -> str:
        if self.status is not None:
            return f"HTTP {self.status}"
        return self.error


def probe(client: httpx.Client, url: str) -> Readiness:
    """One GET of ``<url>/ready``."""
    target = url.rstrip("/") + READY_PATH
    try:
        response = client.get(target)
    except httpx.HTTPError as exc:
        return Readiness(url, None, type(exc).__name__)
    return Readiness(url, response.status_code, "")


def wait_until_ready(
    urls: Mapping[str, str],
    timeout: float,
    on_progress: Callable[[dict[str, Readiness], float], None] = lambda states, waited: None,
    poll: float = 0.5,
    hint: str = "",
) -> dict[str, Readiness]:
    """Poll every agent until all answer 200; after ``timeout`` seconds, an error naming the laggards."""
    states = {name: Readiness(url) for name, url in urls.items()}
    started = time.monotonic()
    with httpx.Client(timeout=min(5.0, max(poll, 1.0))) as client:
        while True:
            for name, state in states.items():
                if not state.ready:
                    states[name] = probe(client, state.url)
            waited = time.monotonic() - started
            on_progress(states, waited)
            if all(s.ready for s in states.values()):
                return states
            if waited >= timeout:
                laggards = ", ".join(f"{n} ({s.url}{READY_PATH}: {s.describe()})" for n, s in states.items() if not s.ready)
                raise StrataError(
                    f"not ready after {timeout:.0f} s: {laggards}." + (f"\n{hint}" if hint else ""),
                    exit_code=1,
                )
            time.sleep(poll)
