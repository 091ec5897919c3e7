"""Virtual environments for clients whose dependency trees clash with nuserve's pins.

kserve and mlserver each pin their own FastAPI, pydantic, grpcio and protobuf; installed
beside nuserve's test extra they would move its pins. Each gets a venv under
``~/.cache/nuserve/`` (``NUSERVE_CLIENT_VENVS`` moves it), made once with exact versions
(pip's cache makes a rebuild quick) and reused while its requirements stay the same; tests and
bench scripts run their calls there as a subprocess. ``python -m tests.clients.venvs`` makes
them all (``tests/run.sh`` does, before pytest).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

CLIENTS: dict[str, list[str]] = {
    "kserve-0.21": ["kserve==0.21.0"],
    "mlserver-1.7": ["mlserver==1.7.1"],
}
"""Venv name → its exact requirements (bench/ serves these versions too)."""
SERVERS: dict[str, list[str]] = {
    "kserve-0.21-iris": ["kserve==0.21.0", "scikit-learn==1.9.1", "cloudpickle==3.1.3"],
    "mlserver-1.7-iris": ["mlserver==1.7.1", "scikit-learn==1.9.1", "cloudpickle==3.1.3"],
}
"""The peers bench/peers.py serves the iris model in: the same versions, plus the
scikit-learn and cloudpickle that nuserve's venv pickles the model with (made on first use,
not by ``python -m tests.clients.venvs``)."""
INSTALL_TIMEOUT_S = 1800
READY = ".nuserve-requirements"


def cache_dir() -> Path:
    return Path(os.environ.get("NUSERVE_CLIENT_VENVS", Path.home() / ".cache" / "nuserve"))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process builds a venv at a time (pytest workers, a bench run beside the tests)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def python_of(name: str) -> Path:
    """The Python of venv ``name`` with its requirements installed (made when missing)."""
    requirements = CLIENTS[name] if name in CLIENTS else SERVERS[name]
    root = cache_dir() / name
    python = root / "bin" / "python"
    marker = root / READY
    wanted = "\n".join(requirements)
    with _locked(cache_dir() / f"{name}.lock"):
        if python.exists() and marker.exists() and marker.read_text() == wanted:
            return python
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300)
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *requirements],
            check=True,
            timeout=INSTALL_TIMEOUT_S,
            env=env,
        )
        marker.write_text(wanted)
    return python


def run_script(name: str, script: Path, *args: str, timeout: float = 300) -> str:
    """Run ``script`` with venv ``name``'s Python; its stdout (it fails loudly otherwise)."""
    done = subprocess.run(
        [str(python_of(name)), str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{script.name} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout


if __name__ == "__main__":
    for venv in CLIENTS:
        print(f"{venv}: {python_of(venv)}")
