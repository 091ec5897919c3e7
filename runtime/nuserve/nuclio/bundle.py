"""A deploy directory: everything ``nuctl deploy --path DIR --file DIR/function.yaml`` needs.

nuserve is on no package index, so a function.yaml that ``pip install``s it cannot build.
``build_bundle`` writes a directory Nuclio copies into the image as ``/opt/nuclio``::

    DIR/function.yaml          build commands install from DIR/wheels (after the copy)
    DIR/handler.py             what Nuclio loads (handler:handler)
    DIR/<code file>            the function's code file (code_to_function(filename=...))
    DIR/models/<model>/        each local model artifact (a URI, s3:// or v3io://, stays one)
    DIR/wheels/nuserve-*.whl   nuserve, packed from the running installation
    DIR/wheels/*.whl           with_deps=True: every dependency, for a build with no index

The function.yaml's serving spec names the copies by their place in DIR, which the server
finds through ``NUSERVE_CODE_DIR`` (``/opt/nuclio``) as it finds them in a checkout.
"""

from __future__ import annotations

import re
import shutil
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nuserve.errors import ConfigError
from nuserve.nuclio.function_config import (
    RUNTIMES,
    Deployable,
    dump_yaml,
    function_config,
    function_requirements,
    read_function_config,
)
from nuserve.nuclio.function_spec import FunctionSpec
from nuserve.nuclio.trigger_defaults import handler_name
from nuserve.nuclio.wheel import download_dependencies, pack_wheel, requirements_of_nuserve
from nuserve.spec.flow import FlowSpec
from nuserve.spec.routers import RouteSpec

WHEEL_DIR = "wheels"
MODELS_DIR = "models"
YAML_NAME = "function.yaml"
HANDLER_PY = (
    '"""What Nuclio loads (``spec.handler: handler:handler``): '
    'nuserve\'s Nuclio adapter."""\n\n'
    "from nuserve.nuclio.adapter import handler, handler_async, init_context\n\n"
    '__all__ = ["handler", "handler_async", "init_context"]\n'
)
"""The checkout's ``handler.py``, written into the directory when the function has none."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Bundle:
    """What ``build_bundle`` wrote (or, with ``write=False``, would write)."""

    directory: str
    yaml_path: str
    """``DIR/function.yaml``; a flow's child functions are ``DIR/function.<child>.yaml``."""
    yaml: str
    """The main function's function.yaml text."""
    copied: dict[str, str] = field(default_factory=dict)
    """Place in the directory → the file or directory it was copied from."""
    wheels: list[str] = field(default_factory=list)
    """The wheel files in ``DIR/wheels`` (nuserve's, and with_deps its dependencies')."""
    kept_paths: list[str] = field(default_factory=list)
    """Model paths left as they are: URIs, and local paths not found here."""
    offline: bool = False
    archive: str | None = None
    """``DIR.tar.gz`` when asked for: the same files at its root (``nuctl deploy --path``
    takes an archive as well as a directory)."""


@dataclass
class _Built:
    """A function as the bundle deploys it (satisfies ``Deployable``)."""

    spec: FunctionSpec
    metadata_name: str


def build_bundle(
    functions: Mapping[str, Deployable],
    directory: str | Path,
    search_dirs: Sequence[Path] = (),
    with_deps: bool = False,
    include: Sequence[str | Path] = (),
    arch: str = "x86_64",
    write: bool = True,
    wheel_cache: str | Path | None = None,
    archive: bool = False,
) -> Bundle:
    """Write the deploy directory of ``functions`` (the main function first, then a flow's
    children) into ``directory``, which must be new or empty.

    Relative code files, model paths and ``include`` paths are looked up in the current
    directory, then in ``search_dirs``. ``with_deps`` also downloads every dependency's wheel
    for the image's Python (``spec.runtime``) on Linux ``arch``, so the build needs no index.
    ``wheel_cache`` keeps those wheels between builds (no index asked once it holds them).
    ``archive`` also packs the directory into ``DIR.tar.gz``.
    ``write=False`` changes nothing on disk and returns what would be written.
    """
    target = Path(directory)
    if write and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(
            f"{target} exists and is not an empty directory; the deploy directory is written "
            "fresh: remove it or name another"
        )
    dirs = [Path.cwd(), *search_dirs]
    copies: dict[str, Path] = {}
    kept: list[str] = []
    built: dict[str, _Built] = {}
    for name, fn in functions.items():
        spec = _copy_spec(fn)
        spec.filename = _place_code(spec.filename, dirs, copies)
        for route in _routes(spec):
            route.model_path = _place_model(route, dirs, copies, kept)
        spec.wheel_dir, spec.offline = WHEEL_DIR, with_deps
        built[name] = _Built(spec, fn.metadata_name)
    for extra in include:
        source = _find(str(extra), dirs, "include path")
        _claim(copies, Path(str(extra)).name, source)
    texts = {name: dump_yaml(function_config(fn)) for name, fn in built.items()}
    main = next(iter(texts))
    yaml_names = {n: YAML_NAME if n == main else f"function.{n}.yaml" for n in texts}
    needs_handler = any(
        handler_name(fn.spec).partition(":")[0] == "handler" for fn in built.values()
    )
    bundle = Bundle(
        str(target),
        str(target / YAML_NAME),
        texts[main],
        {place: str(source) for place, source in copies.items()},
        kept_paths=kept,
        offline=with_deps,
    )
    if not write:
        return bundle
    target.mkdir(parents=True, exist_ok=True)
    for place, source in copies.items():
        _copy(source, target / place)
    if needs_handler and "handler.py" not in copies:
        (target / "handler.py").write_text(HANDLER_PY, encoding="utf-8")
    wheel_dir = target / WHEEL_DIR
    wheels = [pack_wheel(wheel_dir)]
    if with_deps:
        first = next(iter(built.values())).spec
        requirements = sorted(
            {r for fn in built.values() for r in function_requirements(fn.spec)}
            | set(requirements_of_nuserve())
        )
        cache = Path(wheel_cache) if wheel_cache is not None else None
        python = _python(first.runtime)
        wheels += download_dependencies(requirements, wheel_dir, python, arch, cache)
    bundle.wheels = sorted({p.name for p in wheels})
    for name, text in texts.items():
        (target / yaml_names[name]).write_text(text, encoding="utf-8")
    if archive:
        bundle.archive = str(_archive(target))
    return bundle


def _archive(directory: Path) -> Path:
    """``DIR.tar.gz`` holding the directory's files at its root, in sorted order."""
    path = directory.with_name(directory.name + ".tar.gz")
    with tarfile.open(path, "w:gz") as tar:
        for item in sorted(directory.rglob("*")):
            tar.add(item, arcname=item.relative_to(directory).as_posix(), recursive=False)
    return path


def _copy_spec(fn: Deployable) -> FunctionSpec:
    """A spec that can change freely: ``fn``'s config read back (class objects become their
    names, as in the function.yaml)."""
    _, spec = read_function_config(function_config(fn))
    return spec


def _routes(spec: FunctionSpec) -> Iterator[RouteSpec]:
    graph = spec.graph
    if isinstance(graph, FlowSpec):
        for step in graph:
            if step.router is not None:
                yield from step.router.routes.values()
    elif graph is not None:
        yield from graph.routes.values()


def _place_code(filename: str | None, dirs: list[Path], copies: dict[str, Path]) -> str | None:
    if filename is None:
        return None
    source = _find(filename, dirs, "function code file")
    return _claim(copies, source.name, source)


def _place_model(
    route: RouteSpec, dirs: list[Path], copies: dict[str, Path], kept: list[str]
) -> str | None:
    path = route.model_path
    if not path or ("://" in path and not path.startswith("file://")):
        if path:
            kept.append(path)
        return path
    local = path.removeprefix("file://")
    found = next((d / local for d in dirs if (d / local).exists()), None)
    if found is None:
        kept.append(path)  # e.g. a path in a volume the function mounts
        return path
    name = _UNSAFE.sub("-", route.key.replace(":", "-")).strip("-") or "model"
    place = f"{MODELS_DIR}/{name}"
    if found.is_file():
        place += f"/{found.name}"
    return _claim(copies, place, found.resolve())


def _claim(copies: dict[str, Path], place: str, source: Path) -> str:
    """Record ``source`` at ``place`` in the directory; one place holds one source."""
    held = copies.get(place)
    if held is not None and held.resolve() != source.resolve():
        raise ConfigError(
            f"two files want {place!r} in the deploy directory ({held} and {source}); rename one"
        )
    copies[place] = source
    return place


def _find(name: str, dirs: list[Path], what: str) -> Path:
    given = Path(name)
    candidates = [given] if given.is_absolute() else [d / given for d in dirs]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise ConfigError(f"{what} {name!r} not found (tried: {tried})")


def _copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    if source.is_dir():
        shutil.copytree(source, destination, ignore=ignore)
    else:
        shutil.copy2(source, destination)


def _python(runtime: str) -> str:
    if runtime not in RUNTIMES:
        raise ConfigError(f"spec.runtime must be one of {RUNTIMES} (got {runtime!r})")
    return runtime.partition(":")[2]
