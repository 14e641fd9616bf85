"""``env:`` inputs: the value of an environment variable, read once (a process's env does not change)."""

from __future__ import annotations

import os

from agentstrata.runtime.inputs import InputBoard
from agentstrata.runtime.versions import content_version


def read_env_input(input_name: str, variable: str, board: InputBoard) -> None:
    value = os.environ.get(variable)
    if value is None:
        board.report(input_name, f"environment variable {variable} is not set")
        return
    board.set(input_name, value, content_version(value.encode()))
