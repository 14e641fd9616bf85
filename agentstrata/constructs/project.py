"""Synthesizing a project: every stack of ``stacks/`` for each Terraform target it allows (``cdktf synth``),
or one stack file for one target (``strata synth``).

Specs are loaded and validated before any construct exists, while the jsii bindings load in the
background; an invalid stack stops here with the validator's located errors, never a jsii
traceback. A stack composed in Python is validated when it renders, with the same rules.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentstrata.constructs.bindings import Preload
from agentstrata.constructs.node_warnings import silence_node_warnings
from agentstrata.constructs.stack_source import StackSource
from agentstrata.constructs.type_hint_cache import cached_binding_type_hints
from agentstrata.deploy.state_backend import STATE_DIR
from agentstrata.errors import Diagnostic, SpecError, StrataError
from agentstrata.loader import LoadedStack, load, load_stack, shown_path
from agentstrata.targets import chosen_target, configured_target, target_class, target_names
from agentstrata.targets.base.terraform_target import TerraformTarget
from agentstrata.validate import sort_diagnostics

#: Target name -> props for it, e.g. ``{"docker": {"base_image": "..."}}`` (from the CLI edge).
TargetProps = Mapping[str, Mapping[str, Any]]

STACKS_DIR = "stacks"
#: What a Python stack module in ``stacks/`` defines: ``define(app)`` adds its AgentStacks to the app.
DEFINE = "define"
_AGENT_STACK = "agentstrata.constructs.agent_stack"


@dataclass
class Synthesis:
    """What a synth produced: Terraform stacks by name, findings that did not stop it, skipped targets."""

    outdir: Path
    stacks: list[str] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Planned:
    source: StackSource
    targets: list[str]


def synth_project(root: Path, outdir: str | Path | None = None, props: TargetProps | None = None) -> Synthesis:
    """Every YAML stack (top-level ``stack:``) and Python stack module of ``<root>/stacks``; ``props``
    configure the targets of the YAML stacks beyond their files."""
    stacks_dir = root / STACKS_DIR
    yaml_files = sorted(p for p in stacks_dir.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    modules = sorted(p for p in stacks_dir.glob("*.py") if not p.name.startswith("_"))
    notes: list[str] = []
    errors: list[Diagnostic] = []
    exit_code = 1
    planned: list[_Planned] = []
    for path in yaml_files:
        try:
            loaded = load(path)
        except SpecError as exc:
            errors += exc.diagnostics
            exit_code = max(exit_code, exc.exit_code)
            continue
        if isinstance(loaded, LoadedStack):
            planned.append(_Planned(StackSource(loaded), _terraform_targets(loaded, notes)))
    needed = {t for p in planned for t in p.targets}
    preload = Preload([_AGENT_STACK, *(terraform_target_class(t).resources_module for t in sorted(needed))])
    for plan in planned:
        errors += [d for d in plan.source.findings if d.severity == "error"]
    errors += _duplicate_names(planned)
    if errors:
        raise SpecError(sort_diagnostics(errors), exit_code)
    preload.wait()
    return _synthesize(root, outdir, notes, lambda app: _define(app, planned, modules, props or {}, notes))


def synth_file(path: Path, target: str | None = None, outdir: str | Path | None = None,
               props: TargetProps | None = None) -> Synthesis:
    """One stack file for one target (default: its ``deployment.target``)."""
    loaded = load_stack(path)
    chosen = chosen_target(loaded, target)
    terraform_target_class(chosen, loaded)
    return synth_target(path, configured_target(loaded, chosen, **(props or {}).get(chosen, {})), outdir, loaded)


def synth_target(path: Path, target: TerraformTarget, outdir: str | Path | None = None,
                 loaded: LoadedStack | None = None) -> Synthesis:
    """One stack file for a configured target instance (what `strata deploy` synthesizes)."""
    source = StackSource(loaded or load_stack(path))
    preload = Preload([target.resources_module])
    source.check()
    preload.wait()
    from agentstrata.constructs.agent_stack import AgentStack

    root = source.loaded.root
    return _synthesize(root, outdir or root / "cdktf.out", [],
                       lambda app: AgentStack.from_source(app, source, target=target))


def terraform_target_class(name: str, loaded: LoadedStack | None = None) -> type[TerraformTarget]:
    """Target ``name``, which must be one Terraform can apply (else a located error on ``loaded``)."""
    chosen = target_class(name)
    if issubclass(chosen, TerraformTarget) and chosen.unavailable is None:
        return chosen
    problem = (f"the {name!r} target cannot be synthesized: " + (chosen.unavailable or "it runs without Terraform "
               "(`strata deploy --target " + name + "` runs it)"))
    if loaded is None:
        raise StrataError(problem, 1)
    raise SpecError([loaded.diagnostic(("deployment",), problem)])


def _terraform_targets(loaded: LoadedStack, notes: list[str]) -> list[str]:
    targets = []
    for name in loaded.spec.deployment.allowed_targets:
        chosen = target_class(name)
        if chosen.unavailable is not None:
            notes.append(f"{shown_path(loaded.path)}: target {name!r} skipped: {chosen.unavailable}")
        elif issubclass(chosen, TerraformTarget):
            targets.append(name)
    return targets


def _duplicate_names(planned: list[_Planned]) -> list[Diagnostic]:
    first: dict[str, LoadedStack] = {}
    found = []
    for plan in planned:
        loaded = plan.source.loaded
        other = first.setdefault(loaded.stack.name, loaded)
        if other is not loaded:
            found.append(loaded.diagnostic(("stack", "name"), f"stack name {loaded.stack.name!r} is also used by "
                                           f"{shown_path(other.path)}: Terraform stack names must be unique"))
    return found


def _define(app: object, planned: list[_Planned], modules: Iterable[Path], props: TargetProps,
            notes: list[str]) -> None:
    from agentstrata.constructs.agent_stack import AgentStack

    for plan in planned:
        loaded = plan.source.loaded
        for name in plan.targets:
            target = configured_target(loaded, name, **props.get(name, {}))
            missing = target.missing_props(loaded)
            if missing:
                # A whole-project synth serves every target a stack allows: one that lacks a prop only the
                # user can give (say, an image in their registry) is skipped, said, not fatal to the others.
                notes.append(f"{shown_path(loaded.path)}: target {name!r} skipped: {missing[0].message}")
                continue
            AgentStack.from_source(app, plan.source, target=target)  # type: ignore[arg-type]
    for path in modules:
        module = _import(path)
        define = getattr(module, DEFINE, None)
        if not callable(define):
            raise StrataError(f"{shown_path(path)}: a Python stack module defines {DEFINE}(app), which adds its "
                              "AgentStacks to the app", 1)
        define(app)


def _import(path: Path) -> object:
    name = f"strata_stack_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _synthesize(root: Path, outdir: str | Path | None, notes: list[str], define: Callable[[object], None]) -> Synthesis:
    """Build the app, render every AgentStack (all their errors at once), then write ``outdir``."""
    from cdktf import App

    from agentstrata.constructs.agent_stack import AgentStack

    # Every construct is created in here: jsii's argument checks get each stub's hints once.
    with cached_binding_type_hints():
        app = App(outdir=str(outdir)) if outdir is not None else App()
        define(app)
        stacks = [child for child in app.node.children if isinstance(child, AgentStack)]
        errors: list[Diagnostic] = []
        for stack in stacks:
            try:
                stack.render()
            except SpecError as exc:
                errors += exc.diagnostics
        if errors:
            raise SpecError(sort_diagnostics(errors))
        app.synth()
    for stack in stacks:
        (stack.root / STATE_DIR).mkdir(parents=True, exist_ok=True)
    warnings = sort_diagnostics(list({d: None for s in stacks for d in s.warnings}))
    return Synthesis(Path(app.outdir), [s.node.id for s in stacks], warnings, notes)


def environment_props(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Each target's props from its environment variables (``STRATA_BASE_IMAGE``...): the CLI edge's part."""
    return {name: target_class(name).props_from_environment(environ) for name in target_names()}


def main(root: Path) -> None:
    """The cdktf app: synthesize the project; a user sees located errors and an exit code, never a traceback.

    This is a program edge (cdktf runs it): the environment is read here, into target props, and
    written once, before the jsii kernel starts (:mod:`.node_warnings`).
    """
    silence_node_warnings(os.environ)
    try:
        result = synth_project(root, props=environment_props(os.environ))
    except StrataError as exc:
        print(exc.message, file=sys.stderr)
        sys.exit(exc.exit_code)
    for line in [*result.notes, *(d.format() for d in result.warnings)]:
        print(line, file=sys.stderr)
