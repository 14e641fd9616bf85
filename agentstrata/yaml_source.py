"""Safe, located YAML: plain data plus the file position of every key and value.

Every YAML that Strata reads from a file it was given (stack and agent files, the KB's files)
goes through :func:`compose`: libyaml's own composer recurses without a limit (a deeply nested
file crashes the process) and composes a huge flat file for seconds, so a pre-scan of the event
stream refuses both first. We then build values ourselves from PyYAML's node graph, which shares
aliased nodes, once its expansion is measured within a value budget, accepting only the core
schema's tags: no Python object is ever constructed from a tag, a "billion laughs" is refused in
linear time, and a duplicate key is an error rather than "last one wins".
"""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agentstrata.errors import Diagnostic, SpecError

#: Values built from one file at most; alias expansion past this is refused.
MAX_NODES = 100_000
#: YAML nodes (keys and values) in one file at most, counted before anything is composed: it bounds
#: the time reading any file takes (a 1,000-agent stack holds 93,000 nodes).
MAX_TEXT_NODES = 150_000
#: Nesting depth at most (merge keys and aliases count); no spec needs more.
MAX_DEPTH = 64
#: Bytes read from one file at most.
MAX_BYTES = 8 * 1024 * 1024
#: Digits of an integer at most: Python refuses to convert longer decimal text, and no field needs them.
MAX_INT_DIGITS = 4300

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Resolves core-schema scalars (ints, bools, nulls...) with PyYAML's own rules; holds no state per node.
_SCALARS = yaml.SafeLoader("")
_TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels (aliases and merge keys count)"

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


class RefusedYAML(yaml.MarkedYAMLError):
    """Well-formed YAML that this loader refuses: too deep or too large, a tag, an alias bomb, a
    duplicate key. A located ``yaml.YAMLError``, so callers handle it like a syntax error."""

    def __init__(self, problem: str, mark: Any, path: Path_ = (), *, invalid: bool = False) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        #: Where the refused value stands, for the errors that make a spec invalid rather than unusable.
        self.path = path
        self.exit_code = 1 if invalid else 2


def read_regular_file(path: Path, shown: str, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or a located exit-2 error.

    Opened non-blocking and checked on the open descriptor: a FIFO or a terminal (``/dev/stdin``)
    is refused instead of blocking forever, and no rename between a check and the open can swap one in.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise unusable(shown, f"cannot read file: {exc.strerror or exc}") from None
    except ValueError as exc:  # a path holding a NUL byte, e.g. from a `ref:` value
        raise unusable(shown, f"cannot read file: {exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise unusable(shown, "is a directory, not a YAML file")
        if not stat.S_ISREG(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else ("a socket" if stat.S_ISSOCK(mode) else "a device")
            raise unusable(shown, f"is {kind}, not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= limit and (chunk := os.read(fd, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise unusable(shown, f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > limit:
        raise unusable(shown, f"file is larger than {limit // (1024 * 1024)} MiB")
    return raw


def read_text(path: Path, shown: str) -> str:
    """The file as text, or a located exit-2 error for unreadable, special, binary and non-UTF-8 files."""
    raw = read_regular_file(path, shown)
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


def compose(text: str) -> yaml.Node | None:
    """One YAML document as PyYAML's node graph (None when empty), composed by libyaml once a
    pre-scan of its events has found it within MAX_DEPTH and MAX_TEXT_NODES.

    Raises only ``yaml.YAMLError`` (``RefusedYAML`` past a limit), located by its ``problem_mark``.
    """
    with _collector_paused():
        _check_bounds(text)
        return yaml.compose(text, Loader=_Loader)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Composing and building make up to a few hundred thousand small objects, none of them garbage:
    the cyclic collector would traverse them again and again (3x the time on a large file)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_bounds(text: str) -> None:
    """Walks libyaml's events (its parser keeps an explicit stack, so this never recurses)."""
    parser = _Loader(text)
    depth = nodes = documents = 0
    try:
        while not isinstance(event := parser.get_event(), yaml.StreamEndEvent):
            if isinstance(event, yaml.NodeEvent):
                nodes += 1
                if nodes > MAX_TEXT_NODES:
                    raise RefusedYAML(f"document is too large: more than {MAX_TEXT_NODES} YAML nodes",
                                      event.start_mark)
                if isinstance(event, yaml.CollectionStartEvent):
                    depth += 1
                    if depth > MAX_DEPTH:
                        raise RefusedYAML(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    return  # the composer refuses a second document, right here
    finally:
        parser.dispose()


def load_plain(text: str) -> Any:
    """One YAML document as plain data (None when empty), read exactly as spec files are.

    The one reader of KB files and session logs. Raises only ``yaml.YAMLError``, located.
    """
    built = _build(text, None)
    return None if built is None else built.data


def parse(text: str, shown: str) -> Located:
    """Parse one YAML document into plain data with marks; located errors for anything not YAML."""
    try:
        built = _build(text, shown)
    except RefusedYAML as exc:
        mark = exc.problem_mark
        raise SpecError([Diagnostic(shown, mark.line + 1, mark.column + 1, display_path(exc.path), exc.problem)],
                        exit_code=exc.exit_code) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise unusable(shown, f"invalid YAML: {problem}", line, col) from None
    except yaml.YAMLError as exc:
        raise unusable(shown, f"invalid YAML: {exc}") from None
    if built is None:
        raise unusable(shown, "empty file: expected a mapping with 'stack:' or 'agent:'")
    return built


def _build(text: str, shown: str | None) -> Located | None:
    """Compose, measure, then build (with marks when ``shown`` names the file); None for an empty document."""
    with _collector_paused():
        node = compose(text)
        if node is None:
            return None
        _check_expansion(node)
        builder = _Builder(shown)
        return Located(builder.build(node, ()), builder.values, builder.keys)


def _excerpt(value: Any, limit: int = 40) -> str:
    """``repr(value)`` for a message, cut to about ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _check_expansion(root: yaml.Node) -> None:
    """Refuses, before anything is built, a node graph that would expand to more than MAX_NODES values or
    nest deeper than MAX_DEPTH once its aliases and merge keys are expanded, or that contains itself.

    Aliases share nodes, so measuring each node once (its values, its levels of collections) takes time
    linear in the text, however much it would expand: a "billion laughs" is refused in milliseconds.
    """
    measured: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def measure(node: yaml.Node, depth: int) -> tuple[int, int]:
        known = measured.get(id(node))
        if known is None:
            if isinstance(node, yaml.ScalarNode):
                known = (1, 0)
            else:
                if id(node) in active:
                    raise RefusedYAML("recursive alias: a value contains itself", node.start_mark)
                if depth >= MAX_DEPTH:
                    raise RefusedYAML(_TOO_DEEP, node.start_mark)
                active.add(id(node))
                values, levels = 1, 0
                for child in _children(node):
                    child_values, child_levels = measure(child, depth + 1)
                    values, levels = values + child_values, max(levels, child_levels)
                active.discard(id(node))
                known = (values, levels + 1)
            measured[id(node)] = known
        if known[0] > MAX_NODES:
            raise RefusedYAML(f"document expands to more than {MAX_NODES} values (alias bomb?)", node.start_mark)
        if depth + known[1] > MAX_DEPTH:
            raise RefusedYAML(_TOO_DEEP, node.start_mark)
        return known

    measure(root, 0)


def _children(node: yaml.Node) -> list[yaml.Node]:
    """The nodes that building ``node`` builds: items, values, and merge sources (built inside it)."""
    if isinstance(node, yaml.SequenceNode):
        return node.value
    children = []
    for key, value in node.value:
        if key.tag != _CORE + "merge":
            children.append(value)
        else:
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            children += [source for source in sources if isinstance(source, yaml.MappingNode)]
    return children


class _Builder:
    """Plain values from a node graph that ``_check_expansion`` accepted, and the mark of each (when
    ``shown`` names the file: KB readers need no marks)."""

    def __init__(self, shown: str | None) -> None:
        self.shown = shown
        self.values: dict[Path_, Mark] = {}
        self.keys: dict[Path_, Mark] = {}

    def _mark(self, node: yaml.Node, path: Path_) -> Mark:
        return Mark(self.shown, node.start_mark.line + 1, node.start_mark.column + 1, path)

    def build(self, node: yaml.Node, path: Path_) -> Any:
        if self.shown is not None:
            # setdefault: a merge source is built at its mapping's path, and the mapping's own marks win.
            self.values.setdefault(path, self._mark(node, path))
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _CORE + "seq":
                raise RefusedYAML(f"tag {node.tag!r} is not allowed", node.start_mark)
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if node.tag != _CORE + "map":
            raise RefusedYAML(f"tag {node.tag!r} is not allowed", node.start_mark)
        return self._mapping(node, path)

    def _scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise RefusedYAML(f"tag {node.tag!r} is not allowed", node.start_mark)
        if node.tag == _CORE + "str" or node.tag == _CORE + "timestamp":
            return node.value  # specs hold no dates: keep what was written
        if node.tag == _CORE + "int" and len(node.value) > MAX_INT_DIGITS:
            raise RefusedYAML(f"integer too large: {len(node.value)} characters, at most {MAX_INT_DIGITS}",
                              node.start_mark, path, invalid=True)
        try:
            return _SCALARS.yaml_constructors[node.tag](_SCALARS, node)
        except (ValueError, LookupError, TypeError, OverflowError):
            # PyYAML's resolver admits some values its constructors reject ('0b_', '!!int abc').
            kind = node.tag.removeprefix(_CORE)
            raise RefusedYAML(f"invalid {kind} value {_excerpt(node.value)}", node.start_mark) from None

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        explicit: set[Any] = set()
        merged: list[yaml.MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == _CORE + "merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        raise RefusedYAML("merge key '<<' takes a mapping or a list of mappings", source.start_mark)
                    merged.append(source)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise RefusedYAML("keys must be plain scalars", key_node.start_mark)
            key = self._scalar(key_node, path)
            if key in explicit:
                raise RefusedYAML(f"duplicate key {_excerpt(key)}", key_node.start_mark, path + (key,),
                                  invalid=True)
            explicit.add(key)
            if self.shown is not None:
                self.keys.setdefault(path + (key,), self._mark(key_node, path + (key,)))
            result[key] = self.build(value_node, path + (key,))
        for source in merged:
            for key, value in self.build(source, path).items():
                result.setdefault(key, value)
        return result
