"""The wheel of the agentstrata that is running, when it was installed from a wheel.

The runtime image must install the same agentstrata as the one deploying it. A checkout builds
its wheel from its sources (:mod:`agentstrata.deploy.wheelhouse`); an installed wheel has no
sources to build from, and no index may hold this exact build (a local wheel, offline). So the
installed distribution is packed back into a wheel: the files its RECORD lists under
site-packages (the package and its ``.dist-info`` metadata, the same bytes the original wheel
held), without what the installer added (``INSTALLER``, ``REQUESTED``, ``direct_url.json``, the
console scripts it generated, byte code) and with a new RECORD. With fixed timestamps the result
is byte-identical on every run, so it changes exactly when the installed files do.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import zipfile
from pathlib import Path

from agentstrata.errors import StrataError

_DISTRIBUTION = "agentstrata"
#: What the installer writes into .dist-info; a wheel does not carry it.
_INSTALLER_FILES = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def repack_installed_wheel(destination: Path) -> Path:
    """Write the running distribution's wheel into ``destination``; return its path."""
    distribution = _running_distribution()
    dist_info = next((f.parts[0] for f in distribution.files or () if f.parts[0].endswith(".dist-info")), None)
    if dist_info is None:
        raise StrataError(f"the installed {_DISTRIBUTION} has no RECORD of its files; reinstall it with pip")
    tag = next(line.split(":", 1)[1].strip() for line in (distribution.read_text("WHEEL") or "Tag: py3-none-any")
               .splitlines() if line.startswith("Tag:"))
    members: dict[str, bytes] = {}
    for file in distribution.files or ():
        parts = file.parts
        if ".." in parts or "__pycache__" in parts or file.suffix == ".pyc":
            continue  # console scripts (outside site-packages) and byte code: the installer makes them
        if parts[0] == dist_info and file.name in _INSTALLER_FILES:
            continue
        members[file.as_posix()] = Path(file.locate()).read_bytes()
    record = f"{dist_info}/RECORD"
    lines = [f"{name},sha256={_urlsafe_sha256(data)},{len(data)}" for name, data in sorted(members.items())]
    members[record] = ("\n".join([*lines, f"{record},,"]) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # The .dist-info last, as wheels put it, so that installers meet the package first.
        for name in sorted(members, key=lambda n: (n.startswith(dist_info), n)):
            info = zipfile.ZipInfo(name, _ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[name])
    wheel = destination / f"{_DISTRIBUTION}-{distribution.version}-{tag}.whl"
    destination.mkdir(parents=True, exist_ok=True)
    wheel.write_bytes(buffer.getvalue())
    return wheel


def _running_distribution() -> importlib.metadata.Distribution:
    try:
        return importlib.metadata.distribution(_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise StrataError(f"{_DISTRIBUTION} is not installed (it runs from a bare source tree): the runtime "
                          f"image can only install an installed {_DISTRIBUTION}; `pip install` it first") from None


def _urlsafe_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
