"""Computing an agent's outputs: single-flight, debounced runs of its notebook in a worker thread.

Rules (what users of change-propagating pipelines expect):
- a burst of input changes within the debounce window becomes one run;
- no run starts while an upstream is still busy with the same change (its announced ``pending``),
  so a diamond of agents recomputes once per change, not once per path (bounded by ``upstream_wait``);
- never two runs of the same agent at once: changes that arrive during a run schedule exactly one
  follow-up run, with the inputs as they are when it starts;
- a run whose inputs (by version) and notebook are the same as the last attempt's is skipped;
- while a run is pending or in progress, or after one failed, the last good outputs stay served,
  marked stale, and the failure is kept for /health.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import threading
import time
import traceback
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from agentstrata.notebook_error import CellFailure, NotebookError
from agentstrata.runtime.encoding import EncodingError, encode_value
from agentstrata.runtime.inputs import InputBoard
from agentstrata.runtime.notebook_runner import Notebook
from agentstrata.runtime.outputs import OutputStore
from agentstrata.runtime.versions import OutputVersion, utc_now
from agentstrata.runtime.tasks import cancel_and_wait

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_DEBOUNCE_SECONDS = 0.01
DEFAULT_UPSTREAM_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class OutputBinding:
    """An output of the agent and the notebook variable that holds it."""

    name: str
    variable: str


@dataclass
class RunResult:
    records: dict[str, OutputVersion] = field(default_factory=dict)
    output_errors: dict[str, str] = field(default_factory=dict)
    failure: CellFailure | None = None
    bindings: list[OutputBinding] | None = None
    #: With discovered bindings: the definitions left out because they cannot be encoded, and why.
    left_out: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


class AgentRunner:
    def __init__(
        self,
        notebook: Notebook,
        bindings: list[OutputBinding] | None,
        inputs: InputBoard,
        store: OutputStore,
        *,
        max_payload: int,
        debounce: float = DEFAULT_DEBOUNCE_SECONDS,
        outputs_only: bool = False,
        upstream_busy: Callable[[], bool] = lambda: False,
        upstream_wait: float = DEFAULT_UPSTREAM_WAIT_SECONDS,
        on_activity: Callable[[], None] = lambda: None,
    ) -> None:
        self.notebook = notebook
        #: None: a lone notebook whose outputs are discovered at its first run.
        self.bindings = bindings
        self.inputs = inputs
        self.store = store
        self.max_payload = max_payload
        self.debounce = debounce
        #: Run only the cells the outputs need, not display or side-effect cells.
        self.outputs_only = outputs_only
        self._restricted = False
        #: True while an upstream announces it is computing (or its new values are being fetched).
        self.upstream_busy = upstream_busy
        self.upstream_wait = upstream_wait
        #: Told whenever ``busy``/``pending`` may have changed, so the host can announce it.
        self.on_activity = on_activity
        inputs.on_change = self.trigger
        self.busy = False
        self.ready = False
        self.runs = 0
        self.last_failure: CellFailure | None = None
        self.output_errors: dict[str, str] = {}
        #: A lone notebook's definitions not served as outputs because they cannot be encoded, and why.
        self.left_out: dict[str, str] = {}
        self.last_run_at: str | None = None
        self.last_run_seconds: float | None = None
        self._wake = asyncio.Event()
        self._upstreams_moved = asyncio.Event()
        self._reload = True
        self._notebook_generation = 0
        self._last_attempt: tuple[Any, ...] | None = None
        self._task: asyncio.Task[None] | None = None

    # -- scheduling --------------------------------------------------------------------------

    def trigger(self) -> None:
        """Ask for a run with the current inputs (coalesced with any other pending request)."""
        self._wake.set()
        self.on_activity()

    def notebook_changed(self) -> None:
        """The notebook file changed: re-import it and run, even if the inputs did not change."""
        self._reload = True
        self.trigger()

    def upstreams_changed(self) -> None:
        """An upstream's busy state changed: a run held back for it may go now."""
        self._upstreams_moved.set()

    @property
    def pending(self) -> bool:
        return self._wake.is_set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="agent-runner")
        self.trigger()

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self.debounce)  # let a burst of changes settle into one run
            await self._wait_for_upstreams()
            self._wake.clear()
            if self.inputs.unresolved():
                self.on_activity()
                continue  # an input's first value will trigger again
            values, versions = self.inputs.snapshot()
            reload, self._reload = self._reload, False
            if reload:
                self._notebook_generation += 1
            attempt = (versions, self._notebook_generation)
            if attempt == self._last_attempt:
                self.on_activity()
                continue  # same inputs, same notebook: same result
            self._last_attempt = attempt
            self.busy = True
            self.on_activity()
            try:
                result = await run_in_daemon_thread(self._compute, values, reload)
            except Exception as exc:  # noqa: BLE001 - a fault of the host, not the notebook: report, go on
                log.exception("run failed inside the host")
                result = RunResult(failure=CellFailure(
                    self.notebook.path.name, None, None, f"internal error: {type(exc).__name__}: {exc}",
                    "".join(traceback.format_exception(exc))))
            finally:
                self.busy = False
            self._apply(result)
            self.on_activity()

    async def _wait_for_upstreams(self) -> None:
        """Hold the run while an upstream is busy: its new values would make it run again at once."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.upstream_wait
        while self.upstream_busy():
            self._upstreams_moved.clear()
            remaining = deadline - loop.time()
            try:
                await asyncio.wait_for(self._upstreams_moved.wait(), timeout=max(remaining, 0))
            except asyncio.TimeoutError:
                log.warning("an upstream is still busy after %.1fs; running with the inputs at hand",
                            self.upstream_wait)
                return

    # -- one run (in the worker thread) -------------------------------------------------------

    def _compute(self, values: dict[str, Any], reload: bool) -> RunResult:
        started = time.perf_counter()
        result = RunResult()
        try:
            if reload:
                self.notebook.reload()
                self._restricted = False
            if self.outputs_only and self.bindings is not None and not self._restricted:
                skipped = self.notebook.restrict_to({b.variable for b in self.bindings})
                self._restricted = True
                log.info("outputs only: %d cell(s) not needed by the outputs will not run", skipped)
            definitions = self.notebook.run(values)
        except NotebookError as exc:
            result.failure = exc.failure
        else:
            bindings = self.bindings
            if bindings is None:
                bindings, result.left_out = discover_bindings(definitions, values)
            result.bindings = bindings
            for binding in bindings:
                self._encode(binding, definitions, result)
        result.seconds = time.perf_counter() - started
        return result

    def _encode(self, binding: OutputBinding, definitions: Mapping[str, Any], result: RunResult) -> None:
        name = binding.name
        if binding.variable not in definitions:
            result.output_errors[name] = (
                f"output {name!r}: the notebook did not define {binding.variable!r} "
                "(no cell defines it, or its cell was stopped)"
            )
            return
        try:
            data = encode_value(definitions[binding.variable])
        except EncodingError as exc:
            result.output_errors[name] = f"output {name!r} is not JSON-encodable: {exc}"
            return
        if len(data) > self.max_payload:
            result.output_errors[name] = (
                f"output {name!r} is {len(data)} bytes encoded, over the payload limit of "
                f"{self.max_payload} bytes (--max-payload)"
            )
            return
        result.records[name] = OutputVersion.of(name, data)

    # -- results (on the event loop) ----------------------------------------------------------

    def _apply(self, result: RunResult) -> None:
        self.runs += 1
        self.last_run_at = utc_now()
        self.last_run_seconds = result.seconds
        self.last_failure = result.failure
        if result.bindings is not None and self.bindings is None:
            self.bindings = result.bindings
            self.left_out = result.left_out
        self.output_errors = result.output_errors
        if result.failure is not None:
            # The traceback (with the notebook's full path) goes to the log only, never to the API.
            log.error("run %d failed: %s\n%s", self.runs, result.failure.describe(), result.failure.traceback)
            return
        for message in result.output_errors.values():
            log.error("run %d: %s", self.runs, message)
        changed = self.store.publish(result.records)
        if not result.output_errors:
            self.ready = True
        log.info("run %d took %.0f ms; %s", self.runs, result.seconds * 1000,
                 f"new versions: {', '.join(sorted(changed))}" if changed else "outputs unchanged")

    # -- state for the API ---------------------------------------------------------------------

    def output_names(self) -> list[str]:
        return [b.name for b in self.bindings or []]

    def is_stale(self, name: str) -> bool:
        """True when the served value may not reflect the current inputs and notebook."""
        return (self.busy or self.pending or self.last_failure is not None or name in self.output_errors
                or bool(self.inputs.problems()) or name in self.store.restored or self.store.get(name) is None)

    def last_error(self) -> dict[str, Any] | None:
        """The last run's failure: where (the notebook's file name, cell, line) and the exception, no traceback."""
        failure = self.last_failure
        if failure is not None:
            return {"kind": "notebook", "message": failure.describe(), "file": failure.file, "cell": failure.cell,
                    "line": failure.line, "exception": failure.exception}
        if self.output_errors:
            return {"kind": "outputs", "message": "; ".join(self.output_errors.values()),
                    "outputs": dict(self.output_errors)}
        return None

    def problems(self) -> list[str]:
        """What went wrong in the last run, one line each (for /health)."""
        if self.last_failure is not None:
            return [f"last run failed: {self.last_failure.describe()}"]
        return list(self.output_errors.values())


def discover_bindings(
    definitions: Mapping[str, Any], inputs: Mapping[str, Any]
) -> tuple[list[OutputBinding], dict[str, str]]:
    """A lone notebook's outputs: its public, encodable data definitions (not modules, functions, classes);
    and the data definitions left out because they cannot be encoded, each with the reason."""
    bindings = []
    left_out = {}
    for name, value in definitions.items():
        if name.startswith("_") or name in inputs:
            continue
        if isinstance(value, types.ModuleType) or inspect.isroutine(value) or inspect.isclass(value):
            continue
        try:
            encode_value(value)
        except EncodingError as exc:
            log.info("not serving %r as an output: %s (use --output to choose outputs)", name, exc)
            left_out[name] = str(exc)
            continue
        bindings.append(OutputBinding(name, name))
    return sorted(bindings, key=lambda b: b.name), dict(sorted(left_out.items()))


async def run_in_daemon_thread(function: Callable[..., T], *args: Any) -> T:
    """Run ``function`` in a fresh daemon thread: a notebook stuck in a cell never blocks shutdown."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def hand_over(outcome: Callable[[], None]) -> None:
        try:
            loop.call_soon_threadsafe(settle, outcome)
        except RuntimeError:
            pass  # the loop closed while the notebook ran: nobody waits for the result

    def body() -> None:
        try:
            value = function(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            hand_over(functools.partial(future.set_exception, exc))
        else:
            hand_over(functools.partial(future.set_result, value))

    threading.Thread(target=body, name="notebook-run", daemon=True).start()
    return await future
