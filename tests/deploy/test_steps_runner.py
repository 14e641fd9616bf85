"""The step runner: logs every command's output, and turns every failure into a StrataError."""

from __future__ import annotations

import io
import sys

import pytest
from rich.console import Console

from agentstrata.deploy.steps import StepRunner
from agentstrata.errors import StrataError


def _runner(tmp_path):
    screen = io.StringIO()
    return StepRunner(tmp_path / "logs", console=Console(file=screen, width=200)), screen


def test_a_finished_step_logs_the_output_and_prints_a_check_mark(tmp_path):
    runner, screen = _runner(tmp_path)
    with runner.step("say hello", "hello", hint="none") as step:
        step.run([sys.executable, "-c", "print('hello from the step')"])
        step.outcome = "cached"
    log = (tmp_path / "logs" / "hello.log").read_text()
    assert "hello from the step" in log
    assert "$ " in log  # the command itself is logged before its output
    assert "✓ say hello (cached, " in screen.getvalue()


def test_a_failing_command_raises_with_the_log_path_the_tail_and_what_to_do(tmp_path):
    runner, screen = _runner(tmp_path)
    script = "import sys\nfor i in range(100): print('line', i)\nprint('the real reason'); sys.exit(3)"
    with pytest.raises(StrataError) as caught:
        with runner.step("build thing", "build-thing", hint="install the thing first") as step:
            step.run([sys.executable, "-c", script])
    message = caught.value.message
    log = tmp_path / "logs" / "build-thing.log"
    assert "build thing failed" in message and "exited with status 3" in message
    assert "the real reason" in message  # the end of the output is repeated
    assert "line 0\n" not in message  # but not all of it
    assert str(log) in message or "build-thing.log" in message
    assert "What to do: install the thing first" in message
    assert "line 0" in log.read_text()  # the full output is in the log
    assert "✗ build thing" in screen.getvalue()


def test_an_unexpected_exception_becomes_a_strata_error_with_the_traceback_in_the_log(tmp_path):
    runner, _ = _runner(tmp_path)
    with pytest.raises(StrataError) as caught:
        with runner.step("parse", "parse", hint="fix the input"):
            raise ValueError("bad input")
    assert "ValueError: bad input" in caught.value.message
    assert "Traceback" in (tmp_path / "logs" / "parse.log").read_text()


def test_a_command_past_its_timeout_is_stopped(tmp_path):
    runner, _ = _runner(tmp_path)
    with pytest.raises(StrataError, match="did not finish within 1 s"):
        with runner.step("wait", "wait", hint="none") as step:
            step.run([sys.executable, "-c", "import time; time.sleep(60)"], timeout=1)


def test_each_step_starts_a_fresh_log(tmp_path):
    runner, _ = _runner(tmp_path)
    for text in ("first", "second"):
        with runner.step("echo", "echo", hint="none") as step:
            step.run([sys.executable, "-c", f"print({text!r})"])
    log = (tmp_path / "logs" / "echo.log").read_text()
    assert "second" in log and "first" not in log


def test_step_logs_are_readable_by_their_owner_only(tmp_path):
    runner, _ = _runner(tmp_path)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "hello.log").write_text("an older, world-readable log\n")
    with runner.step("say hello", "hello", hint="none") as step:
        step.run([sys.executable, "-c", "print('secret-ish output')"])
    assert (tmp_path / "logs" / "hello.log").stat().st_mode & 0o777 == 0o600
