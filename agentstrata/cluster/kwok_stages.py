"""kwok's stage configuration: without one it exits "no stages found".

The stages are kwok's own, from the module that ``tools/kwok/go.mod`` pins, as its kustomize
files list them: a Node becomes Ready at once and keeps a lease; pods become Ready at once,
complete when they are Jobs' and go away when deleted. The file is written next to the tools and
remade whenever kwok is rebuilt.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from agentstrata.deploy.layout import Layout
from agentstrata.deploy.steps import StepRunner
from agentstrata.targets.kubernetes.toolchain import KWOK

_MODULE = "sigs.k8s.io/kwok"
_STAGE_SETS = ("node/fast", "node/heartbeat-with-lease", "pod/fast")


def kwok_stages_file(layout: Layout) -> Path:
    return layout.tools_bin.parent / "kwok-stages.yaml"


def ensure_kwok_stages(layout: Layout, runner: StepRunner, go: Path) -> Path:
    target = kwok_stages_file(layout)
    build = (layout.tools_bin / f"{KWOK.name}.stamp").read_text(encoding="utf-8")
    header = f"# kwok's stages {', '.join(_STAGE_SETS)}, for the kwok build {build}\n"
    hint = f"check that the Go module proxy is reachable and that {KWOK.module_dir}/go.sum is intact"
    with runner.step("kwok stages", "kwok-stages", hint) as step:
        if target.is_file() and target.read_text(encoding="utf-8").startswith(header):
            step.outcome = "cached"
            return target
        # `go mod download` prints where the pinned module is, fetching it only if the cache lacks it.
        done = subprocess.run([go, "mod", "download", "-json", _MODULE], cwd=layout.pins / KWOK.module_dir,
                              capture_output=True, text=True, check=False)
        step.log(done.stdout + done.stderr)
        if done.returncode != 0:
            raise step.failure(f"`go mod download {_MODULE}` exited with status {done.returncode}")
        stages = Path(json.loads(done.stdout)["Dir"]) / "kustomize" / "stage"
        documents = []
        for stage_set in _STAGE_SETS:
            kustomization = yaml.safe_load((stages / stage_set / "kustomization.yaml").read_text(encoding="utf-8"))
            for resource in kustomization["resources"]:
                documents.append((stages / stage_set / resource).read_text(encoding="utf-8").strip() + "\n")
        target.write_text(header + "---\n".join(documents), encoding="utf-8")
        step.outcome = f"{len(documents)} stages"
    return target
