"""``AgentStack``: one agent stack deployed to one target, as one Terraform stack.

The YAML path and the Python path meet here: a stack file is loaded into the same model that
``add_agent``/``consumes`` calls build, then both are validated by `strata validate`'s rules and
rendered by the target the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cdktf import App, LocalBackend, TerraformBackend, TerraformStack
from constructs import Construct

from agentstrata.constructs.call_site import CallSite, build, caller
from agentstrata.constructs.composition import Composition
from agentstrata.constructs.escape_hatches import EscapeHatches
from agentstrata.constructs.marimo_agent import MarimoAgent
from agentstrata.constructs.stack_source import StackSource
from agentstrata.constructs.type_hint_cache import cached_binding_type_hints
from agentstrata.deploy.state_backend import backend_path
from agentstrata.targets import chosen_target, configured_target
from agentstrata.errors import Diagnostic, SpecError, StrataError
from agentstrata.loader import project_root
from agentstrata.schema import AgentSpec, InputSpec, OutputSpec, Policies, StackSpec

if TYPE_CHECKING:
    from agentstrata.targets.base.terraform_target import TerraformTarget as Target

#: Agents' constructs are named after them; cdktf names the stack's backend construct "backend".
RESERVED_NAMES = {"backend": "the construct id cdktf gives the stack's Terraform backend"}

#: Creates the stack's Terraform backend on the stack it is given, e.g. ``lambda stack: S3Backend(stack, ...)``.
BackendFactory = Callable[["AgentStack"], TerraformBackend]


class AgentStack(EscapeHatches, TerraformStack):
    """An agent stack on one target: the Terraform stack ``<name>-<target>``, e.g. ``kb-conduit-docker``.

    Build it from a file (:meth:`from_file`) or compose it in Python (:meth:`add_agent`, then
    :meth:`MarimoAgent.consumes`). :meth:`render` validates it with `strata validate`'s rules and
    creates the target's resources; synthesis renders any stack not rendered yet.

    :param scope: the cdktf ``App``.
    :param name: the stack's name (letters, digits, ``_`` and ``-``).
    :param target: where the agents run, e.g. ``DockerTarget()``.
    :param root: the project root that notebook paths are relative to; default: the nearest
        ancestor of the calling file holding ``cdktf.json``, else that file's directory.
    :param auto_restart: restart an agent that crashes (``policies.auto_restart``).
    :param cascade_stop: stop dependants when a dependency stops (``policies.cascade_stop``).
    :param parallel_init: start the agents of one layer together (``policies.parallel_init``).
    :param backend: bring your own Terraform backend: a function that creates it on the stack it is
        given and returns it, e.g. ``backend=lambda stack: S3Backend(stack, bucket="tf-state",
        key="kb.tfstate", region="eu-west-1")`` (cdktf backends are constructs of the stack they
        serve, so they cannot be made before it). Default: a ``LocalBackend`` at
        ``<root>/.strata/state/terraform/<name>-<target>.tfstate``, created when the stack renders;
        `strata deploy`, `status` and `destroy` read that file (they deploy stack files, which always
        use it).

    After rendering, the target's resources are attributes of the stack and of each agent
    (``stack.network``, ``stack.agents["debriefer"].container`` for Docker; the typed record is
    ``.resources``): see :mod:`agentstrata.constructs.escape_hatches`.
    """

    def __init__(
        self,
        scope: Construct,
        name: str,
        *,
        target: "Target",
        root: str | Path | None = None,
        auto_restart: bool = True,
        cascade_stop: bool = True,
        parallel_init: bool = True,
        backend: BackendFactory | None = None,
    ) -> None:
        site = caller()
        build(StackSpec, {"name": name}, site, "AgentStack")
        super().__init__(scope, f"{name}-{target.name}")
        #: The stack's name, as in ``stack.name`` of a stack file.
        self.name = name
        self.target = target
        self.root = Path(root).resolve() if root is not None else project_root(site.path)
        self.policies = Policies(auto_restart=auto_restart, cascade_stop=cascade_stop, parallel_init=parallel_init)
        #: The agents, by name, in declaration order.
        self.agents: dict[str, MarimoAgent] = {}
        self._composition: Composition | None = Composition(name, self.policies, target.name, site)
        self._source: StackSource | None = None
        self._extra_warnings: list[Diagnostic] = []
        self._rendered = False
        #: The stack's Terraform backend: the one ``backend`` made, else (once rendered) the LocalBackend.
        self.backend: TerraformBackend | None = None if backend is None else _own_backend(self, backend(self), site)

    # -- the YAML path ----------------------------------------------------------------------------

    @classmethod
    def from_file(cls, scope: Construct, path: str | Path, *, target: "str | Target | None" = None,
                  backend: BackendFactory | None = None) -> "AgentStack":
        """The stack of a stack file. ``target``: a target name (configured by the file's ``deployment``
        block), a target instance (used as is), or None for the file's ``deployment.target``;
        ``backend`` as for the constructor."""
        return cls.from_source(scope, StackSource.from_file(path), target=target, backend=backend)

    @classmethod
    def from_source(cls, scope: Construct, source: StackSource, *, target: "str | Target | None" = None,
                    backend: BackendFactory | None = None) -> "AgentStack":
        """The stack of an already loaded file; its validation errors are raised before any construct exists."""
        source.check()
        reserved = [source.loaded.diagnostic(source.loaded.agent_loc(a.name) + ("name",), _reserved(a.name))
                    for a in source.loaded.stack.agent_specs if a.name in RESERVED_NAMES]
        if reserved:
            raise SpecError(reserved)
        if target is None or isinstance(target, str):
            from agentstrata.constructs.project import terraform_target_class

            chosen = chosen_target(source.loaded, target)
            terraform_target_class(chosen, source.loaded)
            target = configured_target(source.loaded, chosen)  # type: ignore[assignment]
        else:
            chosen_target(source.loaded, target.name)
        spec = source.loaded.stack
        stack = cls(scope, spec.name, target=target, root=source.loaded.root, backend=backend,
                    **spec.policies.model_dump())
        stack._composition = None
        stack._source = source
        for agent in spec.agent_specs:
            stack.agents[agent.name] = MarimoAgent(stack, spec=agent)
        return stack

    # -- the Python path --------------------------------------------------------------------------

    def add_agent(
        self,
        *,
        name: str,
        layer: int,
        notebook: str | Path,
        outputs: Mapping[str, str | OutputSpec] | None = None,
        inputs: Mapping[str, tuple[str, str] | InputSpec] | None = None,
        port: int | None = None,
        memory: str | None = None,
        cpu: str | float | None = None,
        env: Mapping[str, str] | None = None,
        edit: bool = False,
        workspace: Literal["read"] | None = None,
    ) -> MarimoAgent:
        """Add an agent, as a stack file's ``agents`` entry would. Connect it with :meth:`MarimoAgent.consumes`.

        :param name: unique in the stack.
        :param layer: its layer; it may read only from agents of lower layers.
        :param notebook: the marimo notebook, relative to the project root.
        :param outputs: output name -> contract type (exposed as the notebook variable of that name),
            or an ``OutputSpec`` to expose another variable.
        :param inputs: inputs that do not come from agents: name -> ``(type, source)`` with source
            ``file:<path>`` or ``env:<VAR>``, or an ``InputSpec``.
        :param port: the port it serves on; default: the next free one from 2718, assigned at render.
        :param memory: memory limit, Kubernetes style (``"512Mi"``).
        :param cpu: CPU limit in cores (``1.5`` or ``"500m"``).
        :param env: extra environment variables for its process.
        :param edit: serve the marimo UI in edit mode instead of app mode.
        :param workspace: ``"read"`` when it reads the KB workspace (it alone gets the mount).
        """
        site = caller()
        self._composing(site, "add agents")
        if name in RESERVED_NAMES:
            raise SpecError([site.diagnostic(_reserved(name), "name")])
        what = f"agent {name!r}"
        declared_inputs = []
        for input_name, value in (inputs or {}).items():
            if isinstance(value, InputSpec):
                declared_inputs.append(value)
                continue
            input_type, source = value
            if source.startswith("agent:"):
                raise SpecError([site.diagnostic(f"{what}: input {input_name!r} reads from an agent: declare it "
                                                 "with consumes(), which also adds the dependency", "inputs")])
            declared_inputs.append(build(InputSpec, {"name": input_name, "type": input_type, "source": source},
                                         site, what))
        declared_outputs = [
            value if isinstance(value, OutputSpec)
            else build(OutputSpec, {"name": output, "type": value, "exposed_as": f"reactive_cell:{output}"}, site, what)
            for output, value in (outputs or {}).items()
        ]
        spec = build(AgentSpec, {
            "name": name, "layer": layer, "implementation": {"path": str(notebook)},
            "interface": {"inputs": declared_inputs, "outputs": declared_outputs},
            "port": port, "resources": {"memory": memory, "cpu": cpu}, "env": dict(env or {}), "edit": edit,
            "workspace": workspace,
        }, site, what)
        assert self._composition is not None  # _composing() checked it
        self._composition.add(spec, site)
        agent = MarimoAgent(self, spec=spec)
        self.agents[name] = agent
        return agent

    def _connect(self, consumer: MarimoAgent, producer: MarimoAgent, output: str, name: str, transform: str) -> None:
        site = caller()
        self._composing(site, "connect agents")
        if self.agents.get(producer.name) is not producer:
            raise SpecError([site.diagnostic(f"agent {producer.name!r} belongs to another stack "
                                             f"({producer.stack.name!r}, not {self.name!r})", "consumes")])
        assert self._composition is not None
        self._composition.connect(consumer.name, producer.name, output, name, transform, site)

    def _composing(self, site: CallSite, action: str) -> None:
        if self._composition is None:
            assert self._source is not None
            raise SpecError([site.diagnostic(f"stack {self.name!r} comes from {self._source.loaded.path}: "
                                             f"{action} in that file")])
        if self._rendered:
            raise SpecError([site.diagnostic(f"stack {self.name!r} is already rendered: {action} before "
                                             "render(), synthesis, or using an escape hatch")])

    # -- rendering --------------------------------------------------------------------------------

    def render(self) -> None:
        """Validate the stack as `strata validate` does, then let the target create its resources. Once.

        Raises :class:`~agentstrata.errors.SpecError` with the validator's located findings, so an
        invalid stack never reaches synthesis.
        """
        if self._rendered:
            return
        source = self._source if self._composition is None else self._composition.source(self.root)
        source.check()
        self._source = source
        # jsii type-checks every construct's arguments: while they are created, with each stub's hints cached.
        with cached_binding_type_hints():
            if self.backend is None:
                self.backend = LocalBackend(self, path=backend_path(self.root, App.of(self).outdir, self.node.id))
            self.target.render(self)
        self._rendered = True

    def prepare_stack(self) -> None:
        # cdktf calls this first thing in app.synth(): a stack nobody rendered is rendered here.
        self.render()
        super().prepare_stack()

    @property
    def source(self) -> StackSource:
        """The validated spec and where it came from (a composed stack has one once rendered)."""
        if self._source is None:
            raise StrataError(f"stack {self.name!r} has no spec yet: it is assembled when the stack renders")
        return self._source

    @property
    def spec(self) -> StackSpec:
        """The stack as a stack file would hold it, ports assigned."""
        return self.source.loaded.stack

    @property
    def warnings(self) -> list[Diagnostic]:
        """The validator's warnings and the target's, once rendered."""
        found = self._source.warnings if self._source is not None else []
        return found + self._extra_warnings

    def warn(self, diagnostic: Diagnostic) -> None:
        """Record a warning about the stack (targets use it, e.g. for a missing KB directory)."""
        self._extra_warnings.append(diagnostic)


def _own_backend(stack: AgentStack, made: object, site: CallSite) -> TerraformBackend:
    """What a ``backend`` function returned, if it is a backend of ``stack``."""
    if isinstance(made, TerraformBackend) and TerraformStack.of(made) is stack:
        return made
    what = (f"a backend of stack {TerraformStack.of(made).node.id!r}" if isinstance(made, TerraformBackend)
            else type(made).__name__)
    raise SpecError([site.diagnostic(f"AgentStack: backend returned {what}, not a Terraform backend created on the "
                                     "stack it was given (e.g. backend=lambda stack: S3Backend(stack, ...))",
                                     "backend")])


def _reserved(name: str) -> str:
    return f"agent name {name!r} is reserved: it is {RESERVED_NAMES[name]}; rename the agent"
