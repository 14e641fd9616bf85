"""Adding a target is one new folder plus one registry line, and every command then reaches it.

The target below exists only in this test: a package written to a temporary directory, registered
by one line in the child process, then driven through the real ``strata`` CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentstrata.targets import TARGETS, target_class

ECHO_TARGET = '''
"""A target that records what it is asked to run in a JSON file (the test's stand-in for an engine)."""

import json
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel

from agentstrata.schema import StrictModel
from agentstrata.targets.base.results import (AgentEndpoint, AgentStatus, DeployResult, DestroyResult, ExportResult,
                                              StackStatus)
from agentstrata.targets.base.target import Target


class EchoSettings(StrictModel):
    greeting: str = "hello"


class EchoTarget(Target):
    name: ClassVar[str] = "echo"
    settings_model: ClassVar[type[BaseModel]] = EchoSettings
    rules: ClassVar[dict[str, str]] = {"E001": "no agent is called 'forbidden'"}
    exports: ClassVar[dict[str, str]] = {"echo-script": "a shell script"}

    def __init__(self, *, greeting: str = "hello") -> None:
        self.greeting = greeting

    @classmethod
    def from_settings(cls, settings, **props):
        return cls(**{**settings.model_dump(), **props})

    def checks(self, loaded):
        return [loaded.diagnostic(loaded.agent_loc(a.name) + ("name",), "'forbidden' is forbidden here", "E001")
                for a in loaded.stack.agent_specs if a.name == "forbidden"]

    def _record(self, loaded):
        return loaded.root / ".strata" / "echo" / f"{loaded.stack.name}.json"

    def deploy(self, loaded, console, *, ready_timeout):
        record = self._record(loaded)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"greeting": self.greeting, "agents": [a.name for a in loaded.stack.agent_specs]}))
        agents = [AgentEndpoint(a.name, a.layer, f"echo://{a.name}", f"echo-{a.name}", "echoed")
                  for a in loaded.stack.agent_specs]
        return DeployResult(f"{loaded.stack.name}-echo", "echo", agents)

    def destroy(self, loaded, console, *, purge):
        record = self._record(loaded)
        was_up = record.exists()
        record.unlink(missing_ok=True)
        return DestroyResult(f"{loaded.stack.name}-echo", was_up=was_up)

    def status(self, loaded):
        up = self._record(loaded).exists()
        agents = [AgentStatus(a.name, a.layer, f"echo://{a.name}", up, "echoing" if up else "absent")
                  for a in loaded.stack.agent_specs]
        return StackStatus(loaded.stack.name, self.name, up, agents)

    def logs(self, loaded, agent, *, lines, follow):
        yield f"{self.greeting} from {agent}\\n"

    def export(self, loaded, fmt, out):
        out.write_text("".join(f"echo {a.name}\\n" for a in loaded.stack.agent_specs))
        return ExportResult([out], [f"wrote {out}"])
'''

NOTEBOOK = "import marimo\n\napp = marimo.App()\n\n\n@app.cell\ndef _():\n    x = 1\n    return (x,)\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose stack deploys to the ``echo`` target, and the target's own folder beside it."""
    (tmp_path / "plugins" / "echo_target").mkdir(parents=True)
    (tmp_path / "plugins" / "echo_target" / "__init__.py").write_text("")
    (tmp_path / "plugins" / "echo_target" / "target.py").write_text(ECHO_TARGET)
    root = tmp_path / "project"
    root.mkdir()
    (root / "nb.py").write_text(NOTEBOOK)
    (root / "stack.yaml").write_text(textwrap.dedent("""\
        stack:
          name: demo
          agents:
            - {name: a, layer: 0, implementation: {path: nb.py}}
        deployment:
          target: echo
          echo:
            greeting: bonjour
        """))
    return root


def strata(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process whose registry gets exactly one more line."""
    program = (
        f"import sys; sys.path.insert(0, {str(project.parent / 'plugins')!r})\n"
        "from agentstrata import targets\n"
        "targets.TARGETS['echo'] = 'echo_target.target:EchoTarget'\n"
        "from agentstrata.cli import main\n"
        f"sys.argv = ['strata', *{list(args)!r}]\n"
        "main()\n"
    )
    return subprocess.run([sys.executable, "-c", program], cwd=project, capture_output=True, text=True, timeout=120)


def test_the_registry_is_the_only_list_of_target_names():
    assert list(TARGETS) == ["local", "docker", "kubernetes"]
    assert [target_class(name).name for name in TARGETS] == list(TARGETS)


def test_a_registered_target_is_reached_by_every_command(project: Path):
    validated = strata(project, "validate", "stack.yaml")
    assert (validated.returncode, validated.stdout.strip()) == (
        0, "valid: 1 file checked, 0 invalid, 0 errors, 0 warnings"), validated.stderr

    deployed = strata(project, "deploy", "stack.yaml")
    assert deployed.returncode == 0, deployed.stderr
    assert "echo-a" in deployed.stdout and "echoed" in deployed.stdout
    record = json.loads((project / ".strata" / "echo" / "demo.json").read_text())
    assert record == {"greeting": "bonjour", "agents": ["a"]}

    status = strata(project, "status", "stack.yaml", "--format", "json")
    assert json.loads(status.stdout) == {"stack": "demo", "target": "echo", "up": True, "agents": [
        {"name": "a", "layer": 0, "url": "echo://a", "ready": True, "state": "echoing", "restarts": 0,
         "message": None}]}

    logs = strata(project, "logs", "stack.yaml", "a")
    assert logs.stdout == "bonjour from a\n"

    exported = strata(project, "export", "echo-script", "stack.yaml", "--out", "run.sh")
    assert exported.returncode == 0, exported.stderr
    assert (project / "run.sh").read_text() == "echo a\n"

    destroyed = strata(project, "destroy", "stack.yaml")
    assert destroyed.returncode == 0, destroyed.stderr
    assert not (project / ".strata" / "echo" / "demo.json").exists()

    up = strata(project, "up", "stack.yaml", "--target", "echo")
    down = strata(project, "down", "stack.yaml", "--target", "echo")
    assert (up.returncode, down.returncode) == (0, 0), up.stderr + down.stderr


def test_a_registered_targets_checks_and_settings_are_validated(project: Path):
    stack = (project / "stack.yaml").read_text().replace("name: a,", "name: forbidden,")
    (project / "stack.yaml").write_text(stack.replace("greeting: bonjour", "greting: bonjour"))
    done = strata(project, "validate", "stack.yaml")
    assert done.returncode == 1
    assert done.stdout.splitlines()[:1] == [
        "stack.yaml:8:5: deployment.echo.greting: unknown key 'greting'; did you mean 'greeting'?"]
    (project / "stack.yaml").write_text(stack)
    done = strata(project, "validate", "stack.yaml")
    assert done.stdout.splitlines()[0] == "stack.yaml:4:14: stack.agents[0].name: 'forbidden' is forbidden here [E001]"
