"""The ``nuserve`` command: version, build, invoke (in-process), deploy --dry-run, and errors."""

from __future__ import annotations

from pathlib import Path

import orjson
import yaml

from nuserve import __version__
from nuserve.cli.main import main

ROOT = Path(__file__).resolve().parents[3]

FUNCTION_PY = """
import nuserve
fn = nuserve.new_function("clitest")
fn.add_model("e", class_name="tests.models.Echo")
"""


def test_version(capsys):
    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip() == f"nuserve {__version__}"


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "nuserve serve function.yaml" in capsys.readouterr().out


def test_build_then_invoke_in_process(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    source = tmp_path / "fn.py"
    source.write_text(FUNCTION_PY)
    out = tmp_path / "function.yaml"
    assert main(["build", str(source), "-o", str(out)]) == 0
    assert yaml.safe_load(out.read_text())["metadata"]["name"] == "clitest"
    capsys.readouterr()
    assert main(["invoke", str(out), "/v2/models/e/infer", "--body", '{"inputs": [7]}']) == 0
    assert orjson.loads(capsys.readouterr().out)["outputs"] == [7]
    body_file = tmp_path / "req.json"
    body_file.write_text('{"inputs": [8]}')
    assert main(["invoke", str(out), "/v2/models/e/infer", "--body", f"@{body_file}"]) == 0
    assert orjson.loads(capsys.readouterr().out)["outputs"] == [8]
    assert main(["invoke", str(out), "/v2/models/nope/infer", "--body", "{}"]) == 1
    assert "model 'nope' not found" in capsys.readouterr().out


def test_deploy_dry_run_prints_the_nuctl_command(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["deploy", "function.yaml", "--dry-run"]) == 0
    printed = orjson.loads(capsys.readouterr().out)
    command = printed["command"]
    assert command[:3] == ["nuctl", "deploy", "iris"]
    assert command[command.index("--file") + 1] == "function.yaml"
    assert printed["dry_run"] is True and printed["returncode"] is None
    assert printed["yaml"] == (ROOT / "function.yaml").read_text()


def test_errors_name_the_file_and_the_fix(tmp_path, capsys):
    assert main(["build", str(tmp_path / "missing.py")]) == 1
    err = capsys.readouterr().err
    assert "missing.py not found" in err
    assert main(["serve", str(tmp_path / "nope.yaml")]) == 1
    assert "nope.yaml" in capsys.readouterr().err


def test_monitor_has_its_own_help_and_needs_work(capsys):
    import pytest

    with pytest.raises(SystemExit) as done:
        main(["monitor", "--help"])
    assert done.value.code == 0
    assert "usage: nuserve monitor" in capsys.readouterr().out
    assert main(["monitor"]) == 1
    assert "nothing to do" in capsys.readouterr().err


def test_openapi_writes_the_document_without_loading_models(tmp_path, capsys, monkeypatch):
    from openapi_spec_validator import validate

    monkeypatch.chdir(ROOT)
    source = tmp_path / "fn.py"
    source.write_text(FUNCTION_PY + 'fn.add_model("b", class_name="tests.models.BrokenLoad")\n')
    spec = tmp_path / "function.yaml"
    assert main(["build", str(source), "-o", str(spec)]) == 0
    capsys.readouterr()
    assert main(["openapi", str(spec)]) == 0  # BrokenLoad's load would fail: not called
    printed = orjson.loads(capsys.readouterr().out)
    validate(printed)
    assert printed["info"]["title"] == "clitest"
    assert {"/v2/models/e/infer", "/v2/models/b/ready", "/metrics"} <= set(printed["paths"])
    out = tmp_path / "openapi.json"
    assert main(["openapi", str(spec), "--nuclio", "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out} (")
    written = orjson.loads(out.read_bytes())
    assert set(printed["paths"]) - set(written["paths"]) == {"/metrics", "/openapi.json"}
    assert main(["openapi", str(spec), "--load"]) == 1  # now BrokenLoad's load runs
    assert "weights.bin is missing" in capsys.readouterr().err


def test_serve_takes_no_abbreviated_token_option(capsys):
    """`--auth-token SECRET` must not be read as `--auth-token-file SECRET` (argparse would
    accept the prefix and then name the secret as a file it cannot read)."""
    import pytest

    from nuserve.serve.workers import main as workers_main

    for run in (lambda argv: main(["serve", *argv]), workers_main):
        with pytest.raises(SystemExit) as exited:
            run(["function.yaml", "--auth-token", "s3cret-s3cret-s3cret"])
        assert exited.value.code == 2
        assert "unrecognized arguments: --auth-token" in capsys.readouterr().err


INLINE_PY = """
import nuserve


class Doubler(nuserve.V2ModelServer):
    def predict(self, body):
        return [2 * x for x in body["inputs"]]


fn = nuserve.new_function("inline")
fn.set_topology("router")
fn.add_model("d", class_name=Doubler)
"""


def test_version_flag(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"nuserve {__version__}"


def test_build_of_a_file_defining_its_class_carries_the_file(tmp_path, capsys, monkeypatch):
    """The class once became ``nuserve_build.Doubler``, a module no server can import."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_model.py").write_text(INLINE_PY)
    assert main(["build", "my_model.py", "-o", "function.yaml"]) == 0
    assert "code file my_model.py" in capsys.readouterr().out
    serving = main_spec(tmp_path / "function.yaml")
    assert serving["filename"] == "my_model.py"
    assert serving["graph"]["routes"][0]["class_name"] == "Doubler"
    assert main(["invoke", "function.yaml", "/v2/models/d/infer", "--body", '{"inputs": [4]}']) == 0
    assert orjson.loads(capsys.readouterr().out)["outputs"] == [8]


def main_spec(path: Path) -> dict:
    from nuserve.nuclio.spec_env import spec_from_file

    return spec_from_file(path).to_dict()


DEPLOY_WITHOUT_NUCTL = ["deploy", str(ROOT / "function.yaml"), "--project-dir", str(ROOT)]
DEPLOY_WITHOUT_NUCTL += ["--nuctl", "/nonexistent/nuctl"]


def test_errors_are_one_line_and_exit_1(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("# not python\n")
    (tmp_path / "broken.py").write_text("import nuserve\nraise ValueError('boom\\nsecond line')\n")
    (tmp_path / "bad_syntax.py").write_text("def (:\n")
    cases = [
        (["build", "README.md"], "README.md is not a Python file; pass the .py file"),
        (["build", "broken.py"], "ValueError: boom second line (NUSERVE_TRACEBACK=1 shows"),
        (["build", "bad_syntax.py"], "SyntaxError: invalid syntax"),
        (["serve", "missing.yaml"], "function.yaml 'missing.yaml' not found"),
        (
            DEPLOY_WITHOUT_NUCTL,
            "(`nuserve deploy --nuctl /path/to/nuctl`)",
        ),
    ]
    for argv, expected in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert err.startswith(f"nuserve {argv[0]}: "), err
        assert expected in err, err
        assert "Traceback" not in err


def test_deploy_takes_every_option_of_the_python_api(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    argv = ["deploy", "function.yaml", "--dry-run", "--platform", "kube", "--nuctl", "nuctl-x"]
    argv += ["--registry", "reg.example:5000", "--namespace", "ml", "--project-dir", "."]
    assert main(argv) == 0
    command = orjson.loads(capsys.readouterr().out)["command"]
    assert command[0] == "nuctl-x"
    for flag, value in (("--platform", "kube"), ("--registry", "reg.example:5000")):
        assert command[command.index(flag) + 1] == value
    assert command[command.index("--namespace") + 1] == "ml"
