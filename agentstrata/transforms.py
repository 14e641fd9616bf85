"""Transforms applied to a value in flight, on a ``data_flow`` edge.

Built-ins are named; anything else is a dotted path to a user function, written
``package.module:function`` or ``package.module.function``. A transform takes one value
and returns the value the consumer receives. The runtime imports user functions
(:func:`resolve_transform`); validation only reads their source (:func:`check_transform`).
"""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from agentstrata.errors import SpecError
from agentstrata.yaml_source import load_plain, read_regular_file

Transform = Callable[[Any], Any]
#: The ``strata validate`` option that imports user transforms instead of reading their source.
IMPORT_OPTION = "--import-transforms"


class TransformError(ValueError):
    """A transform cannot be found, or failed on its value."""


def identity(value: Any) -> Any:
    return value


def json_value(value: Any) -> Any:
    """Text is parsed as JSON; anything else is passed through a JSON round trip (plain data only)."""
    try:
        if isinstance(value, (str, bytes)):
            return json.loads(value)
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise TransformError(f"json: {exc}") from None


def parse_yaml_log(value: Any) -> list[dict[str, Any]]:
    """A session log, as YAML text or as ``{workspace: YAML text}``, to a list of entries.

    Each entry is a mapping; entries from a per-workspace mapping get a ``workspace`` key.
    Entries are sorted by their ``timestamp`` (as written), oldest first.
    """
    if isinstance(value, dict):
        entries: list[dict[str, Any]] = []
        for workspace, text in value.items():
            for entry in _entries(text, str(workspace)):
                entries.append({"workspace": str(workspace), **entry})
        return sorted(entries, key=lambda e: str(e.get("timestamp", "")))
    return sorted(_entries(value, "log"), key=lambda e: str(e.get("timestamp", "")))


def _entries(value: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(value, list):
        documents: Any = value
    elif isinstance(value, str):
        try:
            documents = load_plain(value) or []
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" line {mark.line + 1}:" if mark else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise TransformError(f"parse_yaml_log: {where}:{line} invalid YAML: {problem}") from None
    else:
        raise TransformError(f"parse_yaml_log: {where}: expected YAML text or a list, got {type(value).__name__}")
    if not isinstance(documents, list):
        raise TransformError(f"parse_yaml_log: {where}: expected a list of entries")
    result = []
    for index, entry in enumerate(documents):
        if not isinstance(entry, dict):
            raise TransformError(f"parse_yaml_log: {where}: entry {index} is not a mapping")
        result.append({str(k): v for k, v in entry.items()})
    return result


BUILTIN_TRANSFORMS: dict[str, Transform] = {
    "identity": identity,
    "json": json_value,
    "parse_yaml_log": parse_yaml_log,
}


def resolve_transform(name: str, root: Path | None = None) -> Transform:
    """A built-in by name, or a user function by dotted path, imported; TransformError when it cannot be found.

    User modules import with the project ``root`` first on ``sys.path``: where :func:`check_transform`
    looks for their source.
    """
    if name in BUILTIN_TRANSFORMS:
        return BUILTIN_TRANSFORMS[name]
    module_name, attribute = _dotted_path(name)
    added = root is not None and str(root) not in sys.path
    if added:
        sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TransformError(f"transform {name!r}: cannot import {module_name!r}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - importing user code may fail in any way
        raise TransformError(f"transform {name!r}: importing it failed: {type(exc).__name__}: {exc}") from None
    finally:
        if added:
            sys.path.remove(str(root))
    function = getattr(module, attribute, None)
    if not callable(function):
        raise TransformError(f"transform {name!r}: {module_name!r} has no function {attribute!r}")
    return function


def apply_transform(name: str, value: Any, root: Path | None = None) -> Any:
    """Apply the named transform; any failure becomes a TransformError naming it."""
    function = resolve_transform(name, root)
    try:
        return function(value)
    except TransformError:
        raise
    except Exception as exc:  # noqa: BLE001 - user code: report, never crash the host
        raise TransformError(f"transform {name!r} failed: {type(exc).__name__}: {exc}") from None


def check_transform(name: str, root: Path | None = None) -> None:
    """TransformError unless ``name`` is a built-in, or a function its module's source defines.

    Nothing is imported or run: the module file is found the way ``import`` would find it (the
    project ``root``, then ``sys.path``; parent packages are located, never executed) and read
    as a syntax tree. Validating a stack must never run code from it.
    """
    if name in BUILTIN_TRANSFORMS:
        return
    module_name, attribute = _dotted_path(name)
    source = _module_source(name, module_name, root)
    try:
        tree = ast.parse(read_regular_file(source, str(source)), filename=str(source))
    except SpecError as exc:
        raise TransformError(f"transform {name!r}: {exc.diagnostics[0].message}: {source}") from None
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise TransformError(f"transform {name!r}: cannot parse {source}: {type(exc).__name__}: {exc}") from None
    names, star_import = _top_level_names(tree.body)
    # A name that a star import may bring in cannot be checked without importing it: accepted.
    if attribute not in names and not star_import:
        raise TransformError(f"transform {name!r}: {module_name!r} has no function {attribute!r}")


def _dotted_path(name: str) -> tuple[str, str]:
    """``package.module:function`` or ``package.module.function`` -> (module, function)."""
    module_name, sep, attribute = name.partition(":")
    if not sep:
        module_name, _, attribute = name.rpartition(".")
    if not module_name or not attribute:
        known = ", ".join(BUILTIN_TRANSFORMS)
        raise TransformError(f"unknown transform {name!r}: not one of {known}, nor a dotted path module.function")
    return module_name, attribute


def _module_source(name: str, module_name: str, root: Path | None) -> Path:
    """The source file of ``module_name``, located by the path finder alone (it imports nothing)."""
    locations: list[str] | None = ([str(root)] if root is not None else []) + sys.path
    parts = module_name.split(".")
    for index in range(len(parts)):
        fullname = ".".join(parts[: index + 1])
        if locations is None:
            raise TransformError(f"transform {name!r}: {'.'.join(parts[:index])!r} is a module, not a package")
        spec = importlib.machinery.PathFinder.find_spec(fullname, locations)
        if spec is None and fullname in sys.builtin_module_names:
            raise TransformError(f"transform {name!r}: module {fullname!r} is built into Python: no source "
                                 f"to check without importing it ({IMPORT_OPTION} imports it)")
        if spec is None:
            raise TransformError(f"transform {name!r}: no module {fullname!r} in the project root or on sys.path")
        locations = spec.submodule_search_locations
    if spec.origin is None or not spec.has_location or not spec.origin.endswith(".py"):
        raise TransformError(f"transform {name!r}: module {module_name!r} has no Python source to check without "
                             f"importing it ({spec.origin or 'a namespace package'}; {IMPORT_OPTION} imports it)")
    return Path(spec.origin)


def _top_level_names(body: list[ast.stmt]) -> tuple[set[str], bool]:
    """Names a module body binds (in conditional blocks too), and whether it has a star import."""
    names: set[str] = set()
    star = False
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
        elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                star = star or alias.name == "*"
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(statement, (ast.If, ast.Try, ast.TryStar, ast.With, ast.For, ast.While)):
            blocks = [statement.body, getattr(statement, "orelse", []), getattr(statement, "finalbody", [])]
            blocks += [handler.body for handler in getattr(statement, "handlers", [])]
            for block in blocks:
                inner, inner_star = _top_level_names(block)
                names |= inner
                star = star or inner_star
    return names, star
