"""The base image, made with debootstrap from the Debian mirror apt uses here."""

from __future__ import annotations

import subprocess

from agentstrata.deploy.base_image import debian_mirror


def test_the_mirror_comes_from_deb822_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n"
    )
    assert debian_mirror(tmp_path) == "http://mirror.example/debian"


def test_the_mirror_comes_from_one_line_sources_and_skips_other_archives(tmp_path):
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.example/debian bookworm main\n"
        "deb-src http://src.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] https://packages.example/apt stable main\n"
        "deb [signed-by=/usr/share/keyrings/debian.gpg] http://ftp.example.org/debian bookworm main\n"
    )
    assert debian_mirror(tmp_path) == "http://ftp.example.org/debian"


def test_without_any_debian_source_the_mirror_is_deb_debian_org(tmp_path):
    assert debian_mirror(tmp_path) == "http://deb.debian.org/debian"


def test_the_base_image_has_python_311_with_venv_pip_and_certificates(base_image):
    probe = "import sys, ensurepip, ssl, venv; print(sys.version_info[:2]); print(ssl.get_default_verify_paths().cafile)"
    out = subprocess.run(["docker", "run", "--rm", base_image, "python3", "-c", probe],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    assert out.splitlines()[0] == "(3, 11)"
    listing = subprocess.run(["docker", "run", "--rm", base_image, "ls", "/etc/ssl/certs/ca-certificates.crt"],
                             capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0, listing.stderr
