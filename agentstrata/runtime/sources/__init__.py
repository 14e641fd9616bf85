"""Input sources: the values an agent reads that no agent publishes.

``file:`` inputs are watched (:mod:`.file_source`), ``env:`` inputs read once (:mod:`.env_source`),
and a lone notebook's ``--input`` values are fixed. Inputs fed by an upstream agent (``agent:``)
come through the host's transport instead (:mod:`agentstrata.runtime.transports`).
"""

from __future__ import annotations

from agentstrata.runtime.host_config import HostConfig
from agentstrata.runtime.inputs import InputBoard
from agentstrata.runtime.sources.env_source import read_env_input
from agentstrata.runtime.sources.file_source import FileSource
from agentstrata.runtime.sources.input_source import InputSource


def build_input_sources(config: HostConfig, board: InputBoard) -> list[InputSource]:
    """The watchers of ``file:`` inputs; env and command-line values are set on ``board`` right away."""
    sources: list[InputSource] = [FileSource(name, raw_path, config.resolve, board)
                                  for name, raw_path in config.files.items()]
    for name, variable in config.envs.items():
        read_env_input(name, variable, board)
    for name, fixed in config.fixed.items():
        board.set(name, fixed.value, fixed.version)
    return sources
