"""The cdktf CLI (pinned in package.json / package-lock.json) and the environment it runs in."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from agentstrata.deploy.layout import Layout
from agentstrata.deploy.steps import StepRunner
from agentstrata.deploy.toolchain import Toolchain
from agentstrata.errors import StrataError

#: Written after a successful `npm ci`, holding the hash of the lock file it installed.
_STAMP = ".strata-lock-sha256"
_NPM_PINS = ("package.json", "package-lock.json")


def ensure_cdktf_cli(layout: Layout, runner: StepRunner) -> Path:
    """The cdktf CLI, installed with ``npm ci`` into the toolchain cache unless the lock file is unchanged.

    package.json and its lock are copied there from the package's pins: the install is shared by
    every project, and nothing is written next to the installed package.
    """
    cdktf = layout.node_bin / "cdktf"
    stamp = layout.cdktf_cli / "node_modules" / _STAMP
    hint = "check that the npm registry is reachable (`npm ping`); the log has npm's own message"
    with runner.step("cdktf CLI", "cdktf-cli", hint) as step:
        lock_hash = hashlib.sha256((layout.pins / "package-lock.json").read_bytes()).hexdigest()
        if cdktf.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8") == lock_hash:
            step.outcome = "cached"
            return cdktf
        npm = shutil.which("npm")
        if npm is None:
            raise StrataError(
                "The cdktf CLI needs Node.js >= 18 and npm, and `npm` is not on PATH.\n"
                "  What to do: install them (Debian/Ubuntu: `sudo apt-get install -y nodejs npm`), then re-run."
            )
        layout.cdktf_cli.mkdir(parents=True, exist_ok=True)
        for name in _NPM_PINS:
            shutil.copyfile(layout.pins / name, layout.cdktf_cli / name)
        step.detail("npm ci")
        step.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=layout.cdktf_cli, timeout=900)
        stamp.write_text(lock_hash, encoding="utf-8")
    return cdktf


def cdktf_env(layout: Layout, toolchain: Toolchain, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for ``cdktf plan/deploy``: our tofu first on PATH, no phoning home.

    The running Python's ``bin/`` comes next: a project's cdktf.json runs ``python main.py``,
    which must be the interpreter (the venv) that has agentstrata, activated or not.
    """
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(toolchain.binary.parent), str(layout.node_bin),
                                   str(Path(sys.executable).parent), env.get("PATH", "")])
    env["TERRAFORM_BINARY_NAME"] = toolchain.binary_name
    if toolchain.cli_config is not None:
        env["TF_CLI_CONFIG_FILE"] = str(toolchain.cli_config)
    # cdktf otherwise points TF_PLUGIN_CACHE_DIR at ~/.terraform.d/plugin-cache: providers come
    # from the mirror (or the registry) into each stack, and nothing is written to $HOME.
    env["CDKTF_DISABLE_PLUGIN_CACHE_ENV"] = "true"
    # No checkpoint/telemetry calls and no npm version check: they wait on unreachable hosts.
    env["CHECKPOINT_DISABLE"] = "1"
    env["DISABLE_VERSION_CHECK"] = "true"
    # tofu then leaves out its "now run tofu apply" advice, meant for a person at a shell.
    env["TF_IN_AUTOMATION"] = "1"
    return env


def cdktf_flags(toolchain: Toolchain) -> list[str]:
    """Flags for ``cdktf plan/deploy/destroy`` with this toolchain.

    After ``tofu init`` cdktf runs ``tofu providers lock``, which asks each provider's origin
    registry for checksums and ignores the CLI config's mirror, so with no registry it fails.
    ``tofu init`` has already locked the mirrored providers for this platform: skip the extra step.
    """
    return ["--skip-provider-lock"] if toolchain.cli_config is not None else []
