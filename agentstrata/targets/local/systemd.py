"""The local target as systemd units: the seed's "YAML -> systemd services" step.

One service per agent, ``strata-<stack>-<agent>.service``, running ``strata serve`` on 127.0.0.1
as the local target does, and one ``strata-<stack>.target`` that wants them all. The units say
what the supervisor does in code:

- order: ``After=`` the agents of :func:`start_after` (upstreams, and with ``parallel_init:
  false`` the agent declared before in the same layer); an agent is started once
  ``ExecStartPost=`` has seen it answer ``/ready``;
- requirements: ``Wants=`` the upstreams, or with ``cascade_stop`` ``BindsTo=`` them, so that an
  agent stops when one stops; every agent is ``PartOf=`` the stack's target;
- ``auto_restart``: ``Restart=on-failure`` after ``RestartSec=``, within a start limit. systemd
  252 has no growing delay (``RestartSteps=`` came in 254), so the backoff is a fixed delay and
  a crash loop ends in the failed state;
- state under ``StateDirectory=``, HOME (marimo's config and caches) under ``CacheDirectory=``;
  the project, the KB (for an agent that declares ``workspace: read``) and the Python installation
  bound read-only, so that they stay visible when they live under /home or /root, which
  ``ProtectHome=tmpfs`` hides;
- a sandbox that ``systemd-analyze security`` rates 1.2 ("OK"); what it leaves open is what an
  agent needs: TCP, and the network beyond the host for notebooks that call other services.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import agentstrata
from agentstrata import wire
from agentstrata.errors import StrataError
from agentstrata.loader import LoadedStack
from agentstrata.schema import AgentSpec, StackSpec, dns_label
from agentstrata.targets.base.start_order import start_after, upstreams
from agentstrata.targets.local import systemd_ready
from agentstrata.targets.local.systemd_syntax import (
    COMMENT,
    Setting,
    bind_path,
    command_line,
    path_value,
    unit_text,
    word,
)
from agentstrata.workspace import uses_workspace

LISTEN_HOST = "127.0.0.1"
#: Where ``StateDirectory=`` and ``CacheDirectory=`` of a system service live.
STATE_ROOT = PurePosixPath("/var/lib")
CACHE_ROOT = PurePosixPath("/var/cache")
#: How long an agent may take to answer /ready; the start as a whole gets a margin on top.
READY_TIMEOUT_SECONDS = 120
START_TIMEOUT_SECONDS = READY_TIMEOUT_SECONDS + 30
#: What an agent gets to stop (and flush its state) before it is killed.
STOP_TIMEOUT_SECONDS = 10
RESTART_DELAY_SECONDS = 5
#: More starts than this within the interval leave the unit failed: a crash loop ends.
START_LIMIT_BURST = 10
START_LIMIT_INTERVAL_SECONDS = 300
#: Every protection ``systemd-analyze security`` counts, but those an agent needs (the comment says which).
SANDBOX: tuple[Setting, ...] = (
    (COMMENT, "The sandbox. Left open for notebooks: the network beyond this host (no IPAddressDeny=),"),
    (COMMENT, "/proc's system files (no ProcSubset=pid), writable executable memory for ctypes/cffi"),
    (COMMENT, "callbacks (no MemoryDenyWriteExecute=) and the scheduling calls of @resources."),
    ("DynamicUser", "yes"),
    ("NoNewPrivileges", "yes"),
    ("CapabilityBoundingSet", ""),
    ("AmbientCapabilities", ""),
    ("ProtectSystem", "strict"),
    ("ProtectHome", "tmpfs"),
    ("PrivateTmp", "yes"),
    ("PrivateDevices", "yes"),
    ("DevicePolicy", "closed"),
    ("PrivateUsers", "yes"),
    ("PrivateMounts", "yes"),
    ("ProtectClock", "yes"),
    ("ProtectHostname", "yes"),
    ("ProtectKernelTunables", "yes"),
    ("ProtectKernelModules", "yes"),
    ("ProtectKernelLogs", "yes"),
    ("ProtectControlGroups", "yes"),
    ("ProtectProc", "invisible"),
    ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
    ("RestrictNamespaces", "yes"),
    ("RestrictRealtime", "yes"),
    ("RestrictSUIDSGID", "yes"),
    ("LockPersonality", "yes"),
    ("SystemCallArchitectures", "native"),
    ("SystemCallFilter", "@system-service"),
    ("SystemCallFilter", "~@privileged"),
    ("SystemCallErrorNumber", "EPERM"),
    ("UMask", "0077"),
)


@dataclass(frozen=True)
class SystemdExport:
    """What an export wrote: the stack's target unit and, by agent, its service unit."""

    target_unit: Path
    service_units: dict[str, Path]


def stack_unit_name(stack: StackSpec) -> str:
    """``kb-conduit`` -> ``strata-kb-conduit.target``."""
    return f"strata-{dns_label(stack.name)}.target"


def agent_unit_name(stack: StackSpec, agent: str) -> str:
    """``kb-conduit``, ``kb_base`` -> ``strata-kb-conduit-kb-base.service``."""
    return f"strata-{dns_label(stack.name)}-{dns_label(agent)}.service"


def installation_paths() -> list[Path]:
    """Where this Python and Strata live (the venv, the interpreter it was made from, and for an
    editable install the source tree): what a unit must see to run ``strata`` as this process does."""
    return [Path(sys.prefix), Path(sys.base_prefix), Path(agentstrata.__file__).resolve().parents[1]]


def export_systemd(loaded: LoadedStack, out_dir: Path, *, strata_command: Sequence[str], workspace_path: Path,
                   install_paths: Sequence[Path]) -> SystemdExport:
    """Write the units of ``loaded`` into ``out_dir``.

    ``strata_command`` runs the strata CLI and starts with the absolute path of its Python
    interpreter (the readiness wait runs on it too); ``workspace_path`` is the KB directory;
    ``install_paths`` are where that Python and Strata are installed (:func:`installation_paths`).
    """
    stack = loaded.stack
    units = {agent_unit_name(stack, a.name): agent_unit(loaded, a, strata_command=strata_command,
                                                        workspace_path=workspace_path, install_paths=install_paths)
             for a in _in_layer_order(stack)}
    target_name = stack_unit_name(stack)
    units[target_name] = target_unit(loaded)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, text in units.items():
            (out_dir / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StrataError(f"cannot write {exc.filename}: {exc.strerror}", exit_code=1) from None
    return SystemdExport(out_dir / target_name,
                         {a.name: out_dir / agent_unit_name(stack, a.name) for a in stack.agent_specs})


def target_unit(loaded: LoadedStack) -> str:
    """The stack's target: starting it starts every agent, stopping it stops them (they are ``PartOf=`` it)."""
    stack = loaded.stack
    name = stack_unit_name(stack)
    header = (f"# Generated by `strata export systemd` from {_shown(loaded)}: the agents of stack {stack.name}.\n"
              f"# Install: copy the strata-{dns_label(stack.name)}* units into /etc/systemd/system/, then\n"
              f"#   systemctl daemon-reload && systemctl enable --now {name}\n")
    agents = [agent_unit_name(stack, a.name) for a in _in_layer_order(stack)]
    return unit_text(header, [
        ("Unit", [("Description", f"Strata stack {stack.name} ({len(agents)} agents)"),
                  ("Wants", " ".join(agents))]),
        ("Install", [("WantedBy", "multi-user.target")]),
    ])


def agent_unit(loaded: LoadedStack, agent: AgentSpec, *, strata_command: Sequence[str], workspace_path: Path,
               install_paths: Sequence[Path]) -> str:
    """The service unit of one agent."""
    stack = loaded.stack
    policies = stack.policies
    port = agent.port
    assert port is not None  # the stack assigns every port when it loads
    serve = [*strata_command, *wire.SERVE_COMMAND[1:],
             *wire.serve_args(str(loaded.path.resolve()), agent.name, LISTEN_HOST, port)]
    ready = [strata_command[0], "-m", systemd_ready.__name__, wire.local_url(port, LISTEN_HOST),
             str(READY_TIMEOUT_SECONDS)]
    unit: list[Setting] = [("Description", f"Strata agent {agent.name} (layer {agent.layer}) of stack {stack.name}"),
                           ("PartOf", stack_unit_name(stack))]
    reads = [agent_unit_name(stack, name) for name in upstreams(agent)]
    if reads:
        unit.append(("BindsTo" if policies.cascade_stop else "Wants", " ".join(reads)))
    after = [agent_unit_name(stack, name) for name in start_after(stack)[agent.name]]
    if after:
        unit.append(("After", " ".join(after)))
    service: list[Setting] = [
        ("Type", "exec"),
        ("WorkingDirectory", path_value(loaded.root)),
        ("ExecStart", command_line(serve)),
        ("ExecStartPost", command_line(ready)),
        ("TimeoutStartSec", str(START_TIMEOUT_SECONDS)),
        ("TimeoutStopSec", str(STOP_TIMEOUT_SECONDS)),
    ]
    if policies.auto_restart:
        unit += [("StartLimitIntervalSec", str(START_LIMIT_INTERVAL_SECONDS)),
                 ("StartLimitBurst", str(START_LIMIT_BURST))]
        service += [("Restart", "on-failure"), ("RestartSec", str(RESTART_DELAY_SECONDS))]
    else:
        service.append(("Restart", "no"))
    directory = f"strata/{dns_label(stack.name)}/{dns_label(agent.name)}"
    service += [("SyslogIdentifier", agent_unit_name(stack, agent.name).removesuffix(".service")),
                ("StateDirectory", directory),
                ("CacheDirectory", directory)]
    service += [("Environment", word(line)) for line in wire.env_lines(_environment(
        loaded, agent, workspace_path, state_dir=STATE_ROOT / directory, home=CACHE_ROOT / directory))]
    service += [("BindReadOnlyPaths", bind_path(path))
                for path in _outermost([loaded.root, *([workspace_path] if uses_workspace(agent) else []),
                                        *install_paths])]
    service += _limits(agent)
    service += SANDBOX
    header = f"# Generated by `strata export systemd` from {_shown(loaded)}: agent {agent.name} of stack {stack.name}.\n"
    return unit_text(header, [("Unit", unit), ("Service", service)])


def _environment(loaded: LoadedStack, agent: AgentSpec, workspace_path: Path, *, state_dir: PurePosixPath,
                 home: PurePosixPath) -> dict[str, str]:
    stack = loaded.stack
    env = {
        wire.STATE_DIR_ENV: str(state_dir),
        "HOME": str(home),
        # Lines reach the journal as they are written; the project is read-only, so no .pyc.
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if uses_workspace(agent):
        env[wire.KB_ROOT_ENV] = str(workspace_path)
    ports = {a.name: a.port for a in stack.agent_specs}
    env.update(wire.upstream_env({name: wire.local_url(ports[name], LISTEN_HOST)  # type: ignore[arg-type]
                                  for name in upstreams(agent)}))
    env.update(agent.env)
    return env


def _limits(agent: AgentSpec) -> list[Setting]:
    """``resources`` as cgroup limits; like the Docker target, no swap beyond the memory limit."""
    limits: list[Setting] = []
    memory = agent.resources.memory_bytes
    if memory is not None:
        limits += [("MemoryMax", str(memory)), ("MemorySwapMax", "0")]
    cores = agent.resources.cpu_cores
    if cores is not None:
        limits.append(("CPUQuota", f"{cores * 100:g}%"))
    return limits


def _outermost(paths: Sequence[Path]) -> list[Path]:
    """``paths`` made absolute, without repeats and without those inside another of them, in order."""
    absolute = list(dict.fromkeys(Path(p).absolute() for p in paths))
    return [p for p in absolute if not any(p != other and p.is_relative_to(other) for other in absolute)]


def _in_layer_order(stack: StackSpec) -> list[AgentSpec]:
    return sorted(stack.agent_specs, key=lambda a: a.layer)


def _shown(loaded: LoadedStack) -> str:
    path = loaded.path.resolve()
    return str(path.relative_to(loaded.root)) if path.is_relative_to(loaded.root) else str(path)
