"""Inputs of a reference notebook opened on its own (`marimo edit agents/debriefer.py`).

In a stack the runtime injects every input with ``app.run(defs=...)`` and this is never
called. Alone, a notebook asks the upstream agent's service when
:func:`~agentstrata.wire.upstream_env_var` names one, and otherwise (or when it does not answer)
runs the upstream notebook in-process, so a person can open any layer and inspect it live. No
notebook knows where another agent listens: only the stack, through that variable, does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import urllib.request
from pathlib import Path
from typing import Any

from agentstrata.wire import output_path, upstream_env_var


def upstream_output(agent: str, output: str, notebook: str, *, notebook_dir: Path | str) -> Any:
    """``agent``'s ``output``: from the service at ``upstream_env_var(agent)`` when it is set and
    answers, else by running ``notebook`` (relative to ``notebook_dir``) here."""
    variable = upstream_env_var(agent)
    base = os.environ.get(variable, "").rstrip("/")
    if base:
        try:
            with urllib.request.urlopen(base + output_path(output), timeout=2) as response:
                value = json.load(response)["value"]
            print(f"{agent}.{output}: fetched from {base}")
            return value
        except (OSError, ValueError, KeyError, TypeError):
            why = f"{base} did not answer"
    else:
        why = f"{variable} is not set"
    path = Path(notebook_dir) / notebook
    spec = importlib.util.spec_from_file_location(f"strata_upstream_{agent}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    _, defs = module.app.run()
    print(f"{agent}.{output}: {why}; computed by running {path.name} here")
    return defs[output]
