"""Unit-file syntax: settings whose values systemd reads back exactly as written (systemd.syntax(7)).

systemd unquotes and C-unescapes a setting's words, expands ``%`` specifiers in them and, on
command lines only, ``$`` variables. A word that needs none of that is written as is; any other
is double-quoted with its backslashes, quotes and control characters escaped, and its ``%`` (and
on command lines ``$``) doubled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from agentstrata.errors import StrataError

#: A setting: its key and value; a key may repeat (``Environment=``, ``BindReadOnlyPaths=``). The key
#: :data:`COMMENT` makes the value a comment line.
Setting = tuple[str, str]
COMMENT = "#"

_PLAIN = re.compile(r"[A-Za-z0-9_@+=:,./-]+")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def word(text: str, *, command_line: bool = False) -> str:
    """``text`` as one word that systemd reads back unchanged; ``command_line`` for ``Exec*=`` settings."""
    doubled = text.replace("%", "%%")
    if command_line:
        doubled = doubled.replace("$", "$$")
    # A lone ';' separates commands on a command line: quoted, it is an argument.
    if _PLAIN.fullmatch(text) and text != ";":
        return doubled
    escaped = "".join(_ESCAPES.get(c, f"\\x{ord(c):02x}" if ord(c) < 0x20 else c) for c in doubled)
    return f'"{escaped}"'


def command_line(argv: Sequence[str]) -> str:
    """An ``ExecStart=``-style value running exactly ``argv`` (whose first item is an absolute path)."""
    return " ".join(word(arg, command_line=True) for arg in argv)


def path_value(path: Path) -> str:
    """A setting that takes one path as the whole value (``WorkingDirectory=``): not unquoted, only specifiers."""
    return str(path).replace("%", "%%")


def bind_path(path: Path) -> str:
    """A ``BindReadOnlyPaths=`` entry binding ``path`` onto itself; ':' would split it into source and target."""
    text = str(path)
    if ":" in text:
        raise StrataError(f"systemd cannot bind {text} into a unit: the path holds ':'", exit_code=1)
    return word(text)


def unit_text(header: str, sections: Iterable[tuple[str, Sequence[Setting]]]) -> str:
    """The unit file: ``header`` (comment lines), then each section's settings in order."""
    blocks = ["\n".join([f"[{name}]", *(_line(key, value) for key, value in settings)])
              for name, settings in sections]
    return header + "\n" + "\n\n".join(blocks) + "\n"


def _line(key: str, value: str) -> str:
    return f"{COMMENT} {value}" if key == COMMENT else f"{key}={value}"
