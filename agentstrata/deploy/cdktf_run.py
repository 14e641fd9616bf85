"""Runs one ``cdktf`` command as a step: its output to the step's log, its progress on screen.

An interruption (Ctrl-C, or the step's time bound) must not leave a corrupted state: tofu saves
its state when it gets SIGINT, so SIGINT goes to the tofu processes alone and they are given time
to finish. The cdktf (node) process in front of them is left to exit after them: killed first, it
would close the pipe tofu writes to, and a write to a closed pipe kills a Go program on the spot.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from agentstrata.deploy.steps import Step
from agentstrata.errors import StrataError

#: How long tofu gets to save its state after SIGINT before everything is killed.
GRACE_SECONDS = 90.0
_TOFU_NAMES = {"tofu", "terraform"}
# "docker_container.kb_base: Creating..." / "... Still creating... [10s elapsed]" / "Apply complete! ..."
_EVENT = re.compile(
    r"(?P<what>\S+\.\S+: (Creat|Modif|Destr|Refresh|Read|Still|Plan)\S*.*"
    r"|(Apply|Destroy) complete!.*|Plan: .*|Initializing .*|No changes\..*)"
)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# cdktf redraws a status line ("1 Stack deploying  0 Stacks done ...") and a spinner: noise in a log.
_REDRAWN = re.compile(r"^(\d+ Stacks? \w+\s+\d+ Stacks? done\s+\d+ Stacks? waiting|[⠀-⣿]\s+\w+)$")


class Interrupted(StrataError):
    """The user stopped the command; the state was given time to be saved."""


def run_cdktf(
    step: Step,
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    resume_hint: str,
) -> None:
    """Run ``argv``; show its latest resource event; raise the step's failure if it fails."""
    args = [str(a) for a in argv]
    step.log(f"$ {' '.join(args)}    (in {cwd})")
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    reader = threading.Thread(target=_follow, args=(proc, step), daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        step.detail("time is up: stopping tofu, letting it save its state")
        _stop_gracefully(proc, step)
        reader.join(timeout=5)
        raise step.failure(f"`{_short(args)}` did not finish within {timeout:.0f} s") from None
    except KeyboardInterrupt:
        step.detail("interrupted: letting tofu save its state (Ctrl-C again is ignored)")
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            saved = _stop_gracefully(proc, step)
        finally:
            signal.signal(signal.SIGINT, previous)
        reader.join(timeout=5)
        outcome = ("the Terraform state was saved" if saved else
                   f"tofu did not stop within {GRACE_SECONDS:.0f} s and was killed; the next run recovers")
        raise Interrupted(
            f"{step.title} interrupted; {outcome}.\n  Full log: {step.log_path}\n  What to do: {resume_hint}",
            exit_code=130,
        ) from None
    reader.join(timeout=5)
    if code != 0:
        raise step.failure(f"`{_short(args)}` exited with status {code}")


def _follow(proc: subprocess.Popen[bytes], step: Step) -> None:
    """Copy the output to the log as plain text (no colours, no redrawn status lines); show resource events."""
    assert proc.stdout is not None
    previous = ""
    with step.log_path.open("a", encoding="utf-8") as log:
        for raw in iter(proc.stdout.readline, b""):
            line = _ANSI.sub("", raw.decode("utf-8", errors="replace")).rstrip()
            if _REDRAWN.match(line.strip()) or (not line.strip() and not previous.strip()):
                continue
            log.write(line + "\n")
            log.flush()
            previous = line
            match = _EVENT.search(line)
            if match:
                step.detail(match.group("what")[:100])


def _stop_gracefully(proc: subprocess.Popen[bytes], step: Step) -> bool:
    """SIGINT to tofu, wait for it; then end whatever is left of the command's session.

    True when tofu exited by itself within the grace period, i.e. saved its state.
    """
    tofus = _tofu_processes(proc.pid)
    for tofu in tofus:
        try:
            tofu.send_signal(signal.SIGINT)
        except psutil.Error:
            continue
    alive: list[psutil.Process] = []
    if tofus:
        step.log(f"# sent SIGINT to tofu (pids {', '.join(str(t.pid) for t in tofus)}); waiting for it to save state")
        _, alive = psutil.wait_procs(tofus, timeout=GRACE_SECONDS)
    # cdktf exits by itself once tofu has; whatever still runs after that is ended.
    for stop in (None, signal.SIGTERM, signal.SIGKILL):
        if stop is not None:
            try:
                os.killpg(proc.pid, stop)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    return not alive


def _tofu_processes(pid: int) -> list[psutil.Process]:
    """The tofu processes at or below ``pid``."""
    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.Error:
        return []
    found = []
    for child in family:
        try:
            if child.name() in _TOFU_NAMES:
                found.append(child)
        except psutil.Error:
            continue
    return found


def _short(args: list[str]) -> str:
    text = " ".join(args)
    return text if len(text) <= 120 else text[:117] + "..."
