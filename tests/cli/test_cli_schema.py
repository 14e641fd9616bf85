"""``strata schema`` and the checked-in copy that editors read (agentstrata/stack.schema.json)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRATA = ROOT / ".venv" / "bin" / "strata"
CHECKED_IN = ROOT / "agentstrata" / "stack.schema.json"


def test_the_checked_in_schema_is_what_strata_schema_prints():
    result = subprocess.run([str(STRATA), "schema"], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(CHECKED_IN.read_text(encoding="utf-8")), (
        "agentstrata/stack.schema.json is out of date with the models; regenerate it with:\n"
        "    .venv/bin/strata schema > agentstrata/stack.schema.json"
    )
    assert result.stdout == CHECKED_IN.read_text(encoding="utf-8"), (
        "agentstrata/stack.schema.json differs in formatting; regenerate it with:\n"
        "    .venv/bin/strata schema > agentstrata/stack.schema.json"
    )
