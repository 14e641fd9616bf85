"""Load stack and agent files into the typed model, with every error located in its file.

Relative paths (``implementation.path``, ``ref``, ``file:`` sources) resolve against the
project root: the nearest ancestor of the stack file that holds ``cdktf.json``, or else the
stack file's own directory.
"""

from __future__ import annotations

import difflib
import os
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from agentstrata.errors import Diagnostic, SpecError
from agentstrata.schema import AgentFile, AgentSpec, StackFile, StackSpec
from agentstrata.yaml_source import MAX_NODES, Located, Mark, Path_, display_path, parse, read_text, unusable

PROJECT_MARKER = "cdktf.json"
#: Schema errors located one by one at most (each may look for a "did you mean"); one more line counts the rest.
MAX_SCHEMA_ERRORS = 1000
_UNION_TAGS = {"AgentSpec", "AgentRef"}


def project_root(spec_file: Path) -> Path:
    """The nearest ancestor of ``spec_file`` holding ``cdktf.json``, else its own directory."""
    start = spec_file.resolve().parent
    for folder in (start, *start.parents):
        if (folder / PROJECT_MARKER).is_file():
            return folder
    return start


def shown_path(path: Path) -> str:
    """A path as users typed it: relative to the working directory when below it, else absolute."""
    if not path.is_absolute():
        return str(path)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


@dataclass
class LoadedSpec:
    """A validated spec file: the model, where it came from, and where each value stands."""

    path: Path
    root: Path
    marks: dict[Path_, Mark]
    key_marks: dict[Path_, Mark]
    #: Agent files pulled in by ``ref``, by index in ``stack.agents``.
    refs: dict[int, Path]

    def resolve(self, relative: str) -> Path:
        """A path from the spec, resolved against the project root (``~`` and ``${VAR}`` expanded)."""
        expanded = Path(os.path.expandvars(os.path.expanduser(relative)))
        return expanded if expanded.is_absolute() else (self.root / expanded)

    def mark(self, loc: Path_, *, key: bool = False) -> Mark:
        """The mark of ``loc``; for a key that is absent, its nearest present ancestor."""
        table = self.key_marks if key else self.marks
        if loc in table:
            return table[loc]
        if key and loc in self.marks:
            return self.marks[loc]
        for cut in range(len(loc) - 1, -1, -1):
            if loc[:cut] in self.marks:
                parent = self.marks[loc[:cut]]
                return Mark(parent.file, parent.line, parent.col, parent.path + loc[cut:])
        return Mark(shown_path(self.path), 1, 1, loc)

    def diagnostic(
        self, loc: Path_, message: str, code: str = "", *, severity: str = "error", key: bool = False
    ) -> Diagnostic:
        mark = self.mark(loc, key=key)
        return Diagnostic(mark.file, mark.line, mark.col, mark.display, message, code, severity)


@dataclass
class LoadedStack(LoadedSpec):
    spec: StackFile = None  # type: ignore[assignment]

    @property
    def stack(self) -> StackSpec:
        return self.spec.stack

    def agent_loc(self, name: str) -> Path_:
        """The path of the agent called ``name`` in ``stack.agents``."""
        for index, agent in enumerate(self.stack.agent_specs):
            if agent.name == name:
                return ("stack", "agents", index)
        raise KeyError(name)


@dataclass
class LoadedAgent(LoadedSpec):
    spec: AgentFile = None  # type: ignore[assignment]

    @property
    def agent(self) -> AgentSpec:
        return self.spec.agent


def load(path: str | Path) -> Union[LoadedStack, LoadedAgent]:
    """Load a stack file (top-level ``stack:``) or an agent file (top-level ``agent:``)."""
    path = Path(path)
    shown = shown_path(path)
    located = parse(read_text(path, shown), shown)
    if not isinstance(located.data, dict):
        raise unusable(shown, f"expected a mapping with 'stack:' or 'agent:', got {_kind(located.data)}")
    root = project_root(path)
    if "agent" in located.data and "stack" not in located.data:
        model = _validate(AgentFile, located.data, located.values, located.keys)
        return LoadedAgent(path, root, located.values, located.keys, {}, spec=model)
    if "stack" not in located.data:
        mark = located.values[()]
        raise SpecError([Diagnostic(shown, mark.line, mark.col, "",
                                    "expected top-level 'stack:' (a stack file) or 'agent:' (an agent file)")])
    refs = _inline_refs(located, root)
    from agentstrata.targets import stack_file_model

    model = _validate(stack_file_model(), located.data, located.values, located.keys)
    return LoadedStack(path, root, located.values, located.keys, refs, spec=model)


def load_stack(path: str | Path) -> LoadedStack:
    """Load a stack file; an agent file here is an error naming the file."""
    loaded = load(path)
    if not isinstance(loaded, LoadedStack):
        raise SpecError([Diagnostic(shown_path(Path(path)), 1, 1, "agent",
                                    "this is an agent file; a stack file has top-level 'stack:'")])
    return loaded


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", type(None): "nothing"}.get(type(value), type(value).__name__)


def _inline_refs(located: Located, root: Path) -> dict[int, Path]:
    """Replace each ``{ref: path}`` agent item with that file's agent, keeping its file's marks."""
    stack = located.data.get("stack")
    agents = stack.get("agents") if isinstance(stack, dict) else None
    if not isinstance(agents, list):
        return {}
    refs: dict[int, Path] = {}
    problems: list[Diagnostic] = []
    # One budget for the stack and its agent files: a small stack cannot make the loader read without end.
    values = len(located.values)
    for index, item in enumerate(agents):
        if not (isinstance(item, dict) and set(item) == {"ref"} and isinstance(item["ref"], str)):
            continue
        here: Path_ = ("stack", "agents", index)
        ref_mark = located.values[here + ("ref",)]
        if values > MAX_NODES:
            problems.append(Diagnostic(ref_mark.file, ref_mark.line, ref_mark.col, display_path(here + ("ref",)),
                                       f"not loaded: the stack and its agent files hold more than {MAX_NODES} "
                                       "values", "S011"))
            break
        target = Path(os.path.expanduser(item["ref"]))
        target = target if target.is_absolute() else root / target
        try:
            agent_doc = parse(read_text(target, shown_path(target)), shown_path(target))
        except SpecError as exc:
            reason = exc.diagnostics[0]
            problems.append(Diagnostic(ref_mark.file, ref_mark.line, ref_mark.col, display_path(here + ("ref",)),
                                       f"cannot load agent file {item['ref']!r}: {reason.format()}", "S011"))
            continue
        body = agent_doc.data.get("agent") if isinstance(agent_doc.data, dict) else None
        if not isinstance(body, dict):
            problems.append(Diagnostic(ref_mark.file, ref_mark.line, ref_mark.col, display_path(here + ("ref",)),
                                       f"{item['ref']!r} is not an agent file (expected a top-level 'agent:' mapping)",
                                       "S011"))
            continue
        agents[index] = body
        refs[index] = target
        values += len(agent_doc.values)
        for table, source in ((located.values, agent_doc.values), (located.keys, agent_doc.keys)):
            for sub, mark in source.items():
                if sub[:1] == ("agent",):
                    table[here + sub[1:]] = mark
    if problems:
        raise SpecError(problems)
    return refs


def _validate(model: type[BaseModel], data: Any, marks: dict[Path_, Mark], key_marks: dict[Path_, Mark]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        located = LoadedSpec(Path("."), Path("."), marks, key_marks, {})
        diagnostics = []
        errors = exc.errors(include_url=False)
        for error in errors[:MAX_SCHEMA_ERRORS]:
            loc = tuple(part for part in error["loc"] if part not in _UNION_TAGS)
            extra = error["type"] == "extra_forbidden"
            diagnostics.append(located.diagnostic(loc, _message(model, loc, error), key=extra))
        if len(errors) > MAX_SCHEMA_ERRORS:
            first = errors[MAX_SCHEMA_ERRORS]
            loc = tuple(part for part in first["loc"] if part not in _UNION_TAGS)
            diagnostics.append(located.diagnostic(loc, f"{len(errors) - MAX_SCHEMA_ERRORS} more schema errors "
                                                  "from here on, not shown", key=first["type"] == "extra_forbidden"))
        raise SpecError(_unique(diagnostics)) from None


def _message(model: type[BaseModel], loc: Path_, error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        suffix = f"; did you mean {hint[0]!r}?" if hint else (f" (allowed: {', '.join(allowed)})" if allowed else "")
        return f"unknown key {loc[-1]!r}{suffix}"
    if kind == "string_pattern_mismatch":
        return f"{error['input']!r} does not match {error['ctx']['pattern']}"
    if kind == "union_tag_invalid" or kind == "model_type":
        return f"expected an agent mapping or {{ref: path}}, got {_kind(error['input'])}"
    return error["msg"]


def _fields_at(model: type[BaseModel], loc: Path_) -> list[str]:
    """The field names (aliases where set) of the model that stands at ``loc``, if any."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[-1] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
            current = field.annotation if field else None
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated, and pick the inline agent model out of the agent-item union."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is Union or str(origin) == "<class 'types.UnionType'>":
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = next((a for a in options if _unwrap(a) is AgentSpec), options[0])
        else:
            return annotation


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    return [d for d in diagnostics if not (d in seen or seen.add(d))]
