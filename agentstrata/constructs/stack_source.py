"""A stack's spec as `strata validate` sees it: the model, where each part was declared, its findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agentstrata.errors import Diagnostic, SpecError
from agentstrata.loader import LoadedStack, load_stack
from agentstrata.validate import validate


@dataclass
class StackSource:
    """A loaded stack (from a YAML file, or composed in Python) and the validator's findings about it."""

    loaded: LoadedStack
    _findings: list[Diagnostic] | None = field(default=None, repr=False)

    @classmethod
    def from_file(cls, path: str | Path) -> "StackSource":
        return cls(load_stack(path))

    @property
    def findings(self) -> list[Diagnostic]:
        """Everything `strata validate` reports for this stack, computed once."""
        if self._findings is None:
            self._findings = validate(self.loaded)
        return self._findings

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.findings if d.severity != "error"]

    def check(self) -> None:
        """Raise the validator's errors, located in the spec, exactly as `strata validate` prints them."""
        errors = [d for d in self.findings if d.severity == "error"]
        if errors:
            raise SpecError(errors)
