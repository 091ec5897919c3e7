"""Which notebook code_to_function takes when it is given none: each way Jupyter tells it."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import threading
import urllib.parse
import uuid

import nbformat
import pytest
from jupyter_client import KernelManager
from nbclient import NotebookClient

from nuserve.function.notebook import current_notebook

NAMES = ("JPY_SESSION_NAME", "JUPYTER_NOTEBOOK_FILE_NAME")


@pytest.fixture(autouse=True)
def _outside_jupyter(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def notebook(tmp_path):
    path = tmp_path / "work" / "model.ipynb"
    path.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), path)
    return path


def test_none_outside_a_notebook() -> None:
    assert current_notebook({}) is None


def test_vscode_names_it_in_the_globals(notebook) -> None:
    assert current_notebook({"__vsc_ipynb_file__": str(notebook)}) == notebook.resolve()


def test_ipykernel_session_name_relative_to_the_server_root(notebook, monkeypatch) -> None:
    monkeypatch.chdir(notebook.parent)  # a kernel runs in its notebook's folder
    assert current_notebook({"__session__": "some/root/work/model.ipynb"}) == notebook.resolve()


@pytest.mark.parametrize("name", NAMES)
def test_environment(notebook, monkeypatch, name) -> None:
    monkeypatch.setenv(name, str(notebook))
    assert current_notebook({}) == notebook.resolve()


def test_names_that_are_not_notebook_files_are_passed_over(notebook, monkeypatch) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook.with_name("gone.ipynb")))
    assert current_notebook({"__session__": "console-1", "__vsc_ipynb_file__": 3}) is None


class _Sessions(http.server.BaseHTTPRequestHandler):
    """A Jupyter server's ``GET /api/sessions`` (token checked)."""

    answer: list = []
    seen: list = []

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        _Sessions.seen.append(url.path)
        ok = url.path == "/api/sessions" and urllib.parse.parse_qs(url.query) == {"token": ["t0k"]}
        body = json.dumps(_Sessions.answer if ok else {"message": "Forbidden"}).encode()
        self.send_response(200 if ok else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sessions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.integration
def test_a_kernel_asks_the_jupyter_server_which_session_it_is(
    tmp_path, notebook, monkeypatch
) -> None:
    """No session name anywhere: the kernel finds its id in its connection file and the
    running server's session list (``jpserver-*.json`` in the runtime dir), as nuclio-jupyter."""
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "import nuserve\nprint(nuserve.code_to_function('f').spec.filename)"
    ))  # fmt: skip
    kernel_id = str(uuid.uuid4())
    (tmp_path / "runtime").mkdir()
    # as Jupyter Server starts a kernel: its connection file named after the kernel's id
    km = KernelManager(
        kernel_name="python3",
        connection_file=str(tmp_path / "runtime" / f"kernel-{kernel_id}.json"),
    )
    client = NotebookClient(
        nb, km=km, timeout=60, resources={"metadata": {"path": str(notebook.parent)}}
    )
    with _server() as port, client.setup_kernel(cleanup_kc=True):  # shut down: ours, not its
        _Sessions.answer = [
            {"kernel": {"id": "someone-else"}, "notebook": {"path": "other.ipynb"}},
            {"kernel": {"id": kernel_id}, "notebook": {"path": "work/model.ipynb"}},
        ]
        info = {
            "url": f"http://127.0.0.1:{port}/",
            "token": "t0k",
            "root_dir": str(tmp_path),
            "pid": os.getpid(),
        }
        (tmp_path / "runtime" / "jpserver-1.json").write_text(json.dumps(info))
        client.execute_cell(nb.cells[0], 0)
    printed = "".join(o.get("text", "") for o in nb.cells[0].outputs).strip()
    assert printed == "model.ipynb"
    assert "/api/sessions" in _Sessions.seen
