"""Where inputs come from: upstream agents (HTTP or Redis), files, env vars, the command line."""

from __future__ import annotations

from typing import Protocol

from agentstrata.errors import StrataError
from agentstrata.runtime.host_config import HostConfig
from agentstrata.runtime.inputs import InputBoard
from agentstrata.runtime.sources.env_source import read_env_input
from agentstrata.runtime.sources.file_source import FileSource
from agentstrata.runtime.sources.http_upstream import HttpUpstream
from agentstrata.runtime.sources.redis_transport import RedisUpstream
from agentstrata.runtime.upstreams import upstream_url_env


class Source(Protocol):
    name: str

    def start(self) -> None: ...

    async def stop(self) -> None: ...


def build_sources(config: HostConfig, board: InputBoard) -> list[Source]:
    """The watchers and subscribers feeding ``board``; env and command-line values are set right away."""
    options = config.options
    sources: list[Source] = []
    for upstream in config.upstreams.values():
        if options.transport == "redis":
            assert options.redis_url is not None
            sources.append(RedisUpstream(options.redis_url, config.stack, upstream, board,
                                         max_payload=options.max_payload))
        elif upstream.url is None:
            raise StrataError(
                f"agent {config.agent!r}: no address for upstream {upstream.agent!r}; "
                f"set {upstream_url_env(upstream.agent)}"
            )
        else:
            sources.append(HttpUpstream(upstream, board, max_payload=options.max_payload,
                                        keepalive=options.keepalive, timeout=options.upstream_timeout))
    for name, raw_path in config.files.items():
        sources.append(FileSource(name, raw_path, config.resolve, board))
    for name, variable in config.envs.items():
        read_env_input(name, variable, board)
    for name, fixed in config.fixed.items():
        board.set(name, fixed.value, fixed.version)
    return sources
