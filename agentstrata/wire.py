"""The wire contract between the runtime (``strata serve``) and every target that runs it.

A target (local processes, Docker containers, systemd units, Kubernetes pods...) starts an agent
with :func:`serve_args`, gives it the environment named here, puts its files at the paths named
here (in an image) and probes the paths named here. The runtime reads the same names. Nothing
else in the project spells any of them out: a test checks that each is defined only here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

# -- environment the runtime reads -----------------------------------------------------------------

#: The directory an agent persists its last good outputs in.
STATE_DIR_ENV = "STRATA_STATE_DIR"
#: The KB Conduit directory (the layer-0 agent and ``file:`` sources under it read it).
KB_ROOT_ENV = "KB_CONDUIT_ROOT"
#: How versions propagate between agents (a name from the transport registry; default ``http``).
TRANSPORT_ENV = "STRATA_TRANSPORT"
#: The transport's own address (``--transport-url``), e.g. the Redis server of the ``redis`` transport.
TRANSPORT_URL_ENV = "STRATA_TRANSPORT_URL"
#: The older name of :data:`TRANSPORT_URL_ENV`, from when Redis was the only transport with an address.
REDIS_URL_ENV = "STRATA_REDIS_URL"
#: The token that guards the marimo UI in edit mode.
EDIT_TOKEN_ENV = "STRATA_EDIT_TOKEN"
LOG_LEVEL_ENV = "STRATA_LOG_LEVEL"
OUTPUTS_ONLY_ENV = "STRATA_OUTPUTS_ONLY"
DEBOUNCE_ENV = "STRATA_DEBOUNCE_MS"

_UPSTREAM_PREFIX = "STRATA_UPSTREAM_"
_UPSTREAM_SUFFIX = "_URL"
_NOT_IN_ENV_NAME = re.compile(r"[^A-Za-z0-9]")


#: The form of :func:`upstream_env_var`'s names, for messages and help.
UPSTREAM_ENV_FORM = f"{_UPSTREAM_PREFIX}<AGENT>{_UPSTREAM_SUFFIX}"


def upstream_env_var(agent: str) -> str:
    """``kb-base`` and ``kb_base`` -> ``STRATA_UPSTREAM_KB_BASE_URL``: where an agent finds an upstream.

    Every character an environment variable name cannot hold becomes ``_``; two agents of one stack
    that map to the same variable are refused by the validator.
    """
    return f"{_UPSTREAM_PREFIX}{_NOT_IN_ENV_NAME.sub('_', agent).upper()}{_UPSTREAM_SUFFIX}"


def is_upstream_env_var(name: str) -> bool:
    """Whether ``name`` is a variable of :func:`upstream_env_var`'s form (no agent may set one itself)."""
    return name.startswith(_UPSTREAM_PREFIX) and name.endswith(_UPSTREAM_SUFFIX)


def upstream_env(urls: Mapping[str, str]) -> dict[str, str]:
    """Upstream agent -> its base URL, as the environment variables the runtime reads."""
    return {upstream_env_var(agent): url for agent, url in urls.items()}


#: What a target sets for every agent and an agent's own ``env`` may not redefine.
RESERVED_ENV: tuple[str, ...] = (STATE_DIR_ENV, KB_ROOT_ENV)

# -- paths inside the runtime image ----------------------------------------------------------------

#: Where the runtime image keeps an agent's files (its ENTRYPOINT is ``strata serve``).
APP_DIR = PurePosixPath("/app")
STACK_FILE = APP_DIR / "stack.yaml"
AGENTS_DIR = APP_DIR / "agents"
#: Where the KB is mounted, read-only.
KB_DIR = PurePosixPath("/kb-conduit")
#: Where an agent's state volume is mounted (owned by the image's agent user).
STATE_DIR = PurePosixPath("/var/lib/strata")
#: The unprivileged user the runtime image creates and every target runs agents as.
AGENT_UID = 10001


def image_notebook_path(notebook: str) -> PurePosixPath:
    """``agents/debriefer.py`` -> ``/app/agents/debriefer.py``: a notebook's path in the image."""
    return AGENTS_DIR / PurePosixPath(notebook).name


# -- the command line ------------------------------------------------------------------------------

#: The command that hosts one agent; the runtime image's ENTRYPOINT.
SERVE_COMMAND: tuple[str, ...] = ("strata", "serve")


def serve_args(stack_file: str, agent: str, host: str, port: int) -> list[str]:
    """The arguments of :data:`SERVE_COMMAND` that host ``agent`` of ``stack_file`` on ``host:port``."""
    return ["--stack", stack_file, "--agent", agent, "--host", host, "--port", str(port)]


# -- probes ----------------------------------------------------------------------------------------

#: 200 once every input resolved and the first run succeeded: the readiness probe.
READY_PATH = "/ready"
#: 200 while the process serves (degraded or not): the liveness probe.
HEALTH_PATH = "/health"
EVENTS_PATH = "/events"
INTERFACE_PATH = "/interface"
OUTPUTS_PATH = "/outputs"
#: Seconds a probe may take.
PROBE_TIMEOUT_SECONDS = 2


def output_path(name: str) -> str:
    return f"{OUTPUTS_PATH}/{name}"


def ready_probe_command(port: int) -> list[str]:
    """A readiness check run inside the image, which has Python but no curl: exit 0 when ``/ready`` is 200."""
    code = (f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}{READY_PATH}', "
            f"timeout={PROBE_TIMEOUT_SECONDS})")
    return ["python3", "-c", code]


def local_url(port: int, host: str = "127.0.0.1") -> str:
    """The base URL of an agent listening on ``host:port``."""
    return f"http://{host}:{port}"


def env_lines(variables: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[str]:
    """``KEY=value`` lines, sorted: the form container engines and unit files take."""
    items = variables.items() if isinstance(variables, Mapping) else variables
    return sorted(f"{key}={value}" for key, value in items)
