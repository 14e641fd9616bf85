"""``strata schema``: the JSON Schema of stack and agent files, for editors."""

from __future__ import annotations

import json

from agentstrata.cli.app import app, out
from agentstrata.schema import json_schema


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of stack and agent files (for yaml-language-server)."""
    out.print(json.dumps(json_schema(), indent=2, sort_keys=True), markup=False, highlight=False)
