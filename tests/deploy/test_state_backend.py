"""Terraform state paths: in the project, relative to the stack's working directory."""

from __future__ import annotations

from pathlib import Path

from agentstrata.deploy.state_backend import backend_path, state_file


def test_the_default_outdir_gives_a_path_that_holds_on_any_clone(tmp_path: Path):
    assert backend_path(tmp_path, tmp_path / "cdktf.out", "kb-docker") == "../../../.strata/state/terraform/kb-docker.tfstate"


def test_an_outdir_elsewhere_still_resolves_to_the_projects_state_file(tmp_path: Path):
    root, outdir = tmp_path / "project", tmp_path / "out" / "deep"
    relative = backend_path(root, outdir, "kb-docker")
    assert (outdir / "stacks" / "kb-docker" / relative).resolve() == state_file(root, "kb-docker")
