"""``file:`` inputs watched with watchfiles (agentstrata.runtime.sources.file_source)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from agentstrata.runtime.inputs import InputBoard
from agentstrata.runtime.sources.file_source import FileSource

TIMEOUT = 20.0


def watch(tmp_path: Path, raw_path: str, scenario: Callable[[InputBoard], Awaitable[None]]) -> InputBoard:
    async def main() -> InputBoard:
        board = InputBoard({"data": f"file:{raw_path}"})
        source = FileSource("data", raw_path, lambda p: tmp_path / p, board)
        source.start()
        try:
            await asyncio.wait_for(scenario(board), timeout=TIMEOUT * 2)
        finally:
            await source.stop()
        return board

    return asyncio.run(main())


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def state(board: InputBoard) -> dict:
    return board.status()["data"]


def value(board: InputBoard) -> object:
    return board.snapshot()[0]["data"]


def test_a_yaml_file_is_parsed_and_followed(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text("a: 1\n")
    seen: list[object] = []

    async def scenario(board: InputBoard) -> None:
        await until(lambda: value(board) == {"a": 1}, "the first value")
        seen.append(state(board)["version"])
        (tmp_path / "data.yaml").write_text("a: 2\nb: [x]\n")
        await until(lambda: value(board) == {"a": 2, "b": ["x"]}, "the changed value")
        seen.append(state(board)["version"])

    watch(tmp_path, "data.yaml", scenario)
    assert seen[0] != seen[1]


def test_json_and_text_files(tmp_path: Path) -> None:
    (tmp_path / "data.json").write_text('{"k": [1, 2]}')
    (tmp_path / "notes.txt").write_text("plain text\n")

    async def json_scenario(board: InputBoard) -> None:
        await until(lambda: value(board) == {"k": [1, 2]}, "the JSON value")

    async def text_scenario(board: InputBoard) -> None:
        await until(lambda: value(board) == "plain text\n", "the text value")

    watch(tmp_path, "data.json", json_scenario)
    watch(tmp_path, "notes.txt", text_scenario)


def test_a_directory_is_its_path_and_any_change_under_it_is_a_new_version(tmp_path: Path) -> None:
    (tmp_path / "kb" / "workspaces" / "w").mkdir(parents=True)
    versions: list[str] = []

    async def scenario(board: InputBoard) -> None:
        await until(lambda: state(board)["resolved"], "the directory")
        versions.append(state(board)["version"])
        (tmp_path / "kb" / "workspaces" / "w" / "sessions.yaml").write_text("- x: 1\n")
        await until(lambda: state(board)["version"] != versions[0], "a new version")

    board = watch(tmp_path, "kb", scenario)
    assert value(board) == str((tmp_path / "kb").resolve())


def test_a_missing_path_is_unresolved_until_it_appears(tmp_path: Path) -> None:
    problems: list[str] = []

    async def scenario(board: InputBoard) -> None:
        await until(lambda: state(board)["problem"] is not None, "the problem")
        problems.extend(board.unresolved())
        (tmp_path / "late.json").write_text("[1]")
        await until(lambda: value(board) == [1], "the late file")

    watch(tmp_path, "late.json", scenario)
    assert problems == ["input 'data' (file:late.json): late.json does not exist"]


def test_an_unset_variable_in_the_path_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRATA_TEST_UNSET_ROOT", raising=False)

    async def scenario(board: InputBoard) -> None:
        await asyncio.sleep(0)

    board = watch(tmp_path, "${STRATA_TEST_UNSET_ROOT}/x.yaml", scenario)
    assert board.unresolved() == [
        "input 'data' (file:${STRATA_TEST_UNSET_ROOT}/x.yaml): environment variable STRATA_TEST_UNSET_ROOT is "
        "not set (source file:${STRATA_TEST_UNSET_ROOT}/x.yaml)"
    ]


def test_invalid_yaml_keeps_the_last_good_value(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text("a: 1\n")

    async def scenario(board: InputBoard) -> None:
        await until(lambda: value(board) == {"a": 1}, "the first value")
        (tmp_path / "data.yaml").write_text("a: [unclosed\n")
        await until(lambda: state(board)["problem"] is not None, "the problem")

    board = watch(tmp_path, "data.yaml", scenario)
    assert value(board) == {"a": 1}
    assert state(board)["problem"].startswith("cannot parse data.yaml: ")
    assert state(board)["problem"].endswith("; keeping the last good value")


def can_list_unreadable(folder: Path) -> bool:
    """Whether this process lists a directory of mode 000 (root, with CAP_DAC_READ_SEARCH)."""
    folder.chmod(0)
    try:
        os.listdir(folder)
    except PermissionError:
        return False
    finally:
        folder.chmod(0o755)
    return True


def test_a_directory_that_cannot_be_listed_keeps_the_last_good_value_until_it_can(tmp_path: Path) -> None:
    locked = tmp_path / "kb" / "workspaces"
    locked.mkdir(parents=True)
    if can_list_unreadable(locked):
        pytest.skip("this process lists unreadable directories (root): run the tests as a user, or as root with "
                    "`setpriv --inh-caps=-all --bounding-set=-dac_override,-dac_read_search`")
    (locked / "a.yaml").write_text("a: 1\n")
    seen: list[dict] = []

    async def scenario(board: InputBoard) -> None:
        await until(lambda: state(board)["version"] is not None, "the first value")
        seen.append(state(board))
        locked.chmod(0)
        try:
            (tmp_path / "kb" / "b.yaml").write_text("b: 1\n")  # a change under the directory: it is read again
            await until(lambda: state(board)["problem"] is not None, "the problem")
            seen.append(state(board))
        finally:
            locked.chmod(0o755)
        (tmp_path / "kb" / "c.yaml").write_text("c: 1\n")
        await until(lambda: state(board)["problem"] is None, "the directory to be read again")
        seen.append(state(board))

    watch(tmp_path, "kb", scenario)
    first, failed, recovered = seen
    assert (failed["problem"], failed["version"]) == (
        "cannot read kb: Permission denied; keeping the last good value", first["version"])
    assert recovered["version"] != first["version"]


def test_a_fifo_input_is_refused_not_read(tmp_path: Path) -> None:
    from agentstrata.errors import SpecError
    from agentstrata.runtime.sources.file_source import read_path

    fifo = tmp_path / "in.yaml"
    os.mkfifo(fifo)
    with pytest.raises(SpecError) as caught:
        read_path(fifo)
    assert caught.value.diagnostics[0].message == "is a FIFO, not a regular file"


def test_deeply_nested_yaml_input_is_refused_with_the_loaders_limit(tmp_path: Path) -> None:
    import yaml

    from agentstrata.runtime.sources.file_source import read_path

    (tmp_path / "deep.yaml").write_text("[" * 50_000 + "]" * 50_000)
    with pytest.raises(yaml.YAMLError, match="nest"):
        read_path(tmp_path / "deep.yaml")
