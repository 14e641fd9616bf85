"""Loading the jsii bindings: quietly, and in the background while specs are being validated.

Starting the jsii kernel (a node process) and loading the cdktf assembly takes about as long as
validating a stack's notebooks; a synth that does both at once finishes close to twice as fast.
"""

from __future__ import annotations

import importlib
import os
import threading
import typing
from collections.abc import Callable, Iterable
from typing import Any

# Set before the jsii kernel starts (it reads them once). Debian's node is the one this project
# runs on; jsii's end-of-life banner on every synth tells users nothing they can act on here.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


_STUB_PREFIX = "_typecheckingstub__"


def _memoize_binding_type_hints(get_type_hints: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """``typing.get_type_hints``, remembered for the bindings' type-checking stubs.

    jsii's Python bindings check every call's arguments (when ``__debug__``) against the hints of a
    stub function, re-evaluating its string annotations on each call: a third of the time spent
    creating a container. The hints of a given stub never change, so each is evaluated once; every
    other caller gets ``typing.get_type_hints`` itself, and the checks themselves still run.
    """
    cache: dict[Any, dict[str, Any]] = {}

    def cached(obj: Any, globalns: Any = None, localns: Any = None, include_extras: bool = False) -> dict[str, Any]:
        if globalns is None and localns is None and not include_extras and \
                getattr(obj, "__name__", "").startswith(_STUB_PREFIX):
            if obj not in cache:
                cache[obj] = get_type_hints(obj)
            return cache[obj]
        return get_type_hints(obj, globalns, localns, include_extras)

    cached.__wrapped__ = get_type_hints  # type: ignore[attr-defined]
    return cached


if not hasattr(typing.get_type_hints, "__wrapped__"):
    typing.get_type_hints = _memoize_binding_type_hints(typing.get_type_hints)


class Preload:
    """Modules being imported by a background thread; :meth:`wait` joins it and re-raises its error."""

    def __init__(self, modules: Iterable[str]) -> None:
        self.modules = list(modules)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="strata-preload", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for module in self.modules:
                importlib.import_module(module)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread by wait()
            self._error = exc

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error
