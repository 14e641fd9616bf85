"""A project with a stack unrelated to KB Conduit: two notebooks, no ports, no workspace."""

from __future__ import annotations

from pathlib import Path

SOURCE = """\
import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    number = 41
    return (number,)


if __name__ == "__main__":
    app.run()
"""

PLUS_ONE = """\
import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    number = 0
    return (number,)


@app.cell
def _(number):
    answer = number + 1
    return (answer,)


if __name__ == "__main__":
    app.run()
"""

STACK = """\
stack:
  name: "{name}"
  agents:
    - name: "source"
      layer: 0
      implementation:
        path: "notebooks/source.py"
      interface:
        outputs:
          - {{name: "number", type: "int", exposed_as: "reactive_cell:number"}}
    - name: "plus_one"
      layer: 1
      implementation:
        path: "notebooks/plus_one.py"
      dependencies:
        - agent_name: "source"
          inputs: {{number: "number"}}
      interface:
        inputs:
          - {{name: "number", type: "int", source: "agent:source.number"}}
        outputs:
          - {{name: "answer", type: "int", exposed_as: "reactive_cell:answer"}}
deployment:
  target: "docker"
"""


def write_plain_stack(root: Path, name: str) -> Path:
    """``<root>/stacks/<name>.yaml`` and its two notebooks (``root`` holds the project's cdktf.json)."""
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    (root / "notebooks" / "source.py").write_text(SOURCE)
    (root / "notebooks" / "plus_one.py").write_text(PLUS_ONE)
    (root / "stacks").mkdir(exist_ok=True)
    stack_file = root / "stacks" / f"{name}.yaml"
    stack_file.write_text(STACK.format(name=name))
    return stack_file
