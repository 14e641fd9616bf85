"""Loading the jsii bindings in the background while specs are being validated.

Starting the jsii kernel (a node process) and loading the cdktf assembly takes about as long as
validating a stack's notebooks; a synth that does both at once finishes close to twice as fast.
The kernel reads its environment once, when it starts: see :mod:`.node_warnings`.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable


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
