"""Where user code called the construct library: Python stacks get located errors too.

A stack composed in Python has no YAML marks, so the file and line of each ``add_agent`` or
``consumes`` call stand in for them, and ``strata validate``'s rules report there.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import jsii
from pydantic import BaseModel, ValidationError

from agentstrata.errors import Diagnostic, SpecError
from agentstrata.loader import shown_path
from agentstrata.yaml_source import display_path

Model = TypeVar("Model", bound=BaseModel)

#: Frames to look through: this library, and jsii's constructor machinery between a user's call and ours.
_SKIPPED = (str(Path(__file__).resolve().parent), str(Path(jsii.__file__).resolve().parent))


@dataclass(frozen=True)
class CallSite:
    file: str
    line: int

    @property
    def path(self) -> Path:
        return Path(self.file)

    @property
    def shown(self) -> str:
        return shown_path(self.path)

    def diagnostic(self, message: str, loc: str = "", code: str = "") -> Diagnostic:
        return Diagnostic(self.shown, self.line, 1, loc, message, code)

    def __str__(self) -> str:
        return f"{self.shown}:{self.line}"


def caller() -> CallSite:
    """The innermost frame outside this package (and jsii): the user's call."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_SKIPPED):
        frame = frame.f_back
    if frame is None:  # called from nowhere but the library itself: no better place to point at
        return CallSite(str(Path.cwd()), 1)
    return CallSite(frame.f_code.co_filename, frame.f_lineno)


def build(model: type[Model], data: dict[str, Any], site: CallSite, what: str) -> Model:
    """``model`` validated from keyword props; a bad prop is an error at the call, naming the prop."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SpecError([
            site.diagnostic(f"{what}: {error['msg']}" + (f" (got {error['input']!r})" if "input" in error else ""),
                            display_path(error["loc"]))
            for error in exc.errors(include_url=False)
        ]) from None
