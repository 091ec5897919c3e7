"""Run MLRun's public serving tests against nuserve, with nothing changed but the imports.

Opt-in (CI does not run it): it needs a copy of MLRun's repository and, in the interpreter
running it, ``pytest-httpserver``, ``pandas``, ``scikit-learn`` and ``nuclio-sdk`` (the test
modules import them at the top)::

    git clone --bare https://github.com/mlrun/mlrun /tmp/mlrun.git   # or any checkout
    python bench/mlrun_tests.py /tmp/mlrun.git --ref 1.7.x

The 48 items are those of ``tests/serving/`` (1.7 line: test_serving, test_flow,
test_async_flow, test_merger, test_parallel, test_remote) that use only the public serving
API; items needing MLRun's storey engine itself, its database or its deploy are left out.
The files are copied, ``mlrun`` imports are renamed to nuserve, and a stub ``storey`` module
lets them import (they subclass storey classes at module level, used only by items left out).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

FILES = (
    "__init__.py",
    "demo_states.py",
    "test_async_flow.py",
    "test_flow.py",
    "test_merger.py",
    "test_parallel.py",
    "test_remote.py",
    "test_serving.py",
)
ITEMS = [
    "test_async_flow.py::test_async_basic",
    "test_async_flow.py::test_async_error_on_missing_function_parameter",
    "test_async_flow.py::test_async_nested",
    "test_async_flow.py::test_on_error",
    "test_flow.py::test_basic_flow",
    "test_flow.py::test_handler",
    "test_flow.py::test_handler_with_context",
    "test_flow.py::test_init_class",
    "test_flow.py::test_on_error",
    "test_flow.py::test_content_type",
    "test_flow.py::test_add_model",
    "test_flow.py::test_multi_function",
    "test_flow.py::test_path_control[sync-handler]",
    "test_flow.py::test_path_control[async-handler]",
    "test_flow.py::test_path_control_routers",
    "test_flow.py::test_to_dict",
    "test_flow.py::test_set_flow_error",
    "test_flow.py::test_set_flow",
    "test_merger.py::test_no_merger",
    "test_merger.py::test_simple",
    "test_merger.py::test_custom_key",
    "test_parallel.py::test_parallel",
    "test_remote.py::test_remote_step",
    "test_remote.py::test_remote_step_bad_status_code",
    "test_remote.py::test_remote_class",
    "test_remote.py::test_remote_class_to_dict",
    "test_remote.py::test_remote_class_no_header_propagation",
    "test_remote.py::test_remote_advance",
    "test_remote.py::test_timeout",
    "test_remote.py::test_failure",
    "test_remote.py::test_retry",
    "test_remote.py::test_parallel_remote",
    "test_remote.py::test_parallel_remote_retry",
    "test_serving.py::test_ensemble_get_models",
    "test_serving.py::test_ensemble_change_weights",
    "test_serving.py::test_serving_no_router",
    "test_serving.py::test_model_chained",
]
STOREY = {
    "__init__.py": "from . import flow\n\n"
    "class MapClass:\n    def __init__(self, **kwargs):\n        pass\n",
    "flow.py": "class _ConcurrentJobExecution:\n    def __init__(self, **kwargs):\n        pass\n",
}
CONFTEST = "import pathlib\nresults = str(pathlib.Path(__file__).parent.parent / 'results')\n"


def rename_imports(text: str) -> str:
    """``mlrun`` imports become nuserve's; nothing else in the file changes."""
    text = re.sub(r"^import mlrun$", "import nuserve as mlrun", text, flags=re.M)
    text = re.sub(
        r"^(\s*)import mlrun\.(\S+)$",
        r"\1import nuserve.\2\n\1import nuserve as mlrun",
        text,
        flags=re.M,
    )
    return re.sub(
        r"^(\s*)from mlrun(\.\S+)? import",
        lambda m: f"{m.group(1)}from nuserve{m.group(2) or ''} import",
        text,
        flags=re.M,
    )


def read(repo: Path, ref: str, name: str) -> str:
    """A file of tests/serving at ``ref``: from a git directory, or a checkout's work tree."""
    if (repo / "tests" / "serving" / name).is_file() and not ref:
        return (repo / "tests" / "serving" / name).read_text()
    done = subprocess.run(
        ["git", f"--git-dir={repo}", "show", f"{ref or 'HEAD'}:tests/serving/{name}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path, help="MLRun's repository (a git dir or a checkout)")
    parser.add_argument("--ref", default="1.7.x", help="branch or tag (default 1.7.x)")
    args, rest = parser.parse_known_args()
    repo = args.repo / ".git" if (args.repo / ".git").is_dir() else args.repo
    with tempfile.TemporaryDirectory(prefix="mlrun-tests-") as tmp:
        root = Path(tmp)
        tests = root / "tests" / "serving"
        tests.mkdir(parents=True)
        (root / "tests" / "__init__.py").write_text("")
        (root / "tests" / "conftest.py").write_text(CONFTEST)
        for name in FILES:
            (tests / name).write_text(rename_imports(read(repo, args.ref, name)))
        (root / "stubs" / "storey").mkdir(parents=True)
        for name, text in STOREY.items():
            (root / "stubs" / "storey" / name).write_text(text)
        env = {"PYTHONPATH": f"{root / 'stubs'}:{root}"}
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--rootdir",
            str(root),
            *[f"tests/serving/{i}" for i in ITEMS],
            *rest,
        ]
        import os  # noqa: PLC0415

        done = subprocess.run(command, cwd=root, env={**os.environ, **env}, check=False)
        return done.returncode


if __name__ == "__main__":
    sys.exit(main())
