"""Which notebook ``code_to_function`` reads: the one named, or the one it is running in.

Inside a running notebook, ``code_to_function("name")`` without a filename takes the current
notebook, found as nuclio-jupyter and MLRun find it: ``JUPYTER_NOTEBOOK_FILE_NAME``; VS Code's
``__vsc_ipynb_file__``; the ``__session__`` name ipykernel sets from ``JPY_SESSION_NAME``, which
Jupyter Server gives each kernel it starts for a notebook (the notebook's path, absolute or
relative to the server's root); then the Jupyter servers' session lists (``api/sessions`` of
each running server, matched by the kernel's id).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from nuserve.errors import ConfigError
from nuserve.notebook import NotebookError, notebook_code

NAMES_IN_GLOBALS = ("__vsc_ipynb_file__", "__session__")
NAMES_IN_ENV = ("JUPYTER_NOTEBOOK_FILE_NAME", "JPY_SESSION_NAME")
SERVER_TIMEOUT_S = 2.0


def code_file(filename: str | None, function_name: str, caller: Mapping[str, Any]) -> str | None:
    """The function's code file: ``filename`` checked (a notebook's markers too), or, with
    none, the notebook the caller runs in (``None`` outside a notebook)."""
    if filename is None:
        found = current_notebook(caller)
        if found is None:
            return None
        cwd = Path.cwd().resolve()
        filename = str(found.relative_to(cwd) if found.is_relative_to(cwd) else found)
    if not Path(filename).is_file():
        raise ConfigError(f"code file {filename!r} not found (cwd is {Path.cwd()})")
    if filename.endswith(".ipynb"):
        try:
            notebook_code(filename, function_name)  # bad markers fail here, not at serving
        except NotebookError as exc:
            raise ConfigError(str(exc)) from None
    return filename


def current_notebook(caller: Mapping[str, Any] | None = None) -> Path | None:
    """The notebook this code runs in, or ``None`` when it runs in none that can be found."""
    shell = _ipython_namespace()
    candidates = [os.environ.get(NAMES_IN_ENV[0])]
    for namespace in (caller or {}, shell or {}):
        candidates += [namespace.get(name) for name in NAMES_IN_GLOBALS]
    candidates.append(os.environ.get(NAMES_IN_ENV[1]))
    for candidate in candidates:
        found = _notebook_path(candidate)
        if found is not None:
            return found
    if shell is None:
        return None
    return _from_jupyter_servers()


def _notebook_path(name: Any) -> Path | None:
    """``name`` as a notebook file: as given, else relative to the working directory (a
    kernel runs in the notebook's directory; the server may name it from its root)."""
    if not isinstance(name, str) or not name.endswith(".ipynb"):
        return None
    path = Path(name)
    for candidate in (path, Path.cwd() / path.name):
        if candidate.is_file():
            return candidate.resolve()
    return None


def _ipython_namespace() -> Mapping[str, Any] | None:
    """The running IPython kernel's user namespace, when this is a kernel."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if get is not None else None
    namespace = getattr(shell, "user_ns", None)
    return namespace if isinstance(namespace, Mapping) else None


def _from_jupyter_servers() -> Path | None:
    """Ask each running Jupyter server (its ``jpserver-*.json``) which session owns this
    kernel, as nuclio-jupyter does."""
    connect = sys.modules.get("ipykernel.connect")
    get_file = getattr(connect, "get_connection_file", None)
    if get_file is None:
        return None
    try:
        match = re.search(r"kernel-(.*)\.json", str(get_file()))
    except (RuntimeError, AttributeError):
        return None
    if match is None:
        return None
    import urllib.parse  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415 - http.client only when asking a Jupyter server

    for server in _running_servers():
        query = urllib.parse.urlencode({"token": server.get("token", "")})
        url = urllib.parse.urljoin(str(server.get("url", "")), "api/sessions") + "?" + query
        if not url.startswith(("http://", "https://")):
            continue
        try:
            with urllib.request.urlopen(url, timeout=SERVER_TIMEOUT_S) as reply:  # noqa: S310
                sessions = json.load(reply)
        except (OSError, ValueError):
            continue
        for session in sessions if isinstance(sessions, list) else []:
            if (session.get("kernel") or {}).get("id") == match.group(1):
                relative = (session.get("notebook") or {}).get("path") or session.get("path")
                return _notebook_path(str(Path(server.get("root_dir", "")) / str(relative)))
    return None


def _running_servers() -> Iterator[dict[str, Any]]:
    runtime_dir = os.environ.get("JUPYTER_RUNTIME_DIR")
    if not runtime_dir:
        try:
            from jupyter_core.paths import jupyter_runtime_dir  # noqa: PLC0415 - in kernels

            runtime_dir = jupyter_runtime_dir()
        except ImportError:
            return
    if not runtime_dir or not Path(runtime_dir).is_dir():
        return
    for file in sorted(Path(runtime_dir).glob("jpserver-*.json")):
        try:
            info = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(info, dict):
            yield info
