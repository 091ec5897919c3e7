"""A nuserve wheel packed from the running installation, and its dependencies' wheels.

nuserve is on no package index, so a Nuclio build cannot ``pip install nuserve``; the deploy
directory carries a wheel instead. It is packed from the files Python imports nuserve from
(``nuserve/`` beside this package) and the installed distribution's metadata, so an editable
install (a checkout, possibly with local changes) and a wheel install give the same kind of
wheel, with no build backend and no network. ``download_dependencies`` fetches the wheels of
everything else for the image's Python and platform (``pip download``), for builds with no
index at all.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from nuserve.errors import ConfigError
from nuserve.version import __version__

DIST = "nuserve"
PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The ``nuserve/`` directory Python imports nuserve from."""
WHEEL_TAG = "py3-none-any"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""Every entry's timestamp: packing the same files twice gives the same bytes."""
SKIPPED = ("__pycache__",)
SKIPPED_SUFFIXES = (".pyc", ".pyo")
MANYLINUX = ("manylinux_2_28", "manylinux_2_17", "manylinux2014", "manylinux_2_5", "manylinux1")
"""The glibc tags a Debian-based ``python:3.x`` image (Nuclio's default base) accepts; pip
takes ``--platform`` literally, so each is named."""
PIP_TIMEOUT_S = 900.0


def wheel_name(version: str = __version__) -> str:
    return f"{DIST}-{version}-{WHEEL_TAG}.whl"


def pack_wheel(out_dir: Path) -> Path:
    """Write ``nuserve-<version>-py3-none-any.whl`` of the running installation into
    ``out_dir``; returns its path."""
    metadata, entry_points = _installed_metadata()
    info = f"{DIST}-{__version__}.dist-info"
    files: list[tuple[str, bytes]] = [
        (f"{DIST}/{p.relative_to(PACKAGE_DIR).as_posix()}", p.read_bytes())
        for p in _package_files()
    ]
    files.append((f"{info}/METADATA", metadata.encode()))
    files.append((f"{info}/WHEEL", _wheel_file().encode()))
    if entry_points:
        files.append((f"{info}/entry_points.txt", entry_points.encode()))
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in files]
    files.append((f"{info}/RECORD", "\n".join([*record, f"{info}/RECORD,,", ""]).encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            entry = zipfile.ZipInfo(name, ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / wheel_name()
    target.write_bytes(buffer.getvalue())
    return target


def requirements_of_nuserve() -> list[str]:
    """nuserve's own install requirements (no extras), as the installed metadata names them."""
    requires = importlib.metadata.requires(DIST) or []
    return [r for r in requires if "extra" not in r.partition(";")[2]]


def download_dependencies(
    requirements: Sequence[str],
    wheel_dir: Path,
    python_version: str,
    arch: str = "x86_64",
    cache: Path | None = None,
    timeout: float = PIP_TIMEOUT_S,
) -> list[Path]:
    """``pip download`` the wheels of ``requirements`` (and theirs) into ``wheel_dir`` for
    CPython ``python_version`` on Linux ``arch``; binary wheels only, since the build
    installs them with ``--no-index`` and could not build an sdist. Returns the new files.

    With ``cache`` (a directory), wheels come from it when it holds a complete set (no index
    asked), else they are downloaded into it first and copied from it.
    """
    before = set(wheel_dir.iterdir()) if wheel_dir.is_dir() else set()
    platforms = [arg for tag in MANYLINUX for arg in ("--platform", f"{tag}_{arch}")]
    target = ["--implementation", "cp", "--python-version", python_version, *platforms]
    base = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--find-links", str(wheel_dir), "--only-binary=:all:", *target, "--platform", "any",
    ]  # fmt: skip
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        offline = [*base, "--no-index", "--find-links", str(cache), "--dest", str(wheel_dir)]
        if _pip(offline, requirements, timeout).returncode == 0:
            return sorted(set(wheel_dir.iterdir()) - before)
        _check(_pip([*base, "--dest", str(cache)], requirements, timeout), python_version, arch)
        _check(_pip(offline, requirements, timeout), python_version, arch)
    else:
        _check(_pip([*base, "--dest", str(wheel_dir)], requirements, timeout), python_version, arch)
    return sorted(set(wheel_dir.iterdir()) - before)


def _pip(
    command: list[str], requirements: Sequence[str], timeout: float
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [*command, *requirements], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"pip download of the dependencies took over {timeout:g}s; check the index is "
            "reachable, or build without with_deps (the image then installs them from the index)"
        ) from None


def _check(done: subprocess.CompletedProcess[str], python_version: str, arch: str) -> None:
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-4:])
        raise ConfigError(
            f"pip download of the dependencies for Python {python_version} on {arch} failed "
            f"(exit status {done.returncode}): {tail}. Each must have a binary wheel for that "
            "platform; pin one that has, or build without with_deps"
        )


def _installed_metadata() -> tuple[str, str]:
    """The installed distribution's METADATA (its version set to the running one) and
    entry_points.txt."""
    try:
        dist = importlib.metadata.distribution(DIST)
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError(
            f"nuserve is imported from {PACKAGE_DIR} but not installed, so its metadata "
            "(dependencies, the nuserve command) is unknown; install it (pip install -e . in "
            "the checkout, or the wheel) and build again"
        ) from None
    metadata = dist.read_text("METADATA") or ""
    lines = [
        f"Version: {__version__}" if line.startswith("Version:") else line
        for line in metadata.splitlines()
    ]
    return "\n".join(lines) + "\n", dist.read_text("entry_points.txt") or ""


def _package_files() -> list[Path]:
    files = [
        p
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file()
        and not any(part in SKIPPED for part in p.relative_to(PACKAGE_DIR).parts)
        and p.suffix not in SKIPPED_SUFFIXES
    ]
    return sorted(files)


def _wheel_file() -> str:
    return (
        "Wheel-Version: 1.0\nGenerator: nuserve.nuclio.wheel\nRoot-Is-Purelib: true\n"
        f"Tag: {WHEEL_TAG}\n"
    )


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
