"""``strata init DIR``: a new cdktf project of agent stacks, from the templates in ``project_template/``.

The project deploys as it is made: one stack of two notebooks (no fixed ports, no KB), the cdktf
app, and a snapshot test of the stack's synthesized Terraform. The snapshot is recorded here, by
synthesizing the new stack in a scratch copy, so the test passes as generated. Nothing is
overwritten: when any file it would write exists, nothing is written at all.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from string import Template

from agentstrata.errors import StrataError

TEMPLATE_DIR = Path(__file__).resolve().parent / "project_template"
_SUFFIX = ".tmpl"
#: Template path -> project path, where they differ (package data carries no dot files).
_RENAMED = {"gitignore": ".gitignore", "stacks/stack.yaml": "stacks/${stack}.yaml"}
#: Where syrupy's JSON extension keeps the snapshot of the generated test.
SNAPSHOT = Path("tests/__snapshots__/test_stack_snapshot/test_the_stack_synthesizes_as_the_snapshot_says.json")
#: Stack names become container names, `<stack>-<agent>`, which must fit a DNS label (63).
_MAX_STACK_NAME = 40


@dataclass(frozen=True)
class NewProject:
    root: Path
    stack: str
    files: list[Path]


def create_project(root: Path) -> NewProject:
    """Write the project into ``root`` (created if missing); refuse, writing nothing, if a file is in the way."""
    root = root.resolve()
    stack = stack_name(root)
    files = render(root, stack)
    in_the_way = sorted(str(path) for path in [*files, SNAPSHOT] if (root / path).exists())
    if in_the_way:
        raise StrataError(f"{root}: already holds {', '.join(in_the_way)}; `strata init` writes a new project and "
                          "overwrites nothing: pick a new or empty directory", exit_code=1)
    if root.exists() and not root.is_dir():
        raise StrataError(f"{root}: exists and is not a directory", exit_code=2)
    if importlib.util.find_spec("cdktf") is None:
        raise StrataError("`strata init` synthesizes the new stack for its snapshot test, which needs cdktf: "
                          "install Strata with its IaC extra, `pip install 'agentstrata[iac]'`", exit_code=2)
    snapshot = _record_snapshot(files, stack)
    for relative, text in {**files, SNAPSHOT: snapshot}.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return NewProject(root, stack, sorted([*files, SNAPSHOT]))


def stack_name(root: Path) -> str:
    """The directory's name as a stack name: lower case, letters, digits and dashes."""
    name = re.sub(r"[^a-z0-9]+", "-", root.name.lower()).strip("-")[:_MAX_STACK_NAME].strip("-")
    if not name or not name[0].isalpha():
        raise StrataError(f"{root}: the directory's name must start with a letter: it names the stack "
                          "(and its containers)", exit_code=2)
    return name


def render(root: Path, stack: str) -> dict[Path, str]:
    """Project path -> text of every template, with ``$project``, ``$stack`` and ``$strata_version`` set."""
    values = {"project": stack, "stack": stack, "strata_version": importlib.metadata.version("agentstrata")}
    files = {}
    for template in sorted(TEMPLATE_DIR.rglob(f"*{_SUFFIX}")):
        relative = template.relative_to(TEMPLATE_DIR).as_posix().removesuffix(_SUFFIX)
        target = Template(_RENAMED.get(relative, relative)).substitute(values)
        files[Path(target)] = Template(template.read_text(encoding="utf-8")).substitute(values)
    return files


def _record_snapshot(files: dict[Path, str], stack: str) -> str:
    """The snapshot the generated test compares with: the stack synthesized in a scratch copy of the project."""
    from agentstrata.constructs.portable_json import portable_json
    from agentstrata.constructs.project import synth_file

    scratch = Path(tempfile.mkdtemp(prefix="strata-init-"))
    try:
        for relative, text in files.items():
            (scratch / relative).parent.mkdir(parents=True, exist_ok=True)
            (scratch / relative).write_text(text, encoding="utf-8")
        # Into cdktf.out, where the generated test synthesizes too: the state path is relative to it.
        result = synth_file(scratch / "stacks" / f"{stack}.yaml", "docker")
        (name,) = result.stacks
        config = json.loads((result.outdir / "stacks" / name / "cdk.tf.json").read_text(encoding="utf-8"))
        # As syrupy's JSON extension writes it: sorted keys, two spaces, a final newline.
        return json.dumps(portable_json(config, scratch), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
