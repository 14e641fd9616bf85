"""Fuzz `strata validate` (its in-process path) and the KB's readers with generated and mutated inputs.

Each case is one file: mutations of the example stack, the seed's files and the sample KB; random runs of
YAML syntax; random documents; and, rarely, pathological inputs up to the size limit (deep nesting,
merge chains, alias bombs, huge numbers, flat documents of millions of nodes, special files). The same
text goes to `strata validate` (`check_file`, exit codes 0/1/2) and, as sessions.yaml and context.yaml
of a KB, to kb_base, the validator agent and the parse_yaml_log transform.

Counted: exceptions other than the project's own (StrataError, and TransformError from a transform),
cases over 2 s (each reader timed apart, in CPU seconds: this process's own work, what the run fails on;
and in wall seconds, reported beside: run under `nice` on cores shared with other work, wall time also
measures the neighbours), exit codes other than 0/1/2, and any run of code from the input (transforms
named in the input write a marker file when their module runs). Failing inputs are kept under
.strata/fuzz/. The result replaces the "## Fuzz" section of bench/RESULTS.md.

Run: .venv/bin/python bench/fuzz_inputs.py [--cases 100000] [--seed 0] [--no-record]   (or: make fuzz)
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib.util
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
FAILURES = ROOT / ".strata" / "fuzz"
SLOW_SECONDS = 2.0
#: A case still running after this long is stopped and counted as a hang.
HANG_SECONDS = 60

FRAGMENTS = [
    "stack:", "agent:", "agents:", "- ", "  ", "    ", "\n", "[", "]", "{", "}", ", ", ": ", "? ", "&a ", "*a", "&b ",
    "*b", "<<: ", "<<: *a", "<<: [*a, *b]", "!!str ", "!!int ", "!!float ", "!!map ", "!!seq ", "!!set ", "!!binary ",
    "!!python/object/apply:os.system ", "!local ", '"', "'", "#", "|", ">-", "---", "...", "%YAML 1.1", "%TAG ! !x",
    "0x1F", "0o17", "0b101", "1_000", "1:30:59", ".inf", "-.inf", ".nan", "~", "null", "yes", "No", "=",
    "2025-03-03T09:12:00Z", "2025-03-03", "9" * 60, "\t", "\r\n", "\u2028", "\u0085", "\ufeff", "é", "🎉", "\\",
    "name: a", "layer: 0", "layer: -1", "port: 70000", "port: 2718", "implementation: {path: agents/kb_base.py}",
    "ref: agent.yaml", "ref: fifo", "ref: /dev/stdin", "ref: /dev/zero", "ref: .", "ref: missing.yaml",
    "transform: evil:f", "transform: this:x", "transform: fuzz_transforms:f", "transform: os.path:basename",
    "transform: json", "source: agent:kb_base.session_log", "source: file:${HOME}", "source: env:X",
    "exposed_as: reactive_cell:x", "deployment: {target: docker}", "target: kubernetes",
]
VOCABULARY = [
    "stack", "agent", "name", "agents", "layer", "implementation", "path", "ref", "dependencies", "agent_name",
    "inputs", "interface", "outputs", "type", "source", "exposed_as", "data_flow", "from", "to", "data", "transform",
    "policies", "deployment", "target", "local", "docker", "kubernetes", "port", "env", "edit", "timestamp",
    "message", "tags", "owner", "evil:f", "this:x", "agents/kb_base.py", "agent:kb_base.session_log", "kb_base",
]
EVIL = 'import pathlib\npathlib.Path(__file__).with_name("CODE-RAN").touch()\n\ndef f(value):\n    return value\n'
AGENT = ("agent:\n  name: solo\n  layer: 0\n  implementation:\n    path: agents/kb_base.py\n  interface:\n"
         "    inputs:\n      - {name: kb_root, type: path, source: 'file:kb'}\n")


class Hang(Exception):
    """A case ran past HANG_SECONDS."""


def bases() -> list[str]:
    files = [ROOT / "stacks" / "kb-conduit.yaml", *sorted((ROOT / "tests" / "fixtures" / "seed").glob("*.yaml")),
             *sorted((ROOT / "stacks" / "sample-kb" / "workspaces").glob("*/*.yaml"))]
    return [f.read_text(encoding="utf-8") for f in files] + [AGENT]


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 8)):
        where = rng.randint(0, len(text))
        operation = rng.randrange(7)
        if operation == 0:
            text = text[:where] + rng.choice(FRAGMENTS) + text[where:]
        elif operation == 1:
            text = text[:where] + text[where + rng.randint(1, 40):]
        elif operation == 2:
            text = text[:where] + chr(rng.choice([rng.randint(0, 127), rng.randint(128, 0x2FFFF)])) + text[where + 1:]
        elif operation == 3:
            lines = text.split("\n")
            line = rng.randrange(len(lines))
            lines.insert(line, lines[rng.randrange(len(lines))])
            text = "\n".join(lines)
        elif operation == 4:
            lines = text.split("\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif operation == 5:
            text = text[:where]
        else:
            text = text[:where] + " " * rng.randint(1, 6) + text[where:]
    return text


def random_document(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(6 if depth < 5 else 3)
    if kind == 0:
        return rng.choice(VOCABULARY)
    if kind == 1:
        return rng.choice([rng.randint(-5, 70_000), True, None, 1.5, "", "x" * rng.randint(0, 50)])
    if kind == 2:
        return rng.choice(VOCABULARY + FRAGMENTS)
    if kind == 3:
        return [random_document(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(VOCABULARY): random_document(rng, depth + 1) for _ in range(rng.randint(0, 6))}


def pathological(rng: random.Random) -> str | bytes:
    """Inputs at and past the limits; a few near the 8 MiB size limit."""
    depth = rng.choice([63, 64, 65, 100, 1_000, 40_000, 200_000])
    choice = rng.randrange(12)
    if choice == 0:
        return "stack: " + "[" * depth + "]" * depth
    if choice == 1:
        return "{a: " * depth + "1" + "}" * depth
    if choice == 2:
        return "- " * depth + "x"
    if choice == 3:
        return "stack:\n  x: " + "{<<: " * depth + "{a: 1}" + "}" * depth
    if choice == 4:
        count = rng.choice([10, 64, 65, 400, 2_000])
        return "stack:\n  l0: &l0 {a0: 1}\n" + "".join(f"  l{i}: &l{i} {{<<: *l{i - 1}, a{i}: 1}}\n"
                                                       for i in range(1, count))
    if choice == 5:
        width, levels = rng.choice([(9, 9), (2, 40), (100, 4)])
        lines = ["a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
        lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
        return "\n".join(lines)
    if choice == 6:
        return "stack:\n  agents:\n    - name: a\n      port: " + "9" * rng.choice([4_300, 4_301, 5_000, 1_000_000])
    if choice == 7:
        return "stack: [" + "0, " * rng.choice([150_000, 2_700_000]) + "0]"
    if choice == 8:
        return "stack:\n" + "".join(f"  k{i}: {i}\n" for i in range(rng.choice([5_000, 99_000, 400_000])))
    if choice == 9:
        return "stack:\n  name: " + "x" * rng.choice([1_000_000, 8 * 1024 * 1024 - 20, 8 * 1024 * 1024 + 1])
    if choice == 10:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 2_000)))
    return "stack:\n  agents:\n" + "".join(f"    - ref: {rng.choice(['fifo', '/dev/stdin', '/dev/zero', '.'])}\n"
                                          for _ in range(3))


def generate(rng: random.Random, base_texts: list[str]) -> tuple[str, str | bytes]:
    roll = rng.random()
    if roll < 0.002:
        return "pathological", pathological(rng)
    if roll < 0.55:
        return "mutated", mutate(rng, rng.choice(base_texts))
    if roll < 0.80:
        return "fragments", "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 60)))
    document = {"stack": random_document(rng)} if rng.random() < 0.7 else random_document(rng)
    return "document", yaml.safe_dump(document, default_flow_style=rng.choice([None, True, False]),
                                      allow_unicode=True)


def load_notebook(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"fuzz_{name}", ROOT / "agents" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def project(folder: Path) -> tuple[Path, Path]:
    """A project to validate in (the agents linked in, transforms that leave a trace if run), and a KB."""
    (folder / "cdktf.json").write_text("{}")
    (folder / "agents").symlink_to(ROOT / "agents")
    (folder / "evil.py").write_text(EVIL)
    (folder / "fuzz_transforms.py").write_text(EVIL)
    (folder / "agent.yaml").write_text(AGENT)
    os.mkfifo(folder / "fifo")
    kb = folder / "kb"
    (kb / "workspaces" / "api").mkdir(parents=True)
    (kb / "kb.yaml").write_text("version: 1\n")
    return folder / "case.yaml", kb


def attempt(run: Callable[[], Any]) -> tuple[float, float, Any, Exception | None]:
    """CPU and wall seconds taken, the result, and the exception raised (None when none); a hang is stopped."""
    cpu, wall = time.process_time(), time.perf_counter()
    signal.alarm(HANG_SECONDS)
    try:
        result, error = run(), None
    except Exception as exc:  # noqa: BLE001 - the caller sorts the project's own errors from the rest
        result, error = None, exc
    finally:
        signal.alarm(0)
    return time.process_time() - cpu, time.perf_counter() - wall, result, error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-record", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args()
    command = " ".join([".venv/bin/python", "bench/fuzz_inputs.py", *map(shlex.quote, sys.argv[1:])])
    faulthandler.enable()

    def hang(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {HANG_SECONDS} s")

    signal.signal(signal.SIGALRM, hang)
    uptime_before = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="strata-fuzz-") as tmp:
        os.environ["STRATA_CACHE_DIR"] = str(Path(tmp) / "analysis-cache")
        os.chdir(tmp)
        case_file, kb = project(Path(tmp))
        from agentstrata.cli.validate_cmd import check_file
        from agentstrata.errors import StrataError
        from agentstrata.transforms import TransformError, parse_yaml_log

        _, kb_base = load_notebook("kb_base").run(defs={"kb_root": str(kb)})
        _, validator = load_notebook("validator").run(defs={"workspace_context": {}, "session_log": {}})
        read_kb, check_kb = kb_base["read_kb"], validator["validate"]

        read: dict[str, Any] = {}

        def kb_base_reads() -> None:
            read["contexts"], read["logs"], _ = read_kb(kb)

        def transform() -> None:
            try:
                parse_yaml_log(read["logs"])
            except TransformError:
                pass

        sides: dict[str, Callable[[], Any]] = {
            "validate": lambda: check_file(case_file),
            "kb_base": kb_base_reads,
            "validator": lambda: check_kb(read["contexts"], read["logs"]),
            "parse_yaml_log": transform,
        }
        rng = random.Random(args.seed)
        base_texts = bases()
        kinds: Counter[str] = Counter()
        codes: Counter[int] = Counter()
        failures: list[str] = []
        slow: list[tuple[float, float, str, str, int]] = []
        longest = {side: [0.0, 0.0] for side in sides}
        code_ran = 0
        started = time.perf_counter()
        for case in range(args.cases):
            kind, text = generate(rng, base_texts)
            kinds[kind] += 1
            raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
            case_file.write_bytes(raw)
            for name in ("context.yaml", "sessions.yaml"):
                (kb / "workspaces" / "api" / name).write_bytes(raw)
            read.update(contexts={}, logs={})
            for side, run in sides.items():
                cpu, wall, result, error = attempt(run)
                if side == "validate" and error is None:
                    codes[result[1]] += 1
                    if result[1] not in (0, 1, 2):
                        failures.append(f"case {case} ({kind}): exit code {result[1]}")
                elif side == "validate" and isinstance(error, StrataError):  # the CLI prints it, exit code and all
                    codes[error.exit_code] += 1
                elif error is not None:
                    failures.append(f"case {case} ({kind}, {side}): {type(error).__name__}: {error}"[:300])
                    FAILURES.mkdir(parents=True, exist_ok=True)
                    (FAILURES / f"case-{args.seed}-{case}.yaml").write_bytes(raw)
                    (FAILURES / f"case-{args.seed}-{case}.txt").write_text("".join(traceback.format_exception(error)))
                longest[side] = [max(longest[side][0], cpu), max(longest[side][1], wall)]
                if max(cpu, wall) > SLOW_SECONDS or isinstance(error, Hang):
                    slow.append((cpu, wall, side, kind, len(raw)))
            if (Path(tmp) / "CODE-RAN").exists():
                code_ran += 1
                (Path(tmp) / "CODE-RAN").unlink()
            if case and case % 5_000 == 0:
                print(f"{case} cases, {len(failures)} exceptions, {len(slow)} over {SLOW_SECONDS:.0f} s, "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
        total = time.perf_counter() - started
    uptime_after = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    summary = [
        f"Command: `{command}` (`make fuzz` runs it under `nice`; seed {args.seed}; {time.strftime('%Y-%m-%d')}; "
        f"{total:.0f} s for the run).",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| cases (each through `strata validate` in-process, kb_base, the validator agent, parse_yaml_log) "
        f"| {args.cases:,} |",
        f"| cases by kind | {', '.join(f'{k} {v:,}' for k, v in sorted(kinds.items()))} |",
        f"| `strata validate` exit codes | {', '.join(f'{c}: {n:,}' for c, n in sorted(codes.items()))} |",
        f"| exceptions other than the project's own | {len(failures)} |",
        f"| cases over {SLOW_SECONDS:.0f} s: CPU / wall | {sum(c > SLOW_SECONDS for c, *_ in slow)} / "
        f"{sum(w > SLOW_SECONDS for _, w, *_ in slow)} |",
        f"| runs of code from an input | {code_ran} |",
        *(f"| longest case, {side}: CPU / wall (s) | {cpu:.2f} / {wall:.2f} |"
          for side, (cpu, wall) in longest.items()),
        "",
        f"Load before: `{uptime_before}`; after: `{uptime_after}` (2 cores shared with other work: timings are "
        "upper bounds).",
    ]
    for line in failures[:20] + [f"slow: {cpu:.2f} s CPU, {wall:.2f} s wall ({side}, {kind}, {size:,} bytes)"
                                 for cpu, wall, side, kind, size in sorted(slow, reverse=True)[:20]]:
        summary.append(f"- {line}")
    print("\n".join(summary))
    if not args.no_record:
        write_section("## Fuzz\n\n" + "\n".join(summary) + "\n")
    if failures or code_ran or any(c > SLOW_SECONDS for c, *_ in slow):  # a hang is among the failures
        sys.exit(1)


def write_section(text: str) -> None:
    """Replaces the "## Fuzz" section of bench/RESULTS.md, or appends it."""
    content = RESULTS.read_text(encoding="utf-8")
    start = content.find("## Fuzz")
    if start == -1:
        RESULTS.write_text(content.rstrip("\n") + "\n\n" + text, encoding="utf-8")
        return
    end = content.find("\n## ", start + 1)
    end = len(content) if end == -1 else end + 1
    RESULTS.write_text(content[:start] + text + ("\n" if end < len(content) else "") + content[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
