"""``run`` checks its input before starting anything, and does not import uvicorn early."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nuserve.errors import ConfigError
from nuserve.serve.function_yaml import function_env
from nuserve.serve.workers import (
    add_limit_arguments,
    best_available,
    check_function_yaml,
    limits,
    run,
)
from tests.serve_models import write_function_yaml


def test_missing_function_yaml_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        check_function_yaml(tmp_path / "nope.yaml")
    assert "nope.yaml' not found" in str(info.value)
    assert "fn.to_yaml(" in str(info.value)


def test_function_yaml_without_a_spec_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "function.yaml"
    path.write_text("metadata: {name: t}\nspec: {env: []}\n")
    with pytest.raises(ConfigError) as info:
        check_function_yaml(path)
    assert str(path) in str(info.value)
    assert "has no NUSERVE_SPEC in spec.env" in str(info.value)


def test_bad_kafka_trigger_is_refused_before_serving(tmp_path: Path) -> None:
    path = write_function_yaml(
        tmp_path / "function.yaml",
        {"e": "tests.models.Echo"},
        triggers={"k": {"kind": "kafka-cluster", "attributes": {"topics": ["t"]}}},
    )
    with pytest.raises(ConfigError, match="'brokers' must be a list of strings"):
        run(str(path))


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    path = write_function_yaml(tmp_path / "function.yaml", {"e": "tests.models.Echo"})
    with pytest.raises(ConfigError, match="log_level must be one of"):
        run(str(path), log_level="loud")
    with pytest.raises(ConfigError, match="workers must be 1 or more"):
        run(str(path), workers=0)


def test_best_available_falls_back_to_the_last_name() -> None:
    assert best_available("no_such_module_xyz", "h11") == "h11"
    assert best_available("json", "h11") == "json"


def test_importing_nuserve_and_the_app_does_not_import_uvicorn() -> None:
    code = (
        "import sys, nuserve, nuserve.serve.app, nuserve.serve.workers; "
        "sys.exit('uvicorn' in sys.modules or 'confluent_kafka' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_function_env_gives_plain_values_only(tmp_path: Path) -> None:
    path = tmp_path / "function.yaml"
    path.write_text(
        "spec:\n  env:\n"
        "  - {name: A, value: '1'}\n"
        "  - {name: B, valueFrom: {secretKeyRef: {name: s, key: k}}}\n"
        "  - {name: NUSERVE_SPEC, value: '{}'}\n"
    )
    assert function_env(path, ("NUSERVE_SPEC",)) == {"A": "1"}
    assert function_env(tmp_path / "spec.json") == {}


def test_no_option_takes_a_token_on_the_command_line() -> None:
    """``ps`` shows every user the command lines: a token is taken from a file or env only."""
    parser = argparse.ArgumentParser()
    add_limit_arguments(parser)
    dests = {action.dest for action in parser._actions}
    assert dests == {
        "help",
        "auth_token_file",
        "body_timeout",
        "head_timeout",
        "max_in_flight",
        "strict_content_type",
        "grpc_port",
    }
    args = parser.parse_args(["--auth-token-file", "t", "--body-timeout", "2"])
    assert limits(args) == {
        "auth_token_file": "t",
        "body_timeout": 2.0,
        "head_timeout": 5,
        "max_in_flight": 256,
        "strict_content_type": False,
        "grpc_port": None,
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"body_timeout": 0}, "body_timeout must be a number of seconds above 0 (got 0)"),
        ({"head_timeout": 0}, "head_timeout must be a whole number of seconds, 1 or more (got 0)"),
        ({"head_timeout": 0.5}, "head_timeout must be a whole number of seconds, 1 or more"),
        ({"auth_token_file": "/nonexistent/token"}, "cannot read the auth token file"),
        ({"max_in_flight": -1}, "max_in_flight must be a whole number, 0 (no limit) or more"),
    ],
)
def test_bad_limits_are_refused_before_serving(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    spec = write_function_yaml(tmp_path / "function.yaml", {"e": "tests.models.Echo"})
    with pytest.raises(ConfigError, match=re.escape(message)):
        run(str(spec), port=0, **options)  # type: ignore[arg-type]
