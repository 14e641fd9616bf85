"""Starting the processes of the local target: the supervisor (detached) and each agent's host.

Both run with this very interpreter (agents as its `strata serve`), so the venv in use is the one that runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from agentstrata.loader import LoadedStack
from agentstrata.private_log import open_private_log
from agentstrata.schema import AgentSpec
from agentstrata.wire import KB_ROOT_ENV, STATE_DIR_ENV, serve_args
from agentstrata.workspace import uses_workspace

_STRATA = "import sys; from agentstrata.cli import main; sys.argv[0] = 'strata'; main()"


def strata_command(*args: str) -> list[str]:
    return [sys.executable, "-c", _STRATA, *args]


def agent_environment(agent: AgentSpec, workspace: Path) -> dict[str, str]:
    """The supervisor's own environment, plus the KB directory (for an agent that declares
    ``workspace: read``; any other never sees one, as in a container) and the agent's ``env``."""
    env = dict(os.environ)
    env.pop(KB_ROOT_ENV, None)
    if uses_workspace(agent):
        env[KB_ROOT_ENV] = str(workspace)
    # Each local agent keeps its state in its own default directory under .strata/state/.
    env.pop(STATE_DIR_ENV, None)
    env.update(agent.env)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def spawn_agent(loaded: LoadedStack, agent: AgentSpec, log_file: Path, workspace: Path) -> subprocess.Popen[bytes]:
    """``strata serve --stack S --agent A``, in its own process group, logging to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open_private_log(log_file) as log:
        return subprocess.Popen(
            strata_command("serve", *serve_args(str(loaded.path.resolve()), agent.name, "127.0.0.1", agent.port or 0)),
            cwd=loaded.root,
            env=agent_environment(agent, workspace),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def spawn_supervisor(stack_file: Path, root: Path, log_file: Path) -> subprocess.Popen[bytes]:
    """The supervisor of ``stack_file``, detached from this terminal so it outlives the CLI."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open_private_log(log_file) as log:
        return subprocess.Popen(
            [sys.executable, "-m", "agentstrata.targets.local.supervise_main", str(stack_file.resolve())],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
