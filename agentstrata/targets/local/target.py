"""``LocalTarget``: every agent of a stack as a local process, owned by a background supervisor.

State lives under ``<project root>/.strata/local/<stack>/`` so ``status``, ``logs`` and
``destroy`` work from any shell. ``strata export systemd`` writes the same processes as systemd
units.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel

from agentstrata.errors import StrataError
from agentstrata.targets.base.results import AgentEndpoint, DeployResult, DestroyResult, ExportResult, StackStatus
from agentstrata.targets.base.target import Target
from agentstrata.targets.local.settings import LocalDeployment
from agentstrata.workspace import workspace_dir
from agentstrata.wire import KB_ROOT_ENV

if TYPE_CHECKING:
    from rich.console import Console

    from agentstrata.loader import LoadedStack

#: Where the local target keeps each agent's state (the runtime's default state directory).
STATE_ROOT = Path(".strata") / "state"


class LocalTarget(Target):
    """Runs each agent as ``strata serve`` on 127.0.0.1, layer by layer, under a supervisor that applies
    ``auto_restart`` (with backoff) and ``cascade_stop``.

    :param workspace_path: the KB directory (``KB_CONDUIT_ROOT`` of the agents that declare
        ``workspace: read``; the others get none), relative to the project root.
    """

    name: ClassVar[str] = "local"
    settings_model: ClassVar[type[BaseModel]] = LocalDeployment
    exports: ClassVar[dict[str, str]] = {"systemd": "one systemd service unit per agent and a target unit"}
    environment_props: ClassVar[dict[str, str]] = {KB_ROOT_ENV: "workspace_path"}

    def __init__(self, *, workspace_path: str = LocalDeployment().workspace_path) -> None:
        self.workspace_path = workspace_path

    def kb_dir(self, root: Path) -> Path:
        return workspace_dir(self.workspace_path, root)

    def deploy(self, loaded: "LoadedStack", console: "Console", *, ready_timeout: float) -> DeployResult:
        """Start the supervisor (unless it is up) and wait until every agent is ready."""
        from agentstrata.targets.local import control
        from agentstrata.targets.local.progress import LocalProgress

        started = control.start(loaded)
        notes = [] if started else [f"stack {loaded.stack.name} was already up"]
        try:
            with LocalProgress(console) as show:
                state = control.wait_ready(loaded, ready_timeout, show)
        except StrataError as exc:
            if not started:
                raise
            control.stop(loaded)
            logs = control.local_paths(loaded).base / "logs"
            raise StrataError(f"{exc.message}\nstack {loaded.stack.name} was stopped; its logs are in {logs}",
                              exc.exit_code) from None
        agents = [
            AgentEndpoint(a.name, a.layer, a.url, str(a.process.pid) if a.process else "-", "HTTP 200")
            for a in sorted(state.agents.values(), key=lambda a: (a.layer, a.name))
        ]
        return DeployResult(loaded.stack.name, "pid", agents, notes)

    def destroy(self, loaded: "LoadedStack", console: "Console", *, purge: bool) -> DestroyResult:
        """Stop every agent (dependants first) and the supervisor; ``purge`` also removes their state."""
        from agentstrata.targets.local import control

        was_up = control.stop(loaded)
        state = loaded.root / STATE_ROOT / loaded.stack.name
        if purge:
            existed = state.is_dir()
            shutil.rmtree(state, ignore_errors=True)
            return DestroyResult(loaded.stack.name, removed=[str(state)] if existed else [], was_up=was_up)
        return DestroyResult(loaded.stack.name, kept=[str(state)] if state.is_dir() else [], was_up=was_up)

    def status(self, loaded: "LoadedStack") -> StackStatus:
        from agentstrata.targets.local import control

        return control.status(loaded)

    def logs(self, loaded: "LoadedStack", agent: str, *, lines: int, follow: bool) -> Iterator[str]:
        from agentstrata.targets.local import control

        path = control.local_paths(loaded).log_file(agent)
        if not path.is_file():
            raise StrataError(f"no log for {agent!r} yet at {path} (has the stack been up?)")
        if not follow:
            yield control.log_tail(path, lines) + "\n"
            return
        yield from control.follow(path, lines)

    def export(self, loaded: "LoadedStack", fmt: str, out: Path | None) -> ExportResult:
        from agentstrata.targets.local.launcher import strata_command
        from agentstrata.targets.local.systemd import export_systemd, installation_paths

        folder = Path(os.path.abspath(out if out is not None else loaded.root / "systemd"))
        written = export_systemd(loaded, folder, strata_command=strata_command(),
                                 workspace_path=self.kb_dir(loaded.root), install_paths=installation_paths())
        files = [written.target_unit, *written.service_units.values()]
        return ExportResult(files, [f"wrote {folder}/ ({', '.join(f.name for f in files)})"])
