"""Loading the jsii bindings: quietly, and in the background while specs are being validated.

Starting the jsii kernel (a node process) and loading the cdktf assembly takes about as long as
validating a stack's notebooks; a synth that does both at once finishes close to twice as fast.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterable

# Set before the jsii kernel starts (it reads them once). Debian's node is the one this project
# runs on; jsii's end-of-life banner on every synth tells users nothing they can act on here.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


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
