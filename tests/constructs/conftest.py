"""A throwaway project for the construct tests: the repo's kb-conduit stack with minimal notebooks.

The notebooks are generated from each agent's interface (one cell defining the inputs, one
computing the outputs from them), so they satisfy `strata validate` and never change unless a
test edits one.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
REPO_STACK = ROOT / "stacks" / "kb-conduit.yaml"


def minimal_notebook(inputs: list[str], outputs: list[str]) -> str:
    cells = []
    if inputs:
        cells.append(("", "\n".join(f"    {name} = None" for name in inputs), inputs))
    body = "\n".join(f"    {name} = {{'from': [{', '.join(inputs)}]}}" for name in outputs)
    cells.append((", ".join(inputs), body, outputs))
    text = "import marimo\n\napp = marimo.App()\n"
    for params, cell, defined in cells:
        text += f"\n\n@app.cell\ndef _({params}):\n{cell}\n    return ({', '.join(defined)},)\n"
    return text + '\n\nif __name__ == "__main__":\n    app.run()\n'


def write_notebooks(project: Path, stack_file: Path) -> None:
    """A minimal notebook for every agent of ``stack_file``, at its implementation path."""
    for agent in yaml.safe_load(stack_file.read_text())["stack"]["agents"]:
        interface = agent.get("interface", {})
        path = project / agent["implementation"]["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(minimal_notebook([i["name"] for i in interface.get("inputs", [])],
                                         [o["name"] for o in interface.get("outputs", [])]))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``<tmp>/project``: cdktf.json, stacks/kb-conduit.yaml (the repo's), its KB directory, notebooks."""
    root = tmp_path / "project"
    (root / "stacks" / "sample-kb").mkdir(parents=True)
    (root / "cdktf.json").write_text('{"language": "python", "app": "python main.py"}\n')
    shutil.copy(REPO_STACK, root / "stacks" / "kb-conduit.yaml")
    write_notebooks(root, root / "stacks" / "kb-conduit.yaml")
    # The CLI edge maps these to target props; the tests want the stack's own settings.
    monkeypatch.delenv("KB_CONDUIT_ROOT", raising=False)
    monkeypatch.delenv("STRATA_BASE_IMAGE", raising=False)
    return root


@pytest.fixture
def synth(project: Path) -> Callable[..., dict[str, Any]]:
    """``synth(build)``: run ``build(app)`` -> AgentStack on a testing app in the project, render, synthesize."""
    from cdktf import Testing

    def run(build: Callable[[Any], Any]) -> dict[str, Any]:
        app = Testing.app(outdir=str(project / "cdktf.out"))
        stack = build(app)
        stack.render()
        return json.loads(Testing.synth(stack))

    return run


def normalise(config: Any, project: Path) -> Any:
    """The synthesized JSON with this machine's paths and the runtime's source hash replaced."""
    text = json.dumps(config, indent=2, sort_keys=True).replace(str(project), "<project>")
    text = re.sub(r"[0-9a-f]{64}", "<runtime-hash>", text)
    text = re.sub(r"strata-runtime:[0-9a-f]{12}", "strata-runtime:<runtime-hash>", text)
    return json.loads(text)
