"""The package never unpickles, evaluates or shells out: each risky call is listed here.

An AST scan of ``runtime/nuserve``: a new call to one of these fails the test until it is
added to ``ALLOWED`` with the reason it never sees request data (and SECURITY.md says so).
"""

from __future__ import annotations

import ast
from pathlib import Path

import nuserve

PACKAGE = Path(nuserve.__file__).parent
RISKY_MODULES = {"pickle", "cloudpickle", "marshal", "shelve", "dill", "subprocess", "runpy"}
RISKY_NAMES = {"eval", "exec", "compile", "__import__"}
RISKY_ATTRIBUTES = {
    ("yaml", "load"),
    ("yaml", "unsafe_load"),
    ("yaml", "full_load"),
    ("os", "system"),
    ("os", "popen"),
    ("importlib", "import_module"),
    ("numpy", "load"),
    ("np", "load"),
}
ALLOWED = {
    # the dot program, on the DOT text the picture module wrote itself (no shell)
    ("graph/pictures.py", "subprocess.run"),
    # nuctl, with an argument list built from the function.yaml path (no shell)
    ("nuclio/deploy.py", "subprocess.run"),
    # `pip download` of the dependency wheels (build --with-deps): a fixed argument list
    ("nuclio/wheel.py", "subprocess.run"),
    # `nuserve build FILE`: runs the Python file the user named on the command line
    ("cli/main.py", "runpy.run_path"),
    # the spec's class names ("pkg.mod.Class"); the spec is configuration, never a request
    ("resolve.py", "importlib.import_module"),
    # lazy imports of nuserve's own graph modules, by fixed names
    ("graph/__init__.py", "importlib.import_module"),
    ("nuclio/__init__.py", "importlib.import_module"),
    # nuserve's own names imported on first use, by fixed module names (LAZY, MODULES)
    ("__init__.py", "importlib.import_module"),
    ("server/builtins.py", "importlib.import_module"),
    # hub templates (user code shipped as data): the model file their owner names, never a request
    ("hub/functions/sklearn_classifier/sklearn_classifier.py", "import cloudpickle"),
    ("hub/functions/voting_ensemble/voting_ensemble.py", "import cloudpickle"),
    # the optional PostgreSQL driver, by a fixed name
    ("monitoring/store/postgres.py", "importlib.import_module"),
}


def risky_calls(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            modules.append(getattr(node, "module", None) or "")
            for module in modules:
                if module.split(".")[0] in RISKY_MODULES - {"subprocess", "runpy"}:
                    found.add(f"import {module}")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in RISKY_NAMES:
            found.add(func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner, name = func.value.id, func.attr
            if owner in RISKY_MODULES or (owner, name) in RISKY_ATTRIBUTES:
                found.add(f"{owner}.{name}")
    return found


def test_no_unpickling_evaluation_or_shell_outside_the_reviewed_places() -> None:
    seen = {
        (str(path.relative_to(PACKAGE)), call)
        for path in sorted(PACKAGE.rglob("*.py"))
        for call in risky_calls(path)
    }
    assert seen - ALLOWED == set(), "unreviewed risky calls; see SECURITY.md"
    assert ALLOWED - seen == set(), "reviewed calls that are gone: drop them from ALLOWED"


def test_subprocess_is_never_run_through_a_shell() -> None:
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    shell = keyword.arg == "shell"
                    assert not (shell and getattr(keyword.value, "value", True)), path


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import pickle\nimport yaml\nimport subprocess\n"
        "pickle.loads(b'')\neval('1')\nyaml.load('')\nsubprocess.run(['x'])\n"
    )
    assert risky_calls(sample) == {
        "import pickle",
        "pickle.loads",
        "eval",
        "yaml.load",
        "subprocess.run",
    }
