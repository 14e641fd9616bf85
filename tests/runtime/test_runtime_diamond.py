"""A diamond of hosts: a change reaches the bottom agent once, though it travels paths of
different lengths (upstreams announce `pending`, and runs wait for them)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.runtime.conftest import (
    free_port,
    get_json,
    output_value,
    wait_ready,
    wait_until,
    write_notebook,
    write_stack,
)

STACK = """
stack:
  name: diamond
  agents:
    - name: root
      layer: 0
      port: {root}
      implementation: {{path: root.py}}
      interface:
        inputs: [{{name: raw, type: raw, source: "file:data.json"}}]
        outputs: [{{name: n, type: number, exposed_as: "reactive_cell:n"}}]
    - name: slow
      layer: 1
      port: {slow}
      implementation: {{path: slow.py}}
      interface:
        inputs: [{{name: n, type: number, source: "agent:root.n"}}]
        outputs: [{{name: m, type: number, exposed_as: "reactive_cell:m"}}]
    - name: bottom
      layer: 2
      port: {bottom}
      implementation: {{path: bottom.py}}
      interface:
        inputs:
          - {{name: n, type: number, source: "agent:root.n"}}
          - {{name: m, type: number, source: "agent:slow.m"}}
        outputs: [{{name: pair, type: pair, exposed_as: "reactive_cell:pair"}}]
"""


def test_a_change_reaches_the_bottom_of_a_diamond_once(tmp_path: Path, serve) -> None:
    write_notebook(tmp_path / "root.py", "@app.cell\ndef _():\n    raw = {}\n    return (raw,)",
                   "@app.cell\ndef _(raw):\n    n = raw['n']\n    return (n,)")
    write_notebook(tmp_path / "slow.py", "@app.cell\ndef _():\n    n = 0\n    return (n,)",
                   "@app.cell\ndef _(n):\n    import time as _t\n    _t.sleep(1.0)\n    m = n * 10\n    return (m,)")
    write_notebook(tmp_path / "bottom.py", "@app.cell\ndef _():\n    n = 0\n    return (n,)",
                   "@app.cell\ndef _():\n    m = 0\n    return (m,)",
                   "@app.cell\ndef _(m, n):\n    pair = [n, m]\n    return (pair,)")
    ports = {"root": free_port(), "slow": free_port(), "bottom": free_port()}
    stack = write_stack(tmp_path / "stack.yaml", STACK.format(**ports))
    (tmp_path / "data.json").write_text(json.dumps({"n": 1}))
    hosts = {name: serve("--stack", str(stack), "--agent", name, "--no-ui", port=port)
             for name, port in ports.items()}
    for host in hosts.values():
        wait_ready(host)
    bottom = hosts["bottom"].url
    wait_until(lambda: output_value(bottom, "pair") == [1, 10], "the first pair")
    runs_before = get_json(f"{bottom}/health")["runs"]

    for n in (2, 3):
        (tmp_path / "data.json").write_text(json.dumps({"n": n}))
        wait_until(lambda: output_value(bottom, "pair") == [n, n * 10], f"the pair for n={n}")
        wait_until(lambda: not get_json(f"{bottom}/health")["pending"], "the bottom to settle")

    assert get_json(f"{bottom}/health")["runs"] - runs_before == 2  # one run per change, never [n, old m]
