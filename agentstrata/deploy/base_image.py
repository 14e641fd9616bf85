"""The runtime's base image, made with no container registry: debootstrap + ``docker import``.

Debian bookworm's python3 is 3.11, the Python the runtime image needs. The packages come from
the Debian mirror that apt on this machine already uses, since that may be the only reachable
one. Building it takes root (debootstrap); it happens once, then the tag is reused.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from agentstrata.deploy.layout import Layout
from agentstrata.deploy.steps import Step, StepRunner
from agentstrata.errors import StrataError

BASE_IMAGE = "strata-base:bookworm-py311"
SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
_FALLBACK_MIRROR = "http://deb.debian.org/debian"
_APT_SOURCES = Path("/etc/apt")

# `docker import` makes an image with no config at all: give it what a base image has.
_IMAGE_CONFIG = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["/bin/bash"]',
)


def ensure_base_image(layout: Layout, runner: StepRunner) -> str:
    """The tag of the base image, building it when the engine does not have it yet."""
    hint = "check that the Debian mirror in the log answers (`apt-get update` does the same requests)"
    with runner.step(f"base image {BASE_IMAGE}", "base-image", hint) as step:
        if image_exists(BASE_IMAGE):
            step.outcome = "cached"
            return BASE_IMAGE
        if os.geteuid() != 0:
            raise StrataError(
                f"The base image {BASE_IMAGE} does not exist yet, and building it (debootstrap) needs root.\n"
                "  What to do: run `sudo strata setup` once; later runs reuse the image."
            )
        debootstrap = shutil.which("debootstrap") or _install_debootstrap(step)
        mirror = debian_mirror(_APT_SOURCES)
        rootfs = layout.build / "base-rootfs"
        _remove_rootfs(rootfs)
        step.detail(f"debootstrap {SUITE} from {mirror}")
        step.run(
            [debootstrap, "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, rootfs, mirror],
            timeout=1800,
        )
        # Package caches are half the size of a fresh rootfs and useless in an image.
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (rootfs / cache).glob("*"):
                if entry.is_file():
                    entry.unlink()
        step.detail("docker import")
        changes = " ".join(f"--change {shlex.quote(line)}" for line in _IMAGE_CONFIG)
        step.run(
            ["bash", "-o", "pipefail", "-c",
             f"tar -C {shlex.quote(str(rootfs))} -c . | docker import {changes} - {shlex.quote(BASE_IMAGE)}"],
            timeout=600,
        )
        _remove_rootfs(rootfs)
    return BASE_IMAGE


def image_exists(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False).returncode == 0


def debian_mirror(apt_dir: Path) -> str:
    """The Debian archive URI that apt uses here (one-line or deb822 sources), else deb.debian.org."""
    files = sorted(apt_dir.glob("sources.list.d/*.sources")) + sorted(apt_dir.glob("sources.list.d/*.list"))
    files.insert(0, apt_dir / "sources.list")
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for uri in _deb_uris(text, deb822=path.suffix == ".sources"):
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    return _FALLBACK_MIRROR


def _deb_uris(text: str, deb822: bool) -> list[str]:
    """The URIs of the ``deb`` (binary package) entries of one sources file."""
    uris: list[str] = []
    if deb822:
        for stanza in text.split("\n\n"):
            fields = dict(
                line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith(("#", " "))
            )
            if "deb" in fields.get("Types", "").split():
                uris += fields.get("URIs", "").split()
        return uris
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words and words[0] == "deb":
            rest = words[1:]
            if rest and rest[0].startswith("["):
                # Skip the options block, "[arch=amd64 signed-by=...]", which may span words.
                close = next((i for i, word in enumerate(rest) if word.endswith("]")), len(rest) - 1)
                rest = rest[close + 1:]
            if rest:
                uris.append(rest[0])
    return uris


def _install_debootstrap(step: Step) -> str:
    if shutil.which("apt-get") is None:
        raise StrataError(
            "debootstrap is not installed and this is not a Debian-based system.\n"
            "  What to do: install debootstrap with your package manager, then re-run."
        )
    step.detail("apt-get install debootstrap")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    step.run(["apt-get", "update", "-qq"], env=env, timeout=600)
    step.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "debootstrap"], env=env, timeout=600)
    return shutil.which("debootstrap") or "debootstrap"


def _remove_rootfs(rootfs: Path) -> None:
    """Delete a rootfs, unmounting first what an interrupted debootstrap left mounted in it."""
    if not rootfs.exists():
        return
    prefix = str(rootfs.resolve()) + "/"
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for point in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "--lazy", point], check=False)
    shutil.rmtree(rootfs)
