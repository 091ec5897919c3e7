"""Class resolution: turn a spec's ``class_name`` into a class.

Order: a class object as is; a dotted path (``pkg.mod.Class``) imported; a bare name looked up
in the explicit namespace, then the caller's globals, then the function's code module, then
nuserve's built-ins. A name that cannot be found is an error that lists where it looked.

Names and code files come from the serving spec, which is trusted configuration (it names
the code to run); nothing here ever sees request data. A code file named relative to a code
directory must stay inside it (``..`` or a symlink out of it is refused); the file name as
given, absolute or relative to the working directory, is the spec author's own choice.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from nuserve.errors import ConfigError


def resolve_class(
    name: str | type,
    namespaces: list[tuple[str, Mapping[str, Any]]],
) -> type:
    """Find ``name``; ``namespaces`` are ``(label, mapping)`` pairs searched in order."""
    if isinstance(name, type):
        return name
    return _as_class(*resolve_object(name, namespaces))


def resolve_object(
    name: str,
    namespaces: list[tuple[str, Mapping[str, Any]]],
    what: str = "class",
    noun: str = "class",
    example: str = "pkg.module.Class",
) -> tuple[str, Any]:
    """Find ``name`` in the resolution order; return the name it was found by and the object.

    The not-found error names the object as ``what`` ("class", "handler") and offers the fix
    as "Pass the ``noun`` object, a dotted path (``example``)". The caller checks the kind.
    """
    looked: list[str] = []
    if name.startswith("mlrun."):
        name = "nuserve." + name[len("mlrun.") :]  # MLRun's class paths name nuserve's classes
    if "." in name:
        module_name, _, attr = name.rpartition(".")
        try:
            found = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            looked.append(f"import {name} ({type(exc).__name__}: {exc})")
        else:
            return name, found
        name = attr
    for label, namespace in namespaces:
        if name in namespace:
            return name, namespace[name]
        looked.append(label)
    raise ConfigError(
        f"{what} {name!r} not found; looked in: {', '.join(looked)}. "
        f"Pass the {noun} object, a dotted path ({example}), or namespace=globals()"
    )


def _as_class(name: str, value: Any) -> type:
    if not isinstance(value, type):
        raise ConfigError(f"{name!r} is a {type(value).__name__}, not a class")
    return value


def load_code_module(
    filename: str, search_dirs: list[Path] | None = None, function_name: str = ""
) -> ModuleType:
    """Import the function's code file (``code_to_function(filename=...)``) once.

    A notebook (``.ipynb``) is imported as the code its cell markers keep
    (``nuserve.notebook``); ``function_name`` picks the markers named for that function.
    """
    path, candidates = _find_code_file(filename, search_dirs or [])
    if path is None:
        tried = ", ".join(str(p) for p in candidates)
        raise ConfigError(f"function code file {filename!r} not found (tried: {tried})")
    module_name = f"nuserve_code_{path.stem}"
    existing = sys.modules.get(module_name)
    if existing is not None and getattr(existing, "__file__", None) == str(path.resolve()):
        return existing
    loader = None
    notebook_errors: tuple[type[Exception], ...] = ()  # catches nothing for a .py file
    if path.suffix == ".ipynb":  # the notebook reader only for a notebook (start-up time)
        from nuserve.notebook import NotebookError, NotebookLoader  # noqa: PLC0415

        loader = NotebookLoader(path.resolve(), function_name)
        notebook_errors = (NotebookError,)
    spec = importlib.util.spec_from_file_location(module_name, path.resolve(), loader=loader)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot import function code file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except notebook_errors as exc:
        del sys.modules[module_name]
        raise ConfigError(str(exc)) from None
    return module


def _find_code_file(filename: str, search_dirs: list[Path]) -> tuple[Path | None, list[Path]]:
    """The file as named, else the first in a code directory: ``(found or None, tried)``."""
    tried = [Path(filename)]
    if tried[0].is_file():
        return tried[0], tried
    for directory in search_dirs:
        for candidate in (directory / filename, directory / Path(filename).name):
            tried.append(candidate)
            if not candidate.is_file():
                continue
            if not candidate.resolve().is_relative_to(directory.resolve()):
                raise ConfigError(
                    f"function code file {filename!r} leads out of the code directory "
                    f"{directory} (to {candidate.resolve()}); name a file inside it"
                )
            return candidate, tried
    return None, tried
