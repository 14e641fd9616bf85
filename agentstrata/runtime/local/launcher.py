"""Starting the processes of the local target: the supervisor (detached) and each agent's host.

Both run the ``strata`` CLI of this very interpreter, so the venv in use is the one that runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from agentstrata.loader import LoadedStack
from agentstrata.runtime.state_dir import STATE_DIR_ENV
from agentstrata.schema import AgentSpec

#: The KB directory agents read; set from deployment.local.workspace_path unless already set.
KB_ROOT_ENV = "KB_CONDUIT_ROOT"
_STRATA = "import sys; from agentstrata.cli import main; sys.argv[0] = 'strata'; main()"


def strata_command(*args: str) -> list[str]:
    return [sys.executable, "-c", _STRATA, *args]


def agent_environment(loaded: LoadedStack, agent: AgentSpec) -> dict[str, str]:
    env = dict(os.environ)
    if KB_ROOT_ENV not in env:
        workspace = loaded.spec.deployment.settings("local").workspace_path  # type: ignore[union-attr]
        env[KB_ROOT_ENV] = str(loaded.resolve(workspace))
    # Each local agent keeps its state in its own default directory under .strata/state/.
    env.pop(STATE_DIR_ENV, None)
    env.update(agent.env)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def spawn_agent(loaded: LoadedStack, agent: AgentSpec, log_file: Path) -> subprocess.Popen[bytes]:
    """``strata serve --stack S --agent A``, in its own process group, logging to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            strata_command("serve", "--stack", str(loaded.path.resolve()), "--agent", agent.name,
                           "--host", "127.0.0.1", "--port", str(agent.port)),
            cwd=loaded.root,
            env=agent_environment(loaded, agent),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def spawn_supervisor(stack_file: Path, root: Path, log_file: Path) -> subprocess.Popen[bytes]:
    """``strata supervise STACK``, detached from this terminal so it outlives the CLI."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            strata_command("supervise", str(stack_file.resolve())),
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
