"""``strata deploy`` and ``strata destroy``: a stack on its Docker target, through cdktf and OpenTofu.

Deploy is safe to repeat and to interrupt. Each run sets the toolchain up (cached after the first
run), synthesizes the stack, makes the state usable again after an interrupted run (a stale lock
record, containers or a network created but never recorded in the state), applies with
``cdktf deploy``, then waits until every agent answers ``/ready`` on its published URL.
Destroy keeps the agents' state volumes unless asked to purge them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from agentstrata.deploy.base_image import BASE_IMAGE
from agentstrata.deploy.cdktf_cli import cdktf_env, cdktf_flags, ensure_cdktf_cli
from agentstrata.deploy.cdktf_run import run_cdktf
from agentstrata.deploy.engine import ensure_engine
from agentstrata.deploy.layout import Layout, checkout_layout
from agentstrata.deploy.orphans import find_orphans, remove_orphans
from agentstrata.deploy.prepare import prepare
from agentstrata.deploy.readiness import Readiness, wait_until_ready
from agentstrata.deploy.state_lock import clear_stale_lock, wait_for_lock
from agentstrata.deploy.steps import Step, StepRunner
from agentstrata.deploy.synthesized_stack import SYNTH_DIR, SynthesizedStack, tracked_ids
from agentstrata.deploy.toolchain import Toolchain, ensure_toolchain
from agentstrata.errors import StrataError
from agentstrata.loader import LoadedStack, load_stack

#: The stack is synthesized in-process just before (and checked for leftovers in between).
CDKTF_FLAGS = ("--auto-approve", "--skip-synth")
#: Bounds on each phase: nothing a deploy does may hang.
APPLY_TIMEOUT_S = 1800.0
READY_TIMEOUT_S = 180.0
#: How long a deploy waits for a live tofu (say, of a killed deploy) to release the state.
LOCK_WAIT_S = 180.0
_RESUME = "run the same command again: it picks up where this run stopped"


@dataclass
class AgentEndpoint:
    name: str
    layer: int
    url: str
    container: str
    readiness: Readiness | None = None


@dataclass
class DeployResult:
    stack_id: str
    agents: list[AgentEndpoint]
    notes: list[str] = field(default_factory=list)


@dataclass
class DestroyResult:
    stack_id: str
    kept_volumes: list[str]
    removed_volumes: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Session:
    """What every phase of a deploy or destroy needs: the stack, the toolchain, where to log."""

    loaded: LoadedStack
    target: str
    layout: Layout
    runner: StepRunner
    toolchain: Toolchain
    cdktf: Path

    @property
    def root(self) -> Path:
        return self.loaded.root

    def env(self) -> dict[str, str]:
        env = cdktf_env(self.layout, self.toolchain)
        # cdktf asks `python3 --version` on every run: this Python answers at once (a pyenv shim takes seconds).
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
        return env

    def flags(self) -> list[str]:
        return cdktf_flags(self.toolchain)


def deploy(stack_file: Path, target: str | None, console: Console, *,
           ready_timeout: float = READY_TIMEOUT_S) -> DeployResult:
    """Set up, synthesize, recover, apply, wait for readiness; the agents' URLs come from Terraform's outputs."""
    session = _start(stack_file, target, console, build_images=True)
    notes: list[str] = []
    stack = _synth(session)
    notes += _recover(session, stack)
    with session.runner.step(f"cdktf deploy {stack.name}", "deploy", _cdktf_hint("deploy")) as step:
        run_cdktf(step, [session.cdktf, "deploy", stack.name, *CDKTF_FLAGS, *session.flags()],
                  cwd=session.root, env=session.env(), timeout=APPLY_TIMEOUT_S, resume_hint=_RESUME)
        step.outcome = f"log in {_shown(step.log_path)}"
    agents = _endpoints(session, stack)
    with session.runner.step("agents ready", "ready", "read the agent's log: docker logs <container>") as step:
        containers = ", ".join(a.container for a in agents)
        states = wait_until_ready(
            {a.name: a.url for a in agents}, ready_timeout,
            on_progress=lambda states, waited: step.detail(_ready_line(states)),
            hint=f"Each agent's log: `docker logs <container>` (containers: {containers}).",
        )
        for agent in agents:
            agent.readiness = states[agent.name]
        step.outcome = f"{len(agents)} of {len(agents)}"
    return DeployResult(stack.name, agents, notes)


def destroy(stack_file: Path, target: str | None, console: Console, *, purge: bool) -> DestroyResult:
    """``cdktf destroy``; without ``purge`` the state volumes are first taken out of Terraform's hands."""
    session = _start(stack_file, target, console, build_images=False)
    stack = _synth(session)
    notes = _recover(session, stack)
    volume_names = stack.docker_names("docker_volume")
    tracked = tracked_ids(stack.state_path, "docker_volume")
    kept: list[str] = []
    if not purge:
        addresses = [f"docker_volume.{tf_id}" for tf_id, name in volume_names.items() if name in tracked]
        if addresses:
            with session.runner.step("keep state volumes", "destroy-keep-volumes", _cdktf_hint("state rm")) as step:
                _tofu(step, session, stack, ["state", "rm"], addresses)
        kept = sorted(volume_names.values())
    with session.runner.step(f"cdktf destroy {stack.name}", "destroy", _cdktf_hint("destroy")) as step:
        run_cdktf(step, [session.cdktf, "destroy", stack.name, *CDKTF_FLAGS, *session.flags()],
                  cwd=session.root, env=session.env(), timeout=APPLY_TIMEOUT_S, resume_hint=_RESUME)
    removed: list[str] = []
    if purge:
        # Volumes an earlier destroy kept are no longer in the state: remove them by name.
        for name in sorted(volume_names.values()):
            done = subprocess.run(["docker", "volume", "rm", name], capture_output=True, text=True, timeout=60)
            if done.returncode == 0 or name in tracked:
                removed.append(name)
    return DestroyResult(stack.name, [v for v in kept if _volume_exists(v)], removed, notes)


def _start(stack_file: Path, target: str | None, console: Console, *, build_images: bool) -> _Session:
    """Load and check the stack first (a bad file fails in a second), then set the toolchain up."""
    from agentstrata.constructs.targets import terraform_target

    loaded = load_stack(stack_file)
    chosen = terraform_target(loaded, target)
    if not (loaded.root / "cdktf.json").is_file():
        raise StrataError(f"{loaded.path}: no cdktf.json in {loaded.root} or above; a deployable stack lives in a "
                          "cdktf project (the Strata checkout is one)", exit_code=2)
    layout = checkout_layout()
    runner = StepRunner(layout.logs, console=console)
    if build_images:
        prepared = prepare(layout, runner)
        toolchain, cdktf, base_image = prepared.toolchain, prepared.cdktf, prepared.base_image
    else:
        # Tearing down needs no image: only the engine, tofu and cdktf.
        ensure_engine(layout, runner)
        toolchain, cdktf, base_image = ensure_toolchain(layout, runner), ensure_cdktf_cli(layout, runner), BASE_IMAGE
    # Synthesis names the base image in the runtime image's build arguments: the one setup builds.
    from agentstrata.constructs.targets.docker.target import BASE_IMAGE_ENV

    os.environ.setdefault(BASE_IMAGE_ENV, base_image)
    return _Session(loaded, chosen, layout, runner, toolchain, cdktf)


def _synth(session: _Session) -> SynthesizedStack:
    from agentstrata.constructs.project import synth_file

    hint = "fix what the message says in the stack file, then re-run (`strata validate` checks it alone)"
    with session.runner.step("synth", "synth", hint) as step:
        result = synth_file(session.loaded.path, session.target, session.root / SYNTH_DIR)
        for warning in result.warnings:
            step.log(warning.format())
        (stack_id,) = result.stacks
        step.outcome = stack_id
    return SynthesizedStack.read(session.root, stack_id)


def _recover(session: _Session, stack: SynthesizedStack) -> list[str]:
    """Undo what an interrupted run left: a stale lock record, objects Docker has and the state lacks."""
    notes = []
    hint = "the state lock belongs to a running tofu; wait for it, or stop it as the message says"
    with session.runner.step("state check", "state-check", hint) as step:
        stale = clear_stale_lock(stack.state_path)
        if stale is not None:
            notes.append(f"removed the stale lock record of a killed run ({stale.get('Operation', 'operation')} "
                         f"started {stale.get('Created', 'at an unknown time')})")
        wait_for_lock(stack.state_path, LOCK_WAIT_S,
                      on_wait=lambda holder, waited: step.detail(f"waiting for {holder.describe()} ({waited:.0f} s)"))
        orphans = find_orphans(stack)
        if orphans:
            remove_orphans(orphans)
            notes.append("removed what an interrupted run created but never recorded: "
                         + ", ".join(f"{o.kind} {o.name}" for o in orphans))
        step.outcome = "recovered" if notes else "clean"
        for note in notes:
            step.log(note)
    return notes


def _endpoints(session: _Session, stack: SynthesizedStack) -> list[AgentEndpoint]:
    """Each agent's URL from ``tofu output -json`` (outputs ``<agent>_url``) and its container's name."""
    with session.runner.step("outputs", "outputs", _cdktf_hint("output")) as step:
        outputs = json.loads(_tofu(step, session, stack, ["output", "-json"]))
    from agentstrata.constructs.targets.docker.target import container_name

    agents = []
    for agent in sorted(session.loaded.stack.agent_specs, key=lambda a: (a.layer, a.name)):
        output = outputs.get(f"{agent.name}_url")
        if output is None:
            raise StrataError(f"Terraform has no output {agent.name}_url for agent {agent.name!r} of "
                              f"{stack.name}; re-run `strata deploy`", exit_code=1)
        container = container_name(session.loaded.stack, agent.name)
        agents.append(AgentEndpoint(agent.name, agent.layer, output["value"], container))
    return agents


def _tofu(step: Step, session: _Session, stack: SynthesizedStack, command: list[str],
          operands: Sequence[str] = ()) -> str:
    """Run ``tofu <command> [flags] <operands>`` in the stack's directory, initialising it first if no
    cdktf run has; returns its stdout (kept out of the log: outputs may be sensitive)."""
    tofu = str(session.toolchain.binary)
    env = session.env()
    runs = [] if (stack.directory / ".terraform").is_dir() else [["init", "-input=false"]]
    # Flags before operands: tofu stops reading flags at the first operand.
    runs.append([*command, "-no-color", *operands])
    stdout = ""
    for args in runs:
        shown = f"tofu {' '.join(args)}"
        step.log(f"$ {shown}    (in {stack.directory})")
        try:
            done = subprocess.run([tofu, *args], cwd=stack.directory, env=env, capture_output=True, text=True,
                                  timeout=300)
        except subprocess.TimeoutExpired:
            raise step.failure(f"`{shown}` did not finish within 300 s") from None
        step.log(done.stderr)
        if done.returncode != 0:
            raise step.failure(f"`{shown}` exited with status {done.returncode}")
        stdout = done.stdout
    return stdout


def _ready_line(states: dict[str, Readiness]) -> str:
    waiting = [f"{name} ({state.describe()})" for name, state in states.items() if not state.ready]
    done = len(states) - len(waiting)
    return f"{done}/{len(states)} ready" + (f"; waiting for {', '.join(waiting)}" if waiting else "")


def _volume_exists(name: str) -> bool:
    done = subprocess.run(["docker", "volume", "inspect", name], capture_output=True, text=True, timeout=60)
    return done.returncode == 0


def _cdktf_hint(what: str) -> str:
    return (f"read the log for tofu's own message about `{what}`; fix it, then {_RESUME}")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
