"""What a deployment target is: one package that owns a way of running a stack, from checks to teardown.

A target declares, as class attributes and methods:

- its settings: the pydantic model of its ``deployment.<name>`` block (:attr:`Target.settings_model`);
- its checks: located diagnostics with its own rule codes, which `strata validate` reports for every
  stack whose ``deployment`` allows the target (:meth:`Target.checks`, :attr:`Target.rules`);
- its lifecycle: :meth:`deploy` (toolchain, resources, readiness), :meth:`destroy` (volumes kept or
  purged), :meth:`status`, :meth:`logs`, and the deployment code it can export (:attr:`exports`);
- for a Terraform target, ``render()`` (see :class:`~agentstrata.targets.base.terraform_target.TerraformTarget`).

Commands reach targets only through this interface and the registry in :mod:`agentstrata.targets`.
A target module imports nothing heavy at import time: `strata validate` loads every target a stack
allows, and must never load cdktf or provider bindings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel

from agentstrata.errors import Diagnostic, StrataError

if TYPE_CHECKING:
    from rich.console import Console

    from agentstrata.loader import LoadedStack
    from agentstrata.targets.base.results import DeployResult, DestroyResult, ExportResult, StackStatus


class Target(ABC):
    #: The target's name in stack files (``deployment.<name>``) and the suffix of its Terraform stacks.
    name: ClassVar[str]
    #: The model of its ``deployment.<name>`` block; an absent block means its defaults.
    settings_model: ClassVar[type[BaseModel]]
    #: Its own rule codes -> what each checks (listed with the validator's rules).
    rules: ClassVar[dict[str, str]] = {}
    #: Export formats it writes (``strata export FORMAT``) -> what they are.
    exports: ClassVar[dict[str, str]] = {}
    #: Environment variable -> the prop it sets, read at the CLI edge only (never during synthesis).
    environment_props: ClassVar[dict[str, str]] = {}
    #: None, or why this target cannot deploy yet (its settings and checks still apply).
    unavailable: ClassVar[str | None] = None

    @classmethod
    def from_settings(cls, settings: BaseModel, **props: object) -> "Target":
        """This target configured by a stack file's ``deployment.<name>`` block, plus explicit props: each
        setting is the keyword prop of the same name."""
        assert isinstance(settings, cls.settings_model)
        return cls(**{**settings.model_dump(), **props})  # type: ignore[call-arg]

    @classmethod
    def props_from_environment(cls, environ: Mapping[str, str]) -> dict[str, str]:
        """The props that :attr:`environment_props` variables set in ``environ`` (the CLI edge calls this)."""
        return {prop: environ[variable] for variable, prop in cls.environment_props.items() if environ.get(variable)}

    def checks(self, loaded: "LoadedStack") -> list[Diagnostic]:
        """Everything about ``loaded`` this target cannot deploy, located, with its rule codes. Pure."""
        return []

    # -- lifecycle ----------------------------------------------------------------------------------

    @abstractmethod
    def deploy(self, loaded: "LoadedStack", console: "Console", *, ready_timeout: float) -> "DeployResult":
        """Set up what is missing, create or update the stack's agents, and wait until each is ready."""

    @abstractmethod
    def destroy(self, loaded: "LoadedStack", console: "Console", *, purge: bool) -> "DestroyResult":
        """Remove the stack's agents; their state is kept unless ``purge``."""

    @abstractmethod
    def status(self, loaded: "LoadedStack") -> "StackStatus":
        """Each agent as this target runs it now (nothing deployed: ``up`` is false)."""

    def logs(self, loaded: "LoadedStack", agent: str, *, lines: int, follow: bool) -> Iterator[str]:
        """An agent's log, in chunks of text that end their own lines: its last ``lines`` lines, then
        (``follow``) what it logs next."""
        raise StrataError(f"the {self.name} target keeps no agent logs that Strata can read", 1)

    def export(self, loaded: "LoadedStack", fmt: str, out: Path | None) -> "ExportResult":
        """Write the deployment code of format ``fmt`` (one of :attr:`exports`)."""
        raise StrataError(f"the {self.name} target exports nothing", 1)

    @classmethod
    def setup_toolchain(cls, console: "Console") -> None:
        """Set up what this target needs on this machine, idempotently, with progress (`strata setup`)."""

    def unavailable_error(self) -> StrataError:
        """What a lifecycle command of an :attr:`unavailable` target says."""
        return StrataError(f"the {self.name} target cannot deploy yet: {self.unavailable}", 1)
