"""A deploy directory that builds offline: ``nuctl deploy --path DIR --file DIR/function.yaml``.

nuserve is on no package index, so a function.yaml whose build runs ``pip install nuserve``
cannot build. ``write_bundle`` writes a directory Nuclio copies into the image as it is
(``/opt/nuclio``) holding:

- the user's code (the project directory, without hidden folders, caches and virtualenvs)
  and ``handler.py`` (written when missing);
- the model files of every ``model_path`` that is a local file or folder, under
  ``models/<model>/``, the serving spec pointing at their place in the image (a URI such as
  ``s3://`` or ``store://`` stays as it is);
- ``wheels/``: a nuserve wheel made from the running installation (``build_wheel``: the
  package files this process imports, so what was tested is what is deployed), and, unless
  told not to, wheels of nuserve's dependencies and of the function's requirements
  (``pip download``, for the function's Python version);
- ``function.yaml`` whose build commands install from there after Nuclio copied the
  directory: ``@nuclio.postCopy`` then ``pip install --no-index --find-links
  /opt/nuclio/wheels nuserve==<version> <requirements>``.

With ``dependencies=False`` the wheels of the dependencies are left out; the base image must
then provide them (nuclio-sdk, numpy, orjson, pyyaml, cloudpickle, v3io and the requirements)
or the offline install fails naming the one missing.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import importlib.metadata
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from typing import Protocol as Interface

from nuserve.errors import ConfigError
from nuserve.nuclio.function_config import (
    CODE_DIR,
    Deployable,
    dump_yaml,
    function_config,
    requirements_with_nuserve,
)
from nuserve.nuclio.spec_env import CODE_DIR_ENV, SPEC_ENV, decode_spec, encode_spec
from nuserve.version import __version__

WHEELS = "wheels"
MODELS = "models"
POST_COPY = "@nuclio.postCopy"
"""Nuclio runs the build commands after this line once the code directory is in the image."""
SKIPPED = frozenset({"__pycache__", "venv", "node_modules", "build", "dist"})
HANDLER_PY = "from nuserve.nuclio import handler, handler_async, init_context  # noqa: F401\n"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class Downloader(Interface):
    """Puts wheels of ``requirements`` (and their dependencies) in a folder."""

    def __call__(self, requirements: list[str], dest: Path, python: str) -> None: ...


@dataclass
class Bundle:
    """What ``write_bundle`` wrote."""

    directory: Path
    function_yaml: Path
    wheels: list[str] = field(default_factory=list)
    """The wheel files in ``wheels/``."""
    models: dict[str, str] = field(default_factory=dict)
    """Each local model path copied, and the path in the image the spec now names."""
    commands: list[str] = field(default_factory=list)
    """The build commands of the function.yaml."""


# --------------------------------------------------------------------------- the wheel


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def build_wheel(dest: Path) -> Path:
    """A wheel of the nuserve this process runs (its package files, its metadata)."""
    package = Path(__file__).resolve().parents[1]  # nuserve/, this file is nuserve/nuclio/
    dist = importlib.metadata.distribution("nuserve")
    info = f"nuserve-{__version__}.dist-info"
    metadata = [
        "Metadata-Version: 2.1",
        "Name: nuserve",
        f"Version: {__version__}",
        f"Summary: {dist.metadata['Summary'] or 'nuserve'}",
        f"Requires-Python: {dist.metadata['Requires-Python'] or '>=3.11'}",
        *(f"Requires-Dist: {r}" for r in dist.requires or []),
    ]
    extras = sorted({m.group(1) for r in dist.requires or [] for m in _EXTRA.finditer(r)})
    metadata[4:4] = [f"Provides-Extra: {e}" for e in extras]
    files: dict[str, bytes] = {}
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if path.is_file() and "__pycache__" not in relative.parts and path.suffix != ".pyc":
            files[f"nuserve/{relative.as_posix()}"] = path.read_bytes()
    files[f"{info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: nuserve.nuclio.bundle\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\nnuserve = nuserve.cli:main\n"
    record = [f"{name},{_record_hash(data)},{len(data)}" for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    wheel = dest / f"nuserve-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return wheel


_EXTRA = re.compile(r"extra\s*==\s*['\"]([^'\"]+)['\"]")


def runtime_requirements() -> list[str]:
    """nuserve's own dependencies (no extras), as its installed metadata states them."""
    requires = importlib.metadata.requires("nuserve") or []
    return [r for r in requires if not _EXTRA.search(r)]


def pip_download(requirements: list[str], dest: Path, python: str) -> None:
    """``pip download`` binary wheels of ``requirements`` for Python ``python`` into ``dest``."""
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--dest", str(dest), "--only-binary=:all:", "--python-version", python, *requirements,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise ConfigError(
            f"pip download of the function's dependencies failed (exit {done.returncode}); "
            f"pass dependencies=False if the base image provides them. pip said:\n{tail}"
        )


# --------------------------------------------------------------------------- code and models


def _copy_code(source: Path, target: Path) -> None:
    def ignore(directory: str, names: list[str]) -> list[str]:
        here = Path(directory).resolve()
        return [
            n
            for n in names
            if n.startswith(".")
            or n in SKIPPED
            or n.endswith(".pyc")
            or (here / n).resolve() == target.resolve()
        ]

    shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)


def _local(path: Any, bases: list[Path]) -> Path | None:
    if not isinstance(path, str) or not path or _SCHEME.match(path):
        return None
    for base in bases:
        candidate = (base / path).resolve() if not Path(path).is_absolute() else Path(path)
        if candidate.exists():
            return candidate
    return None


def _copy_models(
    spec: Any, bundle: Path, bases: list[Path], copied: dict[str, str], code_dir: str
) -> None:
    """Copy each local ``model_path`` in the spec dict into the bundle; point it there."""
    if isinstance(spec, list):
        for item in spec:
            _copy_models(item, bundle, bases, copied, code_dir)
        return
    if not isinstance(spec, dict):
        return
    found = _local(spec.get("model_path"), bases)
    if found is not None:
        name = _UNSAFE.sub("_", str(spec.get("key") or spec.get("name") or "model"))
        relative = Path(MODELS) / name / found.name
        target = bundle / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if found.is_dir():
            shutil.copytree(found, target, dirs_exist_ok=True)
        else:
            shutil.copy2(found, target)
        copied[str(found)] = spec["model_path"] = f"{code_dir}/{relative.as_posix()}"
    for value in spec.values():
        if isinstance(value, dict | list):
            _copy_models(value, bundle, bases, copied, code_dir)


# --------------------------------------------------------------------------- the bundle


def install_command(requirements: list[str], code_dir: str = CODE_DIR) -> str:
    """The offline ``pip install`` of nuserve and ``requirements`` from ``<code_dir>/wheels``."""
    packages = " ".join(shlex.quote(r) for r in requirements_with_nuserve(requirements))
    return f"pip install --no-index --find-links {code_dir}/{WHEELS} {packages}"


def write_bundle(
    fn: Deployable,
    directory: str | Path,
    project_dir: str | Path | None = None,
    dependencies: bool = True,
    download: Downloader = pip_download,
    code_dir: str = CODE_DIR,
) -> Bundle:
    """Write ``fn``'s offline deploy directory (see the module's doc) and return what is in it.

    ``code_dir`` is where the directory will be in the image (Nuclio's ``/opt/nuclio``); the
    spec's model paths and the install command name it.
    """
    target = Path(directory).resolve()
    project = Path(project_dir).resolve() if project_dir is not None else None
    if project is not None and not project.is_dir():
        raise ConfigError(f"project_dir {str(project)!r} is not a directory")
    target.mkdir(parents=True, exist_ok=True)
    if project is not None:
        _copy_code(project, target)
    spec = fn.spec
    if spec.handler == "handler:handler" and not (target / "handler.py").is_file():
        (target / "handler.py").write_text(HANDLER_PY, encoding="utf-8")
    config = function_config(fn)
    env = config["spec"]["env"]
    serving = decode_spec(str(env[0]["value"]))
    if env[0]["name"] != SPEC_ENV:
        raise ConfigError(f"the function config's first env entry is not {SPEC_ENV}")
    bases = [b for b in (project, Path.cwd()) if b is not None]
    copied: dict[str, str] = {}
    _copy_models(serving.get("graph"), target, bases, copied, code_dir)
    filename = serving.get("filename")
    code_file = _local(filename, bases)
    if code_file is not None and code_file.is_file():
        if not (target / code_file.name).is_file():
            shutil.copy2(code_file, target / code_file.name)
        serving["filename"] = code_file.name
    env[0] = {"name": SPEC_ENV, "value": encode_spec(serving)}
    if code_dir != CODE_DIR:
        for entry in env:
            if entry.get("name") == CODE_DIR_ENV and entry.get("value") == CODE_DIR:
                entry["value"] = code_dir
    wheels = target / WHEELS
    build_wheel(wheels)
    if dependencies:
        python = spec.runtime.partition(":")[2] or "3.11"
        download([*runtime_requirements(), *spec.requirements], wheels, python)
    build = copy.deepcopy(config["spec"]["build"])
    install = install_command(spec.requirements, code_dir)
    build["commands"] = [POST_COPY, install, *spec.build_commands]
    config["spec"]["build"] = build
    yaml_path = target / "function.yaml"
    yaml_path.write_text(dump_yaml(config), encoding="utf-8")
    return Bundle(
        target,
        yaml_path,
        sorted(p.name for p in wheels.iterdir()),
        copied,
        build["commands"],
    )
