"""Runs the long steps of the deploy toolchain so that users see progress, not noise.

Each step shows a spinner with its elapsed time, prints ``✓ <step> (12.3 s)`` when it is done,
and sends the full output of its commands to ``.strata/logs/<step>.log``. A failure becomes a
``StrataError`` saying what failed, where the log is and what to do: the output of a Go or
debootstrap run is thousands of lines, and the one line that matters is near the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from agentstrata.errors import StrataError
from agentstrata.private_log import open_private_log

#: How much of a failed command's output the error message repeats.
_TAIL_LINES = 15


class Step:
    """One step in progress: runs commands into its log and reports how it went."""

    def __init__(self, title: str, log_path: Path, hint: str, show: Callable[[str], None]) -> None:
        self.title = title
        self.log_path = log_path
        self.hint = hint
        self.outcome = ""
        self._show = show

    def detail(self, text: str) -> None:
        """Show what the step is doing right now, next to its title."""
        self._show(f"{self.title}: {text}")

    def log(self, text: str) -> None:
        """Append a line of our own to the step's log."""
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(text.rstrip("\n") + "\n")

    def run(
        self,
        argv: Sequence[str | os.PathLike[str]],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Run a command with its output going to the log; raise if it fails."""
        args = [str(a) for a in argv]
        self.log(f"$ {' '.join(args)}" + (f"    (in {cwd})" if cwd else ""))
        with self.log_path.open("ab") as handle:
            # A new session, so that a timeout or ^C can stop the command's children too.
            proc = subprocess.Popen(
                args,
                cwd=cwd,
                env=dict(env) if env is not None else None,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _stop(proc)
                raise self.failure(f"`{_short(args)}` did not finish within {timeout:.0f} s") from None
            finally:
                if proc.poll() is None:
                    _stop(proc)
        if code != 0:
            raise self.failure(f"`{_short(args)}` exited with status {code}")

    def failure(self, what: str) -> StrataError:
        """The error to raise: what failed, the end of the log, where the log is, what to do."""
        tail = _tail(self.log_path, _TAIL_LINES)
        shown = "\n".join(f"    {line}" for line in tail)
        return StrataError(
            f"{self.title} failed: {what}.\n"
            + (f"  Last lines of output:\n{shown}\n" if tail else "")
            + f"  Full log: {_display(self.log_path)}\n"
            + f"  What to do: {self.hint}"
        )


class StepRunner:
    """Creates steps, each with its own log file under ``logs_dir``."""

    def __init__(self, logs_dir: Path, console: Console | None = None) -> None:
        self.logs_dir = logs_dir
        self.console = console or Console(stderr=True)

    @contextmanager
    def step(self, title: str, log_name: str, hint: str) -> Iterator[Step]:
        """Run the body as a step; set ``step.outcome`` (e.g. "cached") to show it on the ✓ line."""
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.logs_dir / f"{log_name}.log"
        log_path.unlink(missing_ok=True)
        with open_private_log(log_path) as log:
            log.write(f"# {title}: {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        start = time.monotonic()
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
            # Off a terminal (CI, a pipe) a spinner cannot redraw: only the ✓/✗ lines are printed.
            disable=not self.console.is_terminal,
        )
        task = progress.add_task(escape(title))
        step = Step(title, log_path, hint, lambda text: progress.update(task, description=escape(text)))
        try:
            with progress:
                yield step
        except StrataError:
            self._report("[red]✗[/]", title, "", start)
            raise
        except Exception as exc:  # noqa: BLE001 - every failure reaches the user as a message
            step.log(traceback.format_exc())
            self._report("[red]✗[/]", title, "", start)
            raise step.failure(f"{type(exc).__name__}: {exc}") from exc
        self._report("[green]✓[/]", title, step.outcome, start)

    def _report(self, mark: str, title: str, outcome: str, start: float) -> None:
        elapsed = time.monotonic() - start
        note = f"{outcome}, " if outcome else ""
        self.console.print(f"{mark} {escape(title)} ({escape(note)}{elapsed:.1f} s)", highlight=False)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a command and everything it started (its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _tail(path: Path, count: int) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if line.strip()][-count:]


def _short(args: list[str]) -> str:
    text = " ".join(args)
    return text if len(text) <= 120 else text[:117] + "..."


def _display(path: Path) -> str:
    """A path relative to the working directory when below it, as users would type it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
