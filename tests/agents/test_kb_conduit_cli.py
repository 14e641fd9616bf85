"""kb-conduit, the layer-0 shell tool: each command, its errors, append-only logs, safe YAML."""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
KB_CONDUIT = ROOT / "agents" / "kb_base" / "kb-conduit"
SAMPLE_KB = ROOT / "stacks" / "sample-kb"

NOW = "2025-03-03T09:12:00Z"


@pytest.fixture
def workspace(kb, tmp_path: Path) -> Path:
    assert kb("init").returncode == 0
    assert kb("workspace", "add", "api").returncode == 0
    return tmp_path / "kb" / "workspaces" / "api"


def entries(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or []


def assert_usage_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"kb-conduit: {message}\n")
    assert "Usage: kb-conduit COMMAND [ARGS]" in result.stderr


# -- help and usage ----------------------------------------------------------------------------

def test_help_prints_usage_and_environment(kb) -> None:
    result = kb("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: kb-conduit COMMAND [ARGS]")
    assert "KB_CONDUIT_ROOT" in result.stdout and "KB_CONDUIT_NOW" in result.stdout


def test_no_command_is_a_usage_error(kb) -> None:
    assert_usage_error(kb(), "missing COMMAND")


def test_unknown_command_is_a_usage_error(kb) -> None:
    assert_usage_error(kb("frobnicate"), "unknown command 'frobnicate'")


# -- init ---------------------------------------------------------------------------------------

def test_init_creates_kb_yaml_and_workspaces(kb, tmp_path: Path) -> None:
    result = kb("init")
    assert result.returncode == 0
    assert result.stdout == f"initialised KB at {tmp_path / 'kb'}\n"
    assert yaml.safe_load((tmp_path / "kb" / "kb.yaml").read_text()) == {"version": 1}
    assert (tmp_path / "kb" / "workspaces").is_dir()


def test_init_twice_keeps_the_kb(kb, tmp_path: Path) -> None:
    kb("init")
    before = (tmp_path / "kb" / "kb.yaml").read_bytes()
    result = kb("init")
    assert result.returncode == 0
    assert result.stdout == f"KB already initialised at {tmp_path / 'kb'}\n"
    assert (tmp_path / "kb" / "kb.yaml").read_bytes() == before


def test_init_takes_no_arguments(kb) -> None:
    assert_usage_error(kb("init", "extra"), "init takes no arguments")


def test_commands_need_an_initialised_kb(kb, tmp_path: Path) -> None:
    result = kb("list")
    assert result.returncode == 1
    assert result.stderr == f"kb-conduit: no KB at {tmp_path / 'kb'} (create it with: kb-conduit init)\n"


# -- workspace add ------------------------------------------------------------------------------

def test_workspace_add_creates_empty_context_and_log(workspace: Path) -> None:
    assert yaml.safe_load((workspace / "context.yaml").read_text()) is None
    assert yaml.safe_load((workspace / "sessions.yaml").read_text()) is None


def test_workspace_add_twice_fails(kb, workspace: Path) -> None:
    result = kb("workspace", "add", "api")
    assert result.returncode == 1
    assert result.stderr == "kb-conduit: workspace 'api' already exists\n"


def test_workspace_name_is_validated(kb, workspace: Path) -> None:
    assert_usage_error(
        kb("workspace", "add", "bad/name"),
        "invalid workspace 'bad/name': use letters, digits, '_' and '-' (at most 64), starting with a letter or digit",
    )


def test_workspace_add_needs_a_name(kb, workspace: Path) -> None:
    assert_usage_error(kb("workspace", "add"), "usage: kb-conduit workspace add NAME")


def test_workspace_needs_a_known_subcommand(kb, workspace: Path) -> None:
    assert_usage_error(kb("workspace", "remove", "api"), "unknown workspace subcommand 'remove' (expected: add)")


# -- context set --------------------------------------------------------------------------------

def test_context_set_writes_a_mapping(kb, workspace: Path) -> None:
    assert kb("context", "set", "api", "owner", "alice").stdout == "set api.owner\n"
    kb("context", "set", "api", "yes", "null")
    assert yaml.safe_load((workspace / "context.yaml").read_text()) == {"owner": "alice", "yes": "null"}


def test_context_set_replaces_a_value_in_place(kb, workspace: Path) -> None:
    kb("context", "set", "api", "owner", "alice")
    kb("context", "set", "api", "status", "active")
    kb("context", "set", "api", "owner", "bob")
    text = (workspace / "context.yaml").read_text()
    assert [line for line in text.splitlines() if not line.startswith("#")] == ['"owner": "bob"', '"status": "active"']


def test_context_set_replaces_a_hand_written_plain_key(kb, workspace: Path) -> None:
    (workspace / "context.yaml").write_text("owner: alice\nrepo: x\n")
    kb("context", "set", "api", "owner", "bob")
    assert yaml.safe_load((workspace / "context.yaml").read_text()) == {"owner": "bob", "repo": "x"}


def test_context_set_on_unknown_workspace_fails(kb, workspace: Path) -> None:
    result = kb("context", "set", "nope", "owner", "alice")
    assert result.returncode == 1
    assert result.stderr == (
        "kb-conduit: unknown workspace 'nope' (known: api; add it with: kb-conduit workspace add nope)\n"
    )


def test_context_set_needs_three_arguments(kb, workspace: Path) -> None:
    assert_usage_error(kb("context", "set", "api", "owner"), "usage: kb-conduit context set WORKSPACE KEY VALUE")


def test_context_key_is_validated(kb, workspace: Path) -> None:
    assert_usage_error(
        kb("context", "set", "api", "a key", "v"),
        "invalid key 'a key': use letters, digits, '_' and '-' (at most 64), starting with a letter or digit",
    )


# -- log ----------------------------------------------------------------------------------------

def test_log_appends_a_timestamped_entry(kb, workspace: Path) -> None:
    result = kb("log", "api", "Fix the: thing", "--tag", "ci", "--tag=done", "--agent", "claude", now=NOW)
    assert result.returncode == 0
    assert result.stdout == "2025-03-03T09:12:00.000Z\n"
    assert (workspace / "sessions.yaml").read_text().endswith(
        '- timestamp: "2025-03-03T09:12:00.000Z"\n'
        '  message: "Fix the: thing"\n'
        '  tags: ["ci", "done"]\n'
        '  agent: "claude"\n'
    )


def test_log_timestamp_is_utc_with_milliseconds(kb, workspace: Path) -> None:
    kb("log", "api", "one", now="2025-03-03 10:12:00.5 +0100")
    kb("log", "api", "two")
    first, second = entries(workspace / "sessions.yaml")
    assert first["timestamp"] == "2025-03-03T09:12:00.500Z"
    assert second["timestamp"][10] == "T" and second["timestamp"].endswith("Z") and len(second["timestamp"]) == 24


def test_log_agent_defaults_to_kb_conduit_agent_then_user(kb, workspace: Path) -> None:
    kb("log", "api", "by env", env={"KB_CONDUIT_AGENT": "ci-bot"})
    kb("log", "api", "by user")
    assert [e["agent"] for e in entries(workspace / "sessions.yaml")] == ["ci-bot", "tester"]
    assert [e["tags"] for e in entries(workspace / "sessions.yaml")] == [[], []]


def test_log_message_starting_with_dash_after_double_dash(kb, workspace: Path) -> None:
    assert kb("log", "api", "--tag", "x", "--", "--verbose was wrong").returncode == 0
    assert entries(workspace / "sessions.yaml")[0]["message"] == "--verbose was wrong"


def test_log_on_unknown_workspace_fails(kb, workspace: Path) -> None:
    result = kb("log", "nope", "hello")
    assert result.returncode == 1
    assert "unknown workspace 'nope'" in result.stderr


def test_log_without_message_is_a_usage_error(kb, workspace: Path) -> None:
    assert_usage_error(kb("log", "api"), "usage: kb-conduit log WORKSPACE MESSAGE [--tag T]... [--agent A]")


def test_log_with_empty_message_is_a_usage_error(kb, workspace: Path) -> None:
    assert_usage_error(kb("log", "api", ""), "MESSAGE is empty")


def test_log_tag_without_value_is_a_usage_error(kb, workspace: Path) -> None:
    assert_usage_error(kb("log", "api", "hi", "--tag"), "--tag needs a value")


def test_log_unknown_option_is_a_usage_error(kb, workspace: Path) -> None:
    assert_usage_error(kb("log", "api", "hi", "--tags", "x"),
                       "log: unknown option '--tags' (use -- before a message starting with '-')")


def test_log_tag_is_validated(kb, workspace: Path) -> None:
    assert_usage_error(
        kb("log", "api", "hi", "--tag", "two words"),
        "invalid tag 'two words': use letters, digits, '_' and '-' (at most 64), starting with a letter or digit",
    )


def test_log_rejects_an_unparsable_kb_conduit_now(kb, workspace: Path) -> None:
    assert_usage_error(kb("log", "api", "hi", now="yesterday-ish"),
                       "KB_CONDUIT_NOW='yesterday-ish' is not a date that date(1) understands")


def test_log_rejects_invalid_utf8(workspace: Path, tmp_path: Path) -> None:
    result = subprocess.run([str(KB_CONDUIT), "log", "api", b"caf\xe9"], capture_output=True, timeout=60,
                            env={"PATH": os.environ["PATH"], "KB_CONDUIT_ROOT": str(tmp_path / "kb")}, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith(b"kb-conduit: MESSAGE is not valid UTF-8\n")


def test_log_never_rewrites_earlier_bytes(kb, workspace: Path) -> None:
    log = workspace / "sessions.yaml"
    snapshots = [log.read_bytes()]
    for index in range(5):
        kb("log", "api", f"entry {index}: \"quoted\"", "--tag", "t", now=f"2025-03-0{index + 1}T10:00:00Z")
        current = log.read_bytes()
        assert current.startswith(snapshots[-1])
        snapshots.append(current)
    assert [e["message"] for e in entries(log)] == [f'entry {i}: "quoted"' for i in range(5)]


def test_log_starts_a_new_line_after_an_unterminated_hand_edit(kb, workspace: Path) -> None:
    log = workspace / "sessions.yaml"
    log.write_text('- timestamp: "2025-03-01T00:00:00.000Z"\n  message: "by hand"')
    kb("log", "api", "by tool", now=NOW)
    assert [e["message"] for e in entries(log)] == ["by hand", "by tool"]


def test_concurrent_logs_never_interleave(kb, workspace: Path) -> None:
    long_text = "x" * 5000  # longer than a pipe buffer: one write could be split without the lock
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda i: kb("log", "api", f"writer {i} {long_text}", "--tag", f"w{i}"), range(40)))
    assert all(r.returncode == 0 for r in results)
    logged = entries(workspace / "sessions.yaml")
    assert sorted(e["message"] for e in logged) == sorted(f"writer {i} {long_text}" for i in range(40))
    assert all(e["tags"] == [e["message"].split()[0][0] + e["message"].split()[1]] for e in logged)


AWKWARD_MESSAGES = [
    'He said "yes": no',
    "key: value # not a comment",
    "line one\nline two\n\n  indented",
    "tab\tand\rcarriage return",
    "back\\slash \\n not a newline",
    "- looks like a list item",
    "{not: a mapping} [nor, a list] & *alias !tag %directive @at `tick`",
    "unicode ✓ café 日本語 🎉",
    "C1 control \u0085 and separators \u2028 \u2029 and bell \x07 and DEL \x7f",
    "  leading and trailing spaces  ",
    "null",
    "yes",
    "123",
    "'single quotes'",
    "...",
    "---",
]


@pytest.mark.parametrize("message", AWKWARD_MESSAGES)
def test_awkward_messages_round_trip_through_yaml(kb, workspace: Path, message: str) -> None:
    assert kb("log", "api", "--agent", 'agent "x": y', "--", message).returncode == 0
    (entry,) = entries(workspace / "sessions.yaml")
    assert entry["message"] == message
    assert entry["agent"] == 'agent "x": y'


def test_awkward_context_values_round_trip_through_yaml(kb, workspace: Path) -> None:
    for index, value in enumerate(AWKWARD_MESSAGES):
        kb("context", "set", "api", f"k{index}", value)
    assert yaml.safe_load((workspace / "context.yaml").read_text()) == {
        f"k{index}": value for index, value in enumerate(AWKWARD_MESSAGES)
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1))
def test_any_text_round_trips_through_yaml(kb, workspace: Path, message: str) -> None:
    log = workspace / "sessions.yaml"
    log.write_text("")
    assert kb("log", "api", "--", message).returncode == 0
    assert [e["message"] for e in entries(log)] == [message]


# -- list and show ------------------------------------------------------------------------------

def test_list_shows_names_counts_and_last_timestamps(kb, workspace: Path) -> None:
    kb("workspace", "add", "zeta")
    kb("workspace", "add", "Alpha")
    kb("log", "api", "one", now="2025-03-01T00:00:00Z")
    kb("log", "api", "two", now="2025-03-02T00:00:00Z")
    result = kb("list")
    assert result.returncode == 0
    assert result.stdout == "Alpha\t0\t-\napi\t2\t2025-03-02T00:00:00.000Z\nzeta\t0\t-\n"


def test_show_prints_the_workspace_as_yaml(kb, workspace: Path) -> None:
    kb("context", "set", "api", "owner", "alice")
    kb("log", "api", "multi\nline", "--tag", "todo", "--agent", "bob", now=NOW)
    result = kb("show", "api")
    assert result.returncode == 0
    assert yaml.safe_load(result.stdout) == {
        "workspace": "api",
        "context": {"owner": "alice"},
        "sessions": [{"timestamp": "2025-03-03T09:12:00.000Z", "message": "multi\nline", "tags": ["todo"],
                      "agent": "bob"}],
    }


def test_show_of_an_empty_workspace(kb, workspace: Path) -> None:
    assert yaml.safe_load(kb("show", "api").stdout) == {"workspace": "api", "context": {}, "sessions": []}


def test_show_needs_exactly_one_workspace(kb, workspace: Path) -> None:
    assert_usage_error(kb("show"), "usage: kb-conduit show WORKSPACE")


# -- dependencies and the sample KB ------------------------------------------------------------

def coreutils_only_path(tmp_path: Path, with_flock: bool) -> str:
    """A PATH with bash and the coreutils programs only (plus flock when asked): no python, no yq."""
    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is not available to list the coreutils programs")
    listing = subprocess.run(["dpkg", "-L", "coreutils"], capture_output=True, text=True, timeout=60, check=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    programs = [Path(p) for p in listing.stdout.split() if "/bin/" in p and Path(p).is_file()]
    programs += [Path(shutil.which("bash"))] + ([Path(shutil.which("flock"))] if with_flock else [])
    for program in programs:
        (bin_dir / program.name).symlink_to(program)
    return str(bin_dir)


@pytest.mark.parametrize("with_flock", [True, False], ids=["with-flock", "without-flock"])
def test_runs_with_bash_and_coreutils_only(kb, tmp_path: Path, with_flock: bool) -> None:
    if with_flock and shutil.which("flock") is None:
        pytest.skip("flock is not installed")
    env = {"PATH": coreutils_only_path(tmp_path, with_flock)}
    bash = shutil.which("bash")
    for args in (["init"], ["workspace", "add", "w"], ["context", "set", "w", "k", "v: 1"],
                 ["log", "w", "hello: \"x\"", "--tag", "t", "--agent", "a"], ["list"], ["show", "w"]):
        result = kb(*args, now=NOW, env=env)
        assert result.returncode == 0, (args, result.stderr)
    assert bash is not None
    assert entries(tmp_path / "kb" / "workspaces" / "w" / "sessions.yaml")[0]["message"] == 'hello: "x"'


def test_concurrent_logs_without_flock_never_tear(kb, workspace: Path, tmp_path: Path) -> None:
    env = {"PATH": coreutils_only_path(tmp_path, with_flock=False)}
    body = "multi-line message\n" * 300  # 5,700 bytes over 300 lines: printf wrote it in 300 pieces

    def writer(index: int) -> list[int]:
        return [kb("log", "api", f"w{index} e{entry}\n{body}", "--tag", f"w{index}", env=env).returncode
                for entry in range(40)]

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = [code for codes in pool.map(writer, range(20)) for code in codes]
    assert codes == [0] * 800
    logged = entries(workspace / "sessions.yaml")
    assert sorted(e["message"] for e in logged) == sorted(f"w{w} e{e}\n{body}" for w in range(20) for e in range(40))
    assert all(list(e) == ["timestamp", "message", "tags", "agent"] for e in logged)
    assert all(e["tags"] == [e["message"].split()[0]] for e in logged)


@pytest.mark.parametrize("size", [10, 5_000, 100_000], ids=["small", "over-a-page", "over-a-pipe-buffer"])
def test_log_appends_each_entry_in_one_write(kb, workspace: Path, tmp_path: Path, size: int) -> None:
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    log = workspace / "sessions.yaml"
    before = log.stat().st_size
    trace = tmp_path / "trace"
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "KB_CONDUIT_ROOT": str(tmp_path / "kb"), "LANG": "C.UTF-8",
           "USER": "tester"}
    message = ("x" * 99 + "\n") * (size // 100) or "x" * size
    result = subprocess.run(["strace", "-f", "-y", "-e", "trace=write", "-o", str(trace), str(KB_CONDUIT), "log",
                             "api", message], env=env, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0 and "ptrace" in result.stderr:
        pytest.skip(f"strace cannot trace here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    writes = [line for line in trace.read_text().splitlines() if f"<{log}>" in line]  # -y: fds with their paths
    assert len(writes) == 1, writes
    assert writes[0].endswith(f"= {log.stat().st_size - before}")


def test_sample_kb_is_reproduced_byte_for_byte(tmp_path: Path) -> None:
    target = tmp_path / "rebuilt"
    result = subprocess.run([str(ROOT / "agents" / "kb_base" / "make-sample-kb"), str(target)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    committed = {p.relative_to(SAMPLE_KB): p.read_bytes() for p in SAMPLE_KB.rglob("*") if p.is_file()}
    rebuilt = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert rebuilt == committed
