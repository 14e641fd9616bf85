"""Safe, located YAML: plain data plus the file position of every key and value.

PyYAML's composer gives a node graph with positions and shares aliased nodes, so a
"billion laughs" file composes in linear time; we build values ourselves from that graph,
under a node budget, accepting only the core schema's tags. No Python object is ever
constructed from a tag, and a duplicate key is an error rather than "last one wins".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agentstrata.errors import Diagnostic, SpecError

#: Values built from one file at most; alias expansion past this is refused.
MAX_NODES = 100_000
#: Nesting depth at most; no spec needs more, and deep nesting is a stack-exhaustion vector.
MAX_DEPTH = 64
#: Bytes read from one file at most.
MAX_BYTES = 8 * 1024 * 1024

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Resolves core-schema scalars (ints, bools, nulls...) with PyYAML's own rules; holds no state per node.
_SCALARS = yaml.SafeLoader("")

Path_ = tuple[Any, ...]


@dataclass(frozen=True)
class Mark:
    """Where a value (or key) stands: 1-based line and column, and its path within its own file."""

    file: str
    line: int
    col: int
    path: Path_

    @property
    def display(self) -> str:
        return display_path(self.path)


@dataclass
class Located:
    """A parsed YAML document: plain data, and marks for every value and key by path."""

    data: Any
    values: dict[Path_, Mark]
    keys: dict[Path_, Mark]


def display_path(path: Path_) -> str:
    """``('stack', 'agents', 2, 'name')`` -> ``stack.agents[2].name``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def unusable(file: str, message: str, line: int = 1, col: int = 1) -> SpecError:
    """An input that cannot be read as a spec at all: exit code 2."""
    return SpecError([Diagnostic(file, line, col, "", message)], exit_code=2)


def read_text(path: Path, shown: str) -> str:
    """The file as text, or a located exit-2 error for unreadable, binary and non-UTF-8 files."""
    try:
        if path.is_dir():
            raise unusable(shown, "is a directory, not a YAML file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except SpecError:
        raise
    except OSError as exc:
        raise unusable(shown, f"cannot read file: {exc.strerror or exc}") from None
    except ValueError as exc:  # a path holding a NUL byte, e.g. from a `ref:` value
        raise unusable(shown, f"cannot read file: {exc}") from None
    if len(raw) > MAX_BYTES:
        raise unusable(shown, f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    if b"\x00" in raw:
        raise unusable(shown, "binary file (contains NUL bytes), not YAML")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise unusable(
            shown, f"not UTF-8: invalid byte 0x{raw[exc.start]:02x} at offset {exc.start}", line, col
        ) from None
    return text


def parse(text: str, shown: str) -> Located:
    """Parse one YAML document into plain data with marks; exit-2 errors for anything not YAML."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise unusable(shown, f"invalid YAML: {problem}", line, col) from None
    except yaml.YAMLError as exc:
        raise unusable(shown, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise unusable(shown, f"invalid YAML: nested deeper than {MAX_DEPTH} levels") from None
    if node is None:
        raise unusable(shown, "empty file: expected a mapping with 'stack:' or 'agent:'")
    builder = _Builder(shown)
    data = builder.build(node, ())
    return Located(data, builder.values, builder.keys)


class _Builder:
    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.count = 0
        self.values: dict[Path_, Mark] = {}
        self.keys: dict[Path_, Mark] = {}
        self.active: set[int] = set()

    def _mark(self, node: yaml.Node, path: Path_) -> Mark:
        return Mark(self.shown, node.start_mark.line + 1, node.start_mark.column + 1, path)

    def _fail(self, node: yaml.Node, message: str) -> SpecError:
        return unusable(self.shown, message, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self._fail(node, f"document expands to more than {MAX_NODES} values (alias bomb?)")
        if len(path) > MAX_DEPTH:
            raise self._fail(node, f"nested deeper than {MAX_DEPTH} levels")
        if id(node) in self.active:
            raise self._fail(node, "recursive alias: a value contains itself")
        self.values[path] = self._mark(node, path)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _CORE + "seq":
                    raise self._fail(node, f"tag {node.tag!r} is not allowed")
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            if node.tag != _CORE + "map":
                raise self._fail(node, f"tag {node.tag!r} is not allowed")
            return self._mapping(node, path)
        finally:
            self.active.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise self._fail(node, f"tag {node.tag!r} is not allowed")
        if node.tag == _CORE + "timestamp":
            return node.value  # specs hold no dates: keep what was written
        try:
            return _SCALARS.yaml_constructors[node.tag](_SCALARS, node)
        except (ValueError, LookupError, TypeError, OverflowError):
            # PyYAML's resolver admits some values its constructors reject ('0b_', '!!int abc').
            raise self._fail(node, f"invalid {node.tag.removeprefix(_CORE)} value {node.value!r}") from None

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        explicit: set[Any] = set()
        merged: list[tuple[yaml.MappingNode, Path_]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _CORE + "merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        raise self._fail(source, "merge key '<<' takes a mapping or a list of mappings")
                    merged.append((source, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._fail(key_node, "keys must be plain scalars")
            key = self._scalar(key_node)
            if key in explicit:
                raise SpecError(
                    [Diagnostic(self.shown, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                display_path(path + (key,)), f"duplicate key {key!r}")],
                    exit_code=1,
                )
            explicit.add(key)
            self.keys[path + (key,)] = self._mark(key_node, path + (key,))
            result[key] = self.build(value_node, path + (key,))
        for source, source_path in merged:
            for key, value in self.build(source, source_path).items():
                result.setdefault(key, value)
        return result

