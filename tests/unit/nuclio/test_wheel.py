"""The nuserve wheel packed from the running installation: complete, valid and installable."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nuserve.errors import ConfigError
from nuserve.nuclio import wheel
from nuserve.nuclio.wheel import PACKAGE_DIR, pack_wheel, requirements_of_nuserve, wheel_name
from nuserve.version import __version__


def test_the_wheel_holds_every_package_file_and_a_matching_record(tmp_path):
    path = pack_wheel(tmp_path)
    assert path.name == wheel_name() == f"nuserve-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        sources = {
            f"nuserve/{p.relative_to(PACKAGE_DIR).as_posix()}"
            for p in PACKAGE_DIR.rglob("*.py")
            if "__pycache__" not in p.parts
        }
        assert sources <= set(names) and "nuserve/py.typed" in names
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        info = f"nuserve-{__version__}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        assert f"\nVersion: {__version__}\n" in metadata
        assert "Requires-Dist: nuclio-sdk" in metadata
        assert "nuserve = nuserve.cli:main" in archive.read(f"{info}/entry_points.txt").decode()
        assert "Root-Is-Purelib: true" in archive.read(f"{info}/WHEEL").decode()
        record = archive.read(f"{info}/RECORD").decode().splitlines()
        assert len(record) == len(names)
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if name.endswith("RECORD"):
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == f"sha256={expected.decode()}" and int(size) == len(data)


def test_packing_twice_gives_the_same_bytes(tmp_path):
    first = pack_wheel(tmp_path / "a").read_bytes()
    assert pack_wheel(tmp_path / "b").read_bytes() == first


def test_the_wheel_installs_and_imports_without_the_checkout(tmp_path):
    """pip accepts it (RECORD, WHEEL, METADATA) and the installed copy is what imports."""
    path = pack_wheel(tmp_path / "wheels")
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
         "--target", str(target), str(path)],
        check=True, timeout=120,
    )  # fmt: skip
    code = "import sys, nuserve; print(nuserve.__file__, nuserve.__version__)"
    done = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, check=True,
    )  # fmt: skip
    where, version = done.stdout.split()
    assert Path(where).is_relative_to(target) and version == __version__


def test_requirements_are_the_installed_ones_without_extras():
    requirements = requirements_of_nuserve()
    assert any(r.startswith("nuclio-sdk") for r in requirements)
    assert not [r for r in requirements if "extra" in r]
    assert not [r for r in requirements if r.startswith("uvicorn")]  # the serve extra


def test_not_installed_says_how_to_fix(monkeypatch):
    import importlib.metadata

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(ConfigError, match=r"not installed, so its metadata .*pip install -e \."):
        wheel.pack_wheel(Path("/nonexistent-never-written"))
