"""The project's one notebook error: a notebook that cannot be analysed, loaded or run.

Validation raises it for a file that is no marimo notebook or does not parse; the runtime raises it
when importing or running a notebook fails. Either way it says where (the file, the line when
known, the cell when the failure is inside one) and why, in a :class:`CellFailure` that outlives
the exception: the runtime keeps the last one for ``/health``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentstrata.errors import StrataError


@dataclass(frozen=True)
class CellFailure:
    """Where and how a notebook failed: the cell (by function name), its line, the exception."""

    file: str
    cell: str | None
    line: int | None
    exception: str
    traceback: str

    def describe(self) -> str:
        location = f"{self.file}:{self.line}" if self.line else self.file
        if self.cell:
            return f"cell {self.cell!r} ({location}) raised {self.exception}"
        return f"{location}: {self.exception}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "cell": self.cell, "line": self.line, "exception": self.exception,
                "traceback": self.traceback}


class NotebookError(StrataError):
    """A notebook that cannot be analysed, loaded or run; ``failure`` says where and why."""

    def __init__(
        self, file: str, line: int | None, reason: str, *, cell: str | None = None, traceback: str | None = None
    ) -> None:
        self.failure = CellFailure(file, cell, line, reason, traceback or reason)
        super().__init__(self.failure.describe())

    @property
    def file(self) -> str:
        return self.failure.file

    @property
    def line(self) -> int | None:
        return self.failure.line

    @property
    def reason(self) -> str:
        return self.failure.exception
