"""Transforms applied to a value in flight, on a ``data_flow`` edge.

Built-ins are named; anything else is a dotted path to a user function, written
``package.module:function`` or ``package.module.function``. A transform takes one value
and returns the value the consumer receives.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

Transform = Callable[[Any], Any]
# libyaml's safe loader: the same results as yaml.safe_load, about 14x faster on session logs.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
            documents = yaml.load(value, Loader=_YAML_LOADER) or []
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
        result.append({str(k): (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in entry.items()})
    return result


BUILTIN_TRANSFORMS: dict[str, Transform] = {
    "identity": identity,
    "json": json_value,
    "parse_yaml_log": parse_yaml_log,
}


def resolve_transform(name: str, root: Path | None = None) -> Transform:
    """A built-in by name, or a user function by dotted path; TransformError when it cannot be found.

    User modules import with the project ``root`` on ``sys.path``, so the validator and the
    runtime find the same functions.
    """
    if name in BUILTIN_TRANSFORMS:
        return BUILTIN_TRANSFORMS[name]
    module_name, sep, attribute = name.partition(":")
    if not sep:
        module_name, _, attribute = name.rpartition(".")
    if not module_name or not attribute:
        known = ", ".join(BUILTIN_TRANSFORMS)
        raise TransformError(f"unknown transform {name!r}: not one of {known}, nor a dotted path module.function")
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
