"""Inputs of a reference notebook opened on its own (`marimo edit agents/debriefer.py`).

In a stack the runtime injects every input with ``app.run(defs=...)`` and this is never
called. Alone, a notebook asks the upstream agent's service, and when nothing answers it runs
the upstream notebook in-process, so a person can open any layer and inspect it live.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import urllib.request
from pathlib import Path
from typing import Any


def upstream_output(agent: str, output: str, port: int, notebook: str, *, notebook_dir: Path | str) -> Any:
    """``agent``'s ``output``: from ``STRATA_UPSTREAM_<AGENT>_URL`` (default 127.0.0.1:``port``), else
    by running ``notebook`` (relative to ``notebook_dir``) here."""
    variable = "STRATA_UPSTREAM_" + re.sub(r"[^A-Za-z0-9]", "_", agent).upper() + "_URL"
    base = os.environ.get(variable, f"http://127.0.0.1:{port}").rstrip("/")
    try:
        with urllib.request.urlopen(f"{base}/outputs/{output}", timeout=2) as response:
            value = json.load(response)["value"]
        print(f"{agent}.{output}: fetched from {base}")
        return value
    except (OSError, ValueError, KeyError, TypeError):
        pass
    path = Path(notebook_dir) / notebook
    spec = importlib.util.spec_from_file_location(f"strata_upstream_{agent}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    _, defs = module.app.run()
    print(f"{agent}.{output}: {base} did not answer; computed by running {path.name} here")
    return defs[output]
