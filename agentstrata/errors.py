"""Errors that reach users: every one carries a message and an exit code, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass


class StrataError(Exception):
    """A failure a user can act on. The CLI prints ``message`` and exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@dataclass(frozen=True)
class Diagnostic:
    """One located finding about a spec file: ``file:line:col: loc: message``."""

    file: str
    line: int
    col: int
    loc: str
    message: str
    code: str = ""
    severity: str = "error"

    def format(self) -> str:
        code = f" [{self.code}]" if self.code else ""
        where = f"{self.loc}: " if self.loc else ""
        level = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}:{self.col}: {level}{where}{self.message}{code}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "loc": self.loc,
            "message": self.message,
            "code": self.code,
            "severity": self.severity,
        }


class SpecError(StrataError):
    """A spec file is invalid (exit 1) or unusable (exit 2); carries every finding at once."""

    def __init__(self, diagnostics: list[Diagnostic], exit_code: int = 1) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics), exit_code)
