"""A user's hub written to a folder, and a real HTTP server on 127.0.0.1 serving it."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import nuserve

DOUBLER = """
from nuserve.model.v2_model_server import V2ModelServer


class Doubler(V2ModelServer):
    def load(self):
        self.model = "doubler"

    def predict(self, request):
        return [2 * x for x in request["inputs"]]
"""


def write_user_hub(root: Path, name: str = "doubler", version: str = "2.1") -> Path:
    """A hub with one function, ``name``: a router serving model ``d`` (class Doubler)."""
    folder = root / "fns" / name
    folder.mkdir(parents=True)
    (folder / "doubler.py").write_text(DOUBLER)
    fn = nuserve.new_function(name)
    fn.spec.filename = "doubler.py"
    fn.add_model("d", class_name="Doubler")
    fn.to_yaml(folder / "function.yaml")
    (root / "index.yaml").write_text(
        f"functions:\n  {name}:\n    description: doubles its inputs\n    version: '{version}'\n"
        f"    path: fns/{name}\n    files: [function.yaml, doubler.py]\n"
    )
    return root


@contextlib.contextmanager
def http_hub(root: Path) -> Iterator[str]:
    """``root`` served by a real HTTP server on 127.0.0.1; yields its base URL."""
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, format: str, *args: object) -> None:
        _Quiet.requests.append(self.path)
