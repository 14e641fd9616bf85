"""Synthesized Terraform JSON without what differs between machines, for snapshot tests.

The project's absolute path becomes ``<project>``; SHA-256 digests (content-addressed build
contexts, the hash of agentstrata's own files in the runtime image's tag and triggers) become
``<hash>``: they change with agentstrata's version, not with the stack.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_DIGEST = re.compile(r"[0-9a-f]{64}")
_RUNTIME_TAG = re.compile(r"strata-runtime:[0-9a-f]{12}")


def portable_json(config: Any, project: Path) -> Any:
    """``config`` with the project path and the digests replaced (see the module's doc)."""
    text = json.dumps(config, sort_keys=True).replace(str(project), "<project>")
    text = _RUNTIME_TAG.sub("strata-runtime:<hash>", _DIGEST.sub("<hash>", text))
    return json.loads(text)
