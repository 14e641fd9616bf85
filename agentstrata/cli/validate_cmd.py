"""``strata validate PATH...``: check stack and agent files, their rules and their notebooks.

Exit 0: valid (warnings allowed); 1: invalid; 2: unusable input (unreadable, not YAML, not a
mapping). With several paths, the highest code wins. Nothing from the files runs: user transforms
are read, not imported, unless ``--import-transforms`` says otherwise.
"""

from __future__ import annotations

import gc
import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from agentstrata.cli.app import app, out
from agentstrata.errors import Diagnostic, SpecError
from agentstrata.loader import load, shown_path
from agentstrata.transforms import IMPORT_OPTION
from agentstrata.validate import sort_diagnostics, validate


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


def check_file(path: Path, *, import_transforms: bool = False) -> tuple[list[Diagnostic], int]:
    """The findings for one file and its exit code (0 valid, 1 invalid, 2 unusable)."""
    try:
        findings = validate(load(path), import_transforms=import_transforms)
    except SpecError as exc:
        return sort_diagnostics(exc.diagnostics), exc.exit_code
    return findings, int(any(d.severity == "error" for d in findings))


@app.command("validate")
def validate_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Stack files and agent files.", metavar="PATH...", show_default=False)
    ],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="'text' for people, 'json' for CI.")
    ] = OutputFormat.text,
    import_transforms: Annotated[
        bool,
        typer.Option(IMPORT_OPTION, help="Import each user transform's module to check it: this RUNS that "
                     "module's code. Without it, transforms are checked from their source, running nothing."),
    ] = False,
) -> None:
    """Validate stack and agent files: schema, rules, and each agent's notebook contract."""
    # One run builds many small objects (YAML marks, syntax trees) that live until the process exits;
    # the cyclic collector would traverse them again and again: off, a 1,000-agent stack loads twice as fast.
    gc.disable()
    results = [(path, *check_file(path, import_transforms=import_transforms)) for path in paths]
    errors = sum(d.severity == "error" for _, found, _ in results for d in found)
    warnings = sum(d.severity == "warning" for _, found, _ in results for d in found)
    code = max(c for _, _, c in results)
    if output_format is OutputFormat.json:
        report = {
            "files": [
                {"path": shown_path(path), "valid": c == 0, "diagnostics": [d.as_dict() for d in found]}
                for path, found, c in results
            ],
            "errors": errors,
            "warnings": warnings,
        }
        out.print(json.dumps(report, indent=2), markup=False, highlight=False)
    else:
        findings = sort_diagnostics([d for _, found, _ in results for d in found])
        if findings:
            out.print("\n".join(d.format() for d in findings), markup=False, highlight=False)
        invalid = sum(c != 0 for _, _, c in results)
        verdict = "valid" if code == 0 else ("unusable" if code == 2 and len(results) == 1 else "invalid")
        out.print(
            f"{verdict}: {len(results)} file{'s' if len(results) != 1 else ''} checked, {invalid} invalid, "
            f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}",
            markup=False, highlight=False,
        )
    raise typer.Exit(code)
