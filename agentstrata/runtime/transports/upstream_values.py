"""Turning an upstream agent's output envelope into this agent's input values.

Shared by every transport's subscriptions: check the envelope (its version must be the hash of its
value, so garbage is caught), apply the data_flow edge's transform in flight, store the result.
A bad envelope or a failing transform is logged and the input keeps its last good value.
"""

from __future__ import annotations

import json
import logging

from agentstrata.runtime.encoding import dumps
from agentstrata.runtime.host_config import Upstream
from agentstrata.runtime.inputs import InputBoard
from agentstrata.runtime.versions import content_version
from agentstrata.transforms import TransformError, apply_transform

log = logging.getLogger(__name__)


class UpstreamInputs:
    def __init__(self, upstream: Upstream, board: InputBoard, max_payload: int) -> None:
        self.upstream = upstream
        self.board = board
        self.max_payload = max_payload
        #: The last version received per output (applied or refused), to ask only for newer ones.
        self.seen: dict[str, str] = {}
        #: Input -> why the transform failed on the version in ``seen``: it stands until a new version comes.
        self._failed: dict[str, str] = {}

    @property
    def outputs(self) -> list[str]:
        return sorted({want.output for want in self.upstream.wants})

    def report(self, output: str | None, problem: str | None) -> None:
        """A problem with one output (or, with None, with the whole upstream), kept for /health;
        None clears it."""
        for want in self.upstream.wants:
            if output is None or want.output == output:
                self.board.report(want.input, problem)

    def still_current(self, output: str) -> None:
        """The upstream still announces the version last received: a problem of that version stands, any
        other (unreachable, refused fetch) is over."""
        for want in self.upstream.wants:
            if want.output == output:
                self.board.report(want.input, self._failed.get(want.input))

    def too_large(self, output: str, size: int) -> None:
        self.refuse(output, f"payload of {size}+ bytes is over the limit of {self.max_payload} bytes (--max-payload)")

    def refuse(self, output: str, reason: str) -> None:
        message = f"upstream {self.upstream.agent}.{output}: {reason}; keeping the last good value"
        log.warning("%s", message)
        self.report(output, message)

    def apply(self, output: str, raw: bytes) -> None:
        """Apply one envelope (``{"version", "value", ...}`` as JSON bytes) to the inputs it feeds."""
        if len(raw) > self.max_payload:
            self.too_large(output, len(raw))
            return
        try:
            envelope = json.loads(raw)
            version, value = envelope["version"], envelope["value"]
            if not isinstance(version, str) or envelope.get("name", output) != output:
                raise ValueError("not an envelope for this output")
            if content_version(dumps(value)) != version:
                raise ValueError(f"version {version} does not match the value's content")
        except (ValueError, KeyError, TypeError) as exc:
            self.refuse(output, f"invalid envelope ({type(exc).__name__}: {exc})")
            return
        self.seen[output] = version
        for want in self.upstream.wants:
            if want.output != output:
                continue
            self._failed.pop(want.input, None)
            try:
                transformed = apply_transform(want.transform, value, want.root)
            except TransformError as exc:
                message = (f"upstream {self.upstream.agent}.{output}: transform for input {want.input!r} failed: "
                           f"{exc}; keeping the last good value")
                log.warning("%s", message)
                self._failed[want.input] = message
                self.board.report(want.input, message)
                continue
            if self.board.set(want.input, transformed, version):
                log.info("input %r <- %s.%s version %s", want.input, self.upstream.agent, output, version)
