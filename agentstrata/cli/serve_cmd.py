"""``strata serve``: host one agent (from a stack, an agent file, or a lone notebook) over HTTP."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import urlsplit

import typer

from agentstrata.cli.app import app
from agentstrata.errors import StrataError
from agentstrata.runtime.connection_limits import DEFAULT_HEADER_TIMEOUT_SECONDS, DEFAULT_MAX_CONNECTIONS
from agentstrata.runtime.transports import DEFAULT_TRANSPORT, TRANSPORTS, transport_for
from agentstrata.wire import (
    DEBOUNCE_ENV,
    LOG_LEVEL_ENV,
    OUTPUTS_ONLY_ENV,
    REDIS_URL_ENV,
    TRANSPORT_ENV,
    TRANSPORT_URL_ENV,
)

if TYPE_CHECKING:
    from agentstrata.runtime.host_config import HostConfig

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]i?[bB]?|[bB])?\s*$")
_FACTORS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "ki": 2**10, "mi": 2**20, "gi": 2**30}


@app.command("serve")
def serve_command(
    target: Optional[Path] = typer.Argument(
        None, help="A lone marimo notebook (.py) or an agent file (.yaml); or use --stack/--agent."),
    stack: Optional[Path] = typer.Option(None, "--stack", help="Stack file holding the agent."),
    agent: Optional[str] = typer.Option(None, "--agent", help="Name of the agent in the stack."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: Optional[int] = typer.Option(None, "--port", help="Port (default: the agent's port in the stack; 2718)."),
    inputs: list[str] = typer.Option([], "--input", help="Lone notebook: an input value, name=JSON (repeatable)."),
    outputs: list[str] = typer.Option([], "--output", help="Lone notebook: an output variable (repeatable; "
                                                          "default: its public JSON-encodable definitions)."),
    transport: Optional[str] = typer.Option(
        None, "--transport", help=f"How versions travel between agents: {' or '.join(TRANSPORTS)} "
                                  f"(env {TRANSPORT_ENV}; default {DEFAULT_TRANSPORT})."),
    transport_url: Optional[str] = typer.Option(
        None, "--transport-url", "--redis-url",
        help=f"The transport's own address, e.g. the Redis server's URL (env {TRANSPORT_URL_ENV} or {REDIS_URL_ENV})."),
    max_payload: str = typer.Option("10MB", "--max-payload",
                                    help="Largest output or upstream payload: 10MB, 512KiB..."),
    debounce_ms: Optional[float] = typer.Option(
        None, "--debounce-ms", help=f"Input changes this close together (ms) make one run (env {DEBOUNCE_ENV}; "
                                    "default 10)."),
    upstream_wait: float = typer.Option(10.0, "--upstream-wait", help="Longest a run waits for busy upstreams (s)."),
    session_ttl: int = typer.Option(120, "--session-ttl", help="Seconds a closed UI session's kernel is kept."),
    no_ui: bool = typer.Option(False, "--no-ui", help="Serve the JSON API only, without the marimo UI at /."),
    outputs_only: bool = typer.Option(
        False, "--outputs-only", envvar=OUTPUTS_ONLY_ENV,
        help=f"Run only the cells the outputs need, not display or side-effect cells (env {OUTPUTS_ONLY_ENV}=1)."),
    log_level: str = typer.Option("info", "--log-level", envvar=LOG_LEVEL_ENV, help="debug, info, warning."),
    header_timeout: float = typer.Option(
        DEFAULT_HEADER_TIMEOUT_SECONDS, "--header-timeout", min=0.1,
        help="Seconds a connection has to send a complete request head before it is closed."),
    max_connections: int = typer.Option(
        DEFAULT_MAX_CONNECTIONS, "--max-connections", min=1,
        help="Most connections open at once (event streams and websockets included); more are answered 503."),
    allow_origins: list[str] = typer.Option(
        [], "--allow-origin", help="An origin (https://host[:port]) besides the agent's own whose pages may use "
                                   "its marimo UI (repeatable; e.g. a reverse proxy's)."),
) -> None:
    """Host one agent: compute its outputs from its inputs, and serve them with its marimo UI."""
    from agentstrata.runtime.host_config import HostOptions
    from agentstrata.runtime.server import serve

    _configure_logging(log_level)
    config = _host_config(target, stack, agent, port, inputs, outputs)
    config.options = HostOptions(
        max_payload=parse_size(max_payload, "--max-payload"),
        debounce=max(debounce_ms if debounce_ms is not None else _env_number(DEBOUNCE_ENV, 10.0), 0.0) / 1000,
        transport=(transport or os.environ.get(TRANSPORT_ENV) or DEFAULT_TRANSPORT).lower(),
        transport_url=transport_url or os.environ.get(TRANSPORT_URL_ENV) or os.environ.get(REDIS_URL_ENV),
        session_ttl=session_ttl,
        upstream_wait=max(upstream_wait, 0.0),
        ui=not no_ui,
        outputs_only=outputs_only,
        header_timeout=header_timeout,
        max_connections=max_connections,
        allowed_origins=tuple(_origin(o) for o in allow_origins),
    )
    transport_for(config.options)  # an unknown transport, or one without its address, fails before the port is taken
    serve(config, host=host, port=port or config.port)


def _host_config(target: Path | None, stack: Path | None, agent: str | None, port: int | None,
                 inputs: list[str], outputs: list[str]) -> "HostConfig":
    from agentstrata.loader import LoadedStack, load
    from agentstrata.runtime.host_config import config_for_agent_file, config_for_notebook, config_for_stack_agent

    if (target is None) == (stack is None):
        raise StrataError("give either a notebook/agent file, or --stack STACK.yaml --agent NAME")
    if target is not None and target.suffix == ".py":
        if agent:
            raise StrataError("--agent needs --stack")
        return config_for_notebook(target, port or 2718, dict(_parse_input(i) for i in inputs), outputs)
    if inputs or outputs:
        raise StrataError("--input/--output are for a lone notebook; a stack or agent file declares its interface")
    loaded = load(stack or target)  # type: ignore[arg-type]
    if isinstance(loaded, LoadedStack):
        if not agent:
            names = ", ".join(a.name for a in loaded.stack.agent_specs)
            raise StrataError(f"{stack or target}: which agent? pass --agent NAME (agents: {names})")
        config = config_for_stack_agent(loaded, agent)
        spec_env = loaded.stack.agent(agent).env  # type: ignore[union-attr]
    else:
        if agent and agent != loaded.agent.name:
            raise StrataError(f"{target}: defines agent {loaded.agent.name!r}, not {agent!r}")
        config = config_for_agent_file(loaded)
        spec_env = loaded.agent.env
    for key, value in spec_env.items():
        os.environ.setdefault(key, value)  # the process's own environment wins
    return config


def _parse_input(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.isidentifier():
        raise StrataError(f"--input {text!r}: expected name=JSON, with name a Python identifier")
    try:
        return name, json.loads(raw)
    except ValueError as exc:
        raise StrataError(f"--input {name}: invalid JSON: {exc}") from None


def _origin(text: str) -> str:
    """A web origin as browsers send it: scheme, host and port only."""
    try:
        parts = urlsplit(text)
        is_origin = (parts.scheme in ("http", "https") and bool(parts.hostname) and parts.path in ("", "/")
                     and not (parts.query or parts.fragment or parts.username) and parts.port != 0)
    except ValueError:  # an unbalanced IPv6 bracket, a port that is not a number...
        is_origin = False
    if not is_origin:
        raise StrataError(f"--allow-origin {text!r}: expected an origin such as https://notebooks.example.com:8443")
    return text.rstrip("/")


def parse_size(text: str, flag: str) -> int:
    """``10MB`` -> 10_000_000, ``512KiB`` -> 524_288, ``1024`` -> 1024."""
    match = _SIZE.match(text)
    if not match:
        raise StrataError(f"{flag}: expected a size such as 10MB, 512KiB or 1048576, got {text!r}")
    unit = (match.group(2) or "").lower()
    return int(float(match.group(1)) * _FACTORS["" if unit == "b" else unit.removesuffix("b")])


def _env_number(variable: str, default: float) -> float:
    text = os.environ.get(variable)
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise StrataError(f"{variable}: expected a number, got {text!r}") from None


def _configure_logging(level: str) -> None:
    numeric = getattr(logging, level.upper(), None)
    if not isinstance(numeric, int):
        raise StrataError(f"--log-level: expected debug, info, warning or error, got {level!r}")
    logging.basicConfig(level=numeric, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("marimo", "httpx", "watchfiles"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
