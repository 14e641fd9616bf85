"""Single-flight, debounced runs of a real marimo notebook (agentstrata.runtime.agent_runner)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from tests.runtime.conftest import write_notebook

from agentstrata.runtime.agent_runner import AgentRunner, OutputBinding, run_in_daemon_thread
from agentstrata.runtime.inputs import InputBoard
from agentstrata.runtime.notebook_runner import Notebook
from agentstrata.runtime.outputs import OutputStore

SLOW_RUN_SECONDS = 0.4


def journal_notebook(tmp_path: Path) -> tuple[Path, Path]:
    """A notebook that logs start/end of each run (with its input) to a journal, and takes a while."""
    journal = tmp_path / "journal.jsonl"
    notebook = write_notebook(
        tmp_path / "slow.py",
        """
        @app.cell
        def _():
            x = 0
            return (x,)
        """,
        f"""
        @app.cell
        def _(x):
            import json as _json
            import time as _time
            with open({str(journal)!r}, "a") as _f:
                _f.write(_json.dumps({{"event": "start", "x": x}}) + "\\n")
            _time.sleep({SLOW_RUN_SECONDS})
            with open({str(journal)!r}, "a") as _f:
                _f.write(_json.dumps({{"event": "end", "x": x}}) + "\\n")
            y = x * 10
            return (y,)
        """,
    )
    return notebook, journal


def events(journal: Path) -> list[dict[str, int | str]]:
    return [json.loads(line) for line in journal.read_text().splitlines()] if journal.exists() else []


def drive(tmp_path: Path, scenario: Callable[[AgentRunner, InputBoard], Awaitable[None]]) -> AgentRunner:
    notebook, _ = journal_notebook(tmp_path)

    async def main() -> AgentRunner:
        board = InputBoard({"x": "test"})
        runner = AgentRunner(Notebook(notebook), [OutputBinding("y", "y")], board, OutputStore(),
                             max_payload=10_000, debounce=0.05)
        runner.start()
        try:
            await asyncio.wait_for(scenario(runner, board), timeout=60)
        finally:
            await runner.stop()
        return runner

    return asyncio.run(main())


async def settle(runner: AgentRunner) -> None:
    """Until no run is pending or in progress."""
    await asyncio.sleep(0.1)
    while runner.busy or runner.pending:
        await asyncio.sleep(0.02)


def test_a_burst_of_changes_makes_one_run(tmp_path: Path) -> None:
    async def scenario(runner: AgentRunner, board: InputBoard) -> None:
        for value in range(1, 11):
            board.set("x", value, str(value))
        await settle(runner)

    runner = drive(tmp_path, scenario)
    assert [e for e in events(tmp_path / "journal.jsonl")] == [{"event": "start", "x": 10}, {"event": "end", "x": 10}]
    assert runner.runs == 1
    assert json.loads(runner.store.get("y").data) == 100  # type: ignore[union-attr]


def test_changes_during_a_run_make_exactly_one_follow_up_run(tmp_path: Path) -> None:
    async def scenario(runner: AgentRunner, board: InputBoard) -> None:
        board.set("x", 1, "1")
        while not runner.busy:
            await asyncio.sleep(0.01)
        for value in (2, 3, 4):  # all while run 1 is in progress
            board.set("x", value, str(value))
            await asyncio.sleep(0.05)
        await settle(runner)

    runner = drive(tmp_path, scenario)
    assert events(tmp_path / "journal.jsonl") == [
        {"event": "start", "x": 1}, {"event": "end", "x": 1},
        {"event": "start", "x": 4}, {"event": "end", "x": 4},
    ]
    assert runner.runs == 2


def test_runs_never_overlap(tmp_path: Path) -> None:
    async def scenario(runner: AgentRunner, board: InputBoard) -> None:
        for value in range(1, 8):
            board.set("x", value, str(value))
            await asyncio.sleep(SLOW_RUN_SECONDS / 3)
        await settle(runner)

    drive(tmp_path, scenario)
    kinds = [e["event"] for e in events(tmp_path / "journal.jsonl")]
    assert kinds == ["start", "end"] * (len(kinds) // 2)
    assert events(tmp_path / "journal.jsonl")[-1] == {"event": "end", "x": 7}


def test_same_input_versions_do_not_run_again(tmp_path: Path) -> None:
    async def scenario(runner: AgentRunner, board: InputBoard) -> None:
        board.set("x", 1, "1")
        await settle(runner)
        runner.trigger()  # e.g. an upstream reconnect announcing what we already have
        await settle(runner)

    assert drive(tmp_path, scenario).runs == 1


def test_no_run_before_every_input_has_a_value(tmp_path: Path) -> None:
    async def scenario(runner: AgentRunner, board: InputBoard) -> None:
        runner.trigger()
        await settle(runner)

    runner = drive(tmp_path, scenario)
    assert runner.runs == 0
    assert runner.inputs.unresolved() == ["input 'x' (test): waiting for a first value"]


@pytest.mark.parametrize("outputs_only, expected_runs_of_display_cell", [(False, 1), (True, 0)])
def test_outputs_only_skips_cells_the_outputs_do_not_need(
    tmp_path: Path, outputs_only: bool, expected_runs_of_display_cell: int
) -> None:
    marker = tmp_path / "display-ran"
    notebook = write_notebook(
        tmp_path / "display.py",
        """
        @app.cell
        def _():
            x = 1
            return (x,)
        """,
        """
        @app.cell
        def _(x):
            y = x + 1
            return (y,)
        """,
        f"""
        @app.cell
        def _(y):
            with open({str(marker)!r}, "a") as _f:
                _f.write(str(y))
            return
        """,
    )

    async def main() -> AgentRunner:
        board = InputBoard({"x": "test"})
        runner = AgentRunner(Notebook(notebook), [OutputBinding("y", "y")], board, OutputStore(),
                             max_payload=10_000, debounce=0.01, outputs_only=outputs_only)
        runner.start()
        board.set("x", 5, "5")
        await settle(runner)
        await runner.stop()
        return runner

    runner = asyncio.run(main())
    assert json.loads(runner.store.get("y").data) == 6  # type: ignore[union-attr]
    display_runs = len(marker.read_text()) if marker.exists() else 0  # it writes one digit per run
    assert display_runs == expected_runs_of_display_cell


def test_an_exception_in_the_worker_thread_reaches_the_caller() -> None:
    def fail() -> None:
        raise LookupError("from the worker")

    with pytest.raises(LookupError, match="from the worker"):
        asyncio.run(run_in_daemon_thread(fail))
