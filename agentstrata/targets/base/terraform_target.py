"""``TerraformTarget``: the lifecycle every target applied by cdktf and OpenTofu shares.

Deploy is safe to repeat and to interrupt. Each run sets the toolchain up (cached after the first
run), synthesizes the stack, makes the state usable again after an interrupted run (a stale lock
record, then whatever the target finds it created but never recorded), applies with
``cdktf deploy``, then waits until every agent answers ``/ready`` at the URL its Terraform output
names. Destroy keeps what the target calls the agents' state unless asked to purge it.

A subclass renders its resources (:meth:`TerraformTarget.render`) and answers the hooks below;
it never runs cdktf itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from agentstrata.errors import Diagnostic, StrataError
from agentstrata.targets.base.results import AgentEndpoint, AgentStatus, DeployResult, DestroyResult, StackStatus
from agentstrata.targets.base.target import Target
from agentstrata.wire import PROBE_TIMEOUT_SECONDS

if TYPE_CHECKING:
    from rich.console import Console

    from agentstrata.constructs.agent_stack import AgentStack
    from agentstrata.deploy.layout import Layout
    from agentstrata.deploy.steps import Step, StepRunner
    from agentstrata.deploy.synthesized_stack import SynthesizedStack
    from agentstrata.deploy.toolchain import MirroredProvider, Toolchain
    from agentstrata.loader import LoadedStack

#: The stack is synthesized in-process just before (and checked for leftovers in between).
CDKTF_FLAGS = ("--auto-approve", "--skip-synth")
#: Bounds on each phase: nothing a deploy does may hang.
APPLY_TIMEOUT_S = 1800.0
#: How long a deploy waits for a live tofu (say, of a killed deploy) to release the state.
LOCK_WAIT_S = 180.0
TOFU_TIMEOUT_S = 300
_RESUME = "run the same command again: it picks up where this run stopped"


@dataclass
class TerraformSession:
    """What every phase of a deploy or destroy needs: the stack, the toolchain, where to log."""

    loaded: "LoadedStack"
    layout: "Layout"
    runner: "StepRunner"
    toolchain: "Toolchain"
    cdktf: Path

    @property
    def root(self) -> Path:
        return self.loaded.root

    def env(self) -> dict[str, str]:
        from agentstrata.deploy.cdktf_cli import cdktf_env

        env = cdktf_env(self.layout, self.toolchain)
        # cdktf asks `python3 --version` on every run: this Python answers at once (a pyenv shim takes seconds).
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
        return env

    def flags(self) -> list[str]:
        from agentstrata.deploy.cdktf_cli import cdktf_flags

        return cdktf_flags(self.toolchain)

    def tofu(self, step: "Step", stack: "SynthesizedStack", command: list[str], operands: Sequence[str] = ()) -> str:
        """Run ``tofu <command> [flags] <operands>`` in the stack's directory, initialising it first if no
        cdktf run has; returns its stdout (kept out of the log: outputs may be sensitive)."""
        tofu = str(self.toolchain.binary)
        env = self.env()
        runs = [] if (stack.directory / ".terraform").is_dir() else [["init", "-input=false"]]
        # Flags before operands: tofu stops reading flags at the first operand.
        runs.append([*command, "-no-color", *operands])
        stdout = ""
        for args in runs:
            shown = f"tofu {' '.join(args)}"
            step.log(f"$ {shown}    (in {stack.directory})")
            try:
                done = subprocess.run([tofu, *args], cwd=stack.directory, env=env, capture_output=True, text=True,
                                      timeout=TOFU_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise step.failure(f"`{shown}` did not finish within {TOFU_TIMEOUT_S} s") from None
            step.log(done.stderr)
            if done.returncode != 0:
                raise step.failure(f"`{shown}` exited with status {done.returncode}")
            stdout = done.stdout
        return stdout


class TerraformTarget(Target):
    """A target whose resources are Terraform resources, rendered into an ``AgentStack`` by cdktf."""

    #: The module that creates the resources (it loads the provider bindings): preloaded while specs validate.
    resources_module: ClassVar[str]
    #: What :attr:`AgentEndpoint.runs_as` names for this target ("container", "deployment"...).
    runs_as: ClassVar[str] = "resource"
    #: Where an agent's log can be read, said when it does not become ready.
    log_hint: ClassVar[str] = "read the agent's log"
    #: Providers built into the mirror for this target, besides those every mirror holds.
    providers: ClassVar[tuple["MirroredProvider", ...]] = ()

    # -- what a subclass provides --------------------------------------------------------------------

    @abstractmethod
    def render(self, stack: "AgentStack") -> None:
        """Create this target's resources for ``stack``, already validated, and attach them to it.

        Raises :class:`~agentstrata.errors.SpecError` for props that conflict with the stack.
        """

    def missing_props(self, loaded: "LoadedStack") -> list[Diagnostic]:
        """Props only the user can give (an image in their registry...) without which nothing can be synthesized:
        `cdktf synth` of a whole project skips this target with the message, `strata synth` fails with it."""
        return []

    def prepare_machine(self, layout: "Layout", runner: "StepRunner", *, teardown: bool) -> dict[str, Any]:
        """Set up what this target needs besides OpenTofu and cdktf; returns props for synthesis (for
        instance the base image that was built). ``teardown``: only what removing resources needs."""
        return {}

    def recover_leftovers(self, session: TerraformSession, stack: "SynthesizedStack") -> list[str]:
        """Remove what an interrupted run created but never recorded in the state; a note per removal."""
        return []

    def state_addresses(self, stack: "SynthesizedStack") -> dict[str, str]:
        """Terraform address -> name of each resource that holds agents' state (kept by ``destroy``)."""
        return {}

    def purge_state(self, stack: "SynthesizedStack", names: list[str]) -> list[str]:
        """Remove the state resources ``names`` (kept by an earlier destroy, so untracked); the ones removed."""
        return []

    def existing_state(self, names: list[str]) -> list[str]:
        """Those of ``names`` that still exist."""
        return names

    def runs_as_name(self, loaded: "LoadedStack", agent: str) -> str:
        """What runs ``agent`` (a container name...), for people."""
        return agent

    def agent_states(self, loaded: "LoadedStack") -> dict[str, tuple[str, int]]:
        """Agent -> (its state as the engine reports it, restarts); empty when unknown."""
        return {}

    def wait_for_agents(self, session: TerraformSession, agents: list[AgentEndpoint], timeout: float) -> None:
        """Wait until every agent serves, within ``timeout``, and set each one's ``ready`` to its last answer.
        Here: ``GET /ready`` at its URL (a target whose URLs the deploying machine cannot reach overrides it)."""
        from agentstrata.deploy.readiness import wait_until_ready

        with session.runner.step("agents ready", f"ready-{session.loaded.stack.name}-{self.name}", self.log_hint) as step:
            states = wait_until_ready(
                {a.name: a.url for a in agents}, timeout,
                on_progress=lambda states, waited: step.detail(_ready_line(states)),
                hint=f"{self.log_hint} ({self.runs_as}s: {', '.join(a.runs_as for a in agents)}).",
            )
            for agent in agents:
                agent.ready = states[agent.name].describe()
            step.outcome = f"{len(agents)} of {len(agents)}"

    def agent_readiness(self, loaded: "LoadedStack", urls: dict[str, str]) -> dict[str, tuple[bool, str]]:
        """Agent -> (whether it is ready, what it answered), for `strata status`. Here: one ``GET /ready``
        at each URL."""
        import httpx

        from agentstrata.deploy.readiness import probe

        with httpx.Client(timeout=PROBE_TIMEOUT_SECONDS) as client:
            answers = {agent: probe(client, url) for agent, url in urls.items()}
        return {agent: (answer.ready, answer.describe()) for agent, answer in answers.items()}

    # -- the lifecycle ------------------------------------------------------------------------------

    @classmethod
    def setup_toolchain(cls, console: "Console") -> None:
        """OpenTofu, its providers and the cdktf CLI, after what :meth:`prepare_machine` sets up."""
        cls.from_settings(cls.settings_model())._prepare(console, teardown=False)  # type: ignore[attr-defined]

    def deploy(self, loaded: "LoadedStack", console: "Console", *, ready_timeout: float) -> DeployResult:
        """Set up, synthesize, recover, apply, wait for readiness; the agents' URLs come from Terraform's outputs."""
        from agentstrata.deploy.cdktf_run import run_cdktf

        if self.unavailable is not None:
            raise self.unavailable_error()
        session, target = self._start(loaded, console, teardown=False)
        stack = target._synth(session)
        notes = target._recover(session, stack)
        with session.runner.step(f"cdktf deploy {stack.name}", f"deploy-{stack.name}", _cdktf_hint("deploy")) as step:
            run_cdktf(step, [session.cdktf, "deploy", stack.name, *CDKTF_FLAGS, *session.flags()],
                      cwd=session.root, env=session.env(), timeout=APPLY_TIMEOUT_S, resume_hint=_RESUME)
            step.outcome = f"log in {_shown(step.log_path)}"
        agents = target._endpoints(session, stack)
        target.wait_for_agents(session, agents, ready_timeout)
        return DeployResult(stack.name, self.runs_as, agents, notes)

    def destroy(self, loaded: "LoadedStack", console: "Console", *, purge: bool) -> DestroyResult:
        """``cdktf destroy``; without ``purge`` the state resources are first taken out of Terraform's hands."""
        from agentstrata.deploy.cdktf_run import run_cdktf
        from agentstrata.deploy.synthesized_stack import tracked_addresses

        if self.unavailable is not None:
            raise self.unavailable_error()
        session, target = self._start(loaded, console, teardown=True)
        stack = target._synth(session)
        notes = target._recover(session, stack)
        state = target.state_addresses(stack)
        tracked = tracked_addresses(stack.state_path)
        was_up = bool(tracked)
        if not purge:
            addresses = [address for address in state if address in tracked]
            if addresses:
                with session.runner.step("keep agents' state", f"destroy-keep-state-{stack.name}", _cdktf_hint("state rm")) as step:
                    session.tofu(step, stack, ["state", "rm"], addresses)
        with session.runner.step(f"cdktf destroy {stack.name}", f"destroy-{stack.name}", _cdktf_hint("destroy")) as step:
            run_cdktf(step, [session.cdktf, "destroy", stack.name, *CDKTF_FLAGS, *session.flags()],
                      cwd=session.root, env=session.env(), timeout=APPLY_TIMEOUT_S, resume_hint=_RESUME)
        names = sorted(state.values())
        if purge:
            # What an earlier destroy kept is no longer in the state: the target removes it by name.
            removed = target.purge_state(stack, names)
            destroyed = [name for address, name in state.items() if address in tracked]
            return DestroyResult(stack.name, [], sorted({*destroyed, *removed}), notes, was_up=was_up)
        return DestroyResult(stack.name, target.existing_state(names), [], notes, was_up=was_up)

    def status(self, loaded: "LoadedStack") -> StackStatus:
        """From the Terraform state's outputs and each agent's ``/ready``; no toolchain needed."""
        from agentstrata.deploy.state_backend import state_file

        stack_id = f"{loaded.stack.name}-{self.name}"
        outputs = state_outputs(state_file(loaded.root, stack_id))
        engine = self.agent_states(loaded) if outputs else {}
        agents = []
        urls = {a.name: outputs[f"{a.name}_url"] for a in loaded.stack.agent_specs if f"{a.name}_url" in outputs}
        readiness = self.agent_readiness(loaded, urls) if urls else {}
        for agent in sorted(loaded.stack.agent_specs, key=lambda a: (a.layer, a.name)):
            url = outputs.get(f"{agent.name}_url", "")
            ready, answer = readiness.get(agent.name, (False, None))
            state, restarts = engine.get(agent.name, ("deployed" if url else "absent", 0))
            agents.append(AgentStatus(
                agent.name, agent.layer, url, ready, state, restarts, None if ready else answer,
                {self.runs_as: self.runs_as_name(loaded, agent.name)},
            ))
        return StackStatus(loaded.stack.name, self.name, bool(outputs), agents)

    # -- the phases ---------------------------------------------------------------------------------

    def _prepare(self, console: "Console", *, teardown: bool, project: Path | None = None
                 ) -> tuple["Layout", "StepRunner", "Toolchain", Path, dict[str, Any]]:
        """The machine's toolchain (cached per machine), for ``project`` (default: the one holding the working
        directory), where logs and build contexts go."""
        from agentstrata.deploy.cdktf_cli import ensure_cdktf_cli
        from agentstrata.deploy.layout import project_layout
        from agentstrata.deploy.steps import StepRunner
        from agentstrata.deploy.toolchain import ensure_toolchain

        layout = project_layout(project)
        runner = StepRunner(layout.logs, console=console)
        props = self.prepare_machine(layout, runner, teardown=teardown)
        toolchain = ensure_toolchain(layout, runner, self.providers)
        cdktf = ensure_cdktf_cli(layout, runner)
        return layout, runner, toolchain, cdktf, props

    def _start(self, loaded: "LoadedStack", console: "Console", *, teardown: bool) -> tuple[TerraformSession,
                                                                                           "TerraformTarget"]:
        """The stack was loaded and checked already (a bad file fails in a second); set the toolchain up.
        Returns the session and this target with the props setup produced (the base image it built)."""
        if not (loaded.root / "cdktf.json").is_file():
            raise StrataError(f"{loaded.path}: no cdktf.json in {loaded.root} or above; a deployable stack lives "
                              "in a cdktf project (`strata init DIR` makes one)", exit_code=2)
        layout, runner, toolchain, cdktf, props = self._prepare(console, teardown=teardown, project=loaded.root)
        target = self.with_props(**props).for_stack(loaded, teardown=teardown)
        return TerraformSession(loaded, layout, runner, toolchain, cdktf), target

    def with_props(self, **props: Any) -> "TerraformTarget":
        """This target with ``props`` changed (only those not passed explicitly by the caller)."""
        return self

    def for_stack(self, loaded: "LoadedStack", *, teardown: bool) -> "TerraformTarget":
        """This target with the props only the machine's current state gives for ``loaded`` (the Docker
        target's free host ports): asked once per deploy or destroy, before synthesis, which stays a
        function of props. May refuse the deploy, before anything is created."""
        return self

    def _synth(self, session: TerraformSession) -> "SynthesizedStack":
        from agentstrata.constructs.project import synth_target
        from agentstrata.deploy.synthesized_stack import SYNTH_DIR, SynthesizedStack

        hint = "fix what the message says in the stack file, then re-run (`strata validate` checks it alone)"
        with session.runner.step("synth", f"synth-{session.loaded.stack.name}-{self.name}", hint) as step:
            result = synth_target(session.loaded.path, self, session.root / SYNTH_DIR, session.loaded)
            for warning in result.warnings:
                step.log(warning.format())
            (stack_id,) = result.stacks
            step.outcome = stack_id
        return SynthesizedStack.read(session.root, stack_id)

    def _recover(self, session: TerraformSession, stack: "SynthesizedStack") -> list[str]:
        """Undo what an interrupted run left: a stale lock record, then the target's own leftovers."""
        from agentstrata.deploy.state_lock import clear_stale_lock, wait_for_lock

        notes = []
        hint = "the state lock belongs to a running tofu; wait for it, or stop it as the message says"
        with session.runner.step("state check", f"state-check-{stack.name}", hint) as step:
            stale = clear_stale_lock(stack.state_path)
            if stale is not None:
                notes.append(f"removed the stale lock record of a killed run ({stale.get('Operation', 'operation')} "
                             f"started {stale.get('Created', 'at an unknown time')})")
            wait_for_lock(stack.state_path, LOCK_WAIT_S,
                          on_wait=lambda holder, waited: step.detail(f"waiting for {holder.describe()} ({waited:.0f} s)"))
            notes += self.recover_leftovers(session, stack)
            step.outcome = "recovered" if notes else "clean"
            for note in notes:
                step.log(note)
        return notes

    def _endpoints(self, session: TerraformSession, stack: "SynthesizedStack") -> list[AgentEndpoint]:
        """Each agent's URL from ``tofu output -json`` (outputs ``<agent>_url``)."""
        with session.runner.step("outputs", f"outputs-{stack.name}", _cdktf_hint("output")) as step:
            outputs = json.loads(session.tofu(step, stack, ["output", "-json"]))
        agents = []
        for agent in sorted(session.loaded.stack.agent_specs, key=lambda a: (a.layer, a.name)):
            output = outputs.get(f"{agent.name}_url")
            if output is None:
                raise StrataError(f"Terraform has no output {agent.name}_url for agent {agent.name!r} of "
                                  f"{stack.name}; re-run `strata deploy`", exit_code=1)
            agents.append(AgentEndpoint(agent.name, agent.layer, output["value"],
                                        self.runs_as_name(session.loaded, agent.name)))
        return agents


def state_outputs(state_path: Path) -> dict[str, str]:
    """Output name -> value of a Terraform state file (format v4); empty when there is none."""
    try:
        text = state_path.read_text()
        outputs = json.loads(text).get("outputs", {}) if text.strip() else {}
    except (OSError, ValueError):
        return {}
    return {name: output["value"] for name, output in outputs.items()
            if isinstance(output, dict) and isinstance(output.get("value"), str)}


def _ready_line(states: dict[str, Any]) -> str:
    waiting = [f"{name} ({state.describe()})" for name, state in states.items() if not state.ready]
    done = len(states) - len(waiting)
    return f"{done}/{len(states)} ready" + (f"; waiting for {', '.join(waiting)}" if waiting else "")


def _cdktf_hint(what: str) -> str:
    return f"read the log for tofu's own message about `{what}`; fix it, then {_RESUME}"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
