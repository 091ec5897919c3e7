"""ServeConfig: the worker's settings, read from the environment once and checked."""

from __future__ import annotations

import pytest

from nuserve.errors import ConfigError
from nuserve.serve.config import ServeConfig, check_timeout, check_token

ENV = {"NUSERVE_SPEC_PATH": "function.yaml"}


def test_defaults() -> None:
    config = ServeConfig.from_env(ENV)
    assert config.body_timeout == 30.0
    assert config.auth_token is None


def test_body_timeout_and_token_from_the_environment() -> None:
    token = "abcdefghijklmnop-0123456789"
    env = {**ENV, "NUSERVE_BODY_TIMEOUT": "2.5", "NUSERVE_AUTH_TOKEN": f" {token}\n"}
    config = ServeConfig.from_env(env)
    assert config.body_timeout == 2.5
    assert config.auth_token == token
    assert token not in repr(config)


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf", ""])
def test_bad_timeouts_are_refused(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_timeout("NUSERVE_BODY_TIMEOUT", value)
    assert info.value.message == (
        f"NUSERVE_BODY_TIMEOUT must be a number of seconds above 0 (got {value!r})"
    )


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("short", "has 5 characters; use 16 or more"),
        ("with a space in the middle 123", "holds characters an Authorization header cannot"),
        ('quote"0123456789abcdef', "holds characters an Authorization header cannot"),
        ("0123456789abcdef\r\nX-Evil: 1", "holds characters an Authorization header cannot"),
    ],
)
def test_tokens_a_client_cannot_send_are_refused_without_being_shown(
    token: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        check_token(token, "NUSERVE_AUTH_TOKEN")
    assert message in info.value.message
    assert "NUSERVE_AUTH_TOKEN" in info.value.message
    assert token.strip() not in info.value.message


def test_b64_tokens_are_accepted() -> None:
    token = "aGVsbG8td29ybGQtdG9rZW4+/A-._~=="
    assert check_token(token + "\n", "file") == token


def test_admission_and_content_type_settings_from_the_environment() -> None:
    assert ServeConfig.from_env(ENV).max_in_flight == 256
    assert ServeConfig.from_env(ENV).strict_content_type is False
    env = {**ENV, "NUSERVE_MAX_IN_FLIGHT": "0", "NUSERVE_STRICT_CONTENT_TYPE": "1"}
    config = ServeConfig.from_env(env)
    assert (config.max_in_flight, config.strict_content_type) == (0, True)


@pytest.mark.parametrize("value", ["-1", "many", "1.5"])
def test_a_bad_in_flight_limit_is_refused(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        ServeConfig.from_env({**ENV, "NUSERVE_MAX_IN_FLIGHT": value})
    assert info.value.message == (
        f"NUSERVE_MAX_IN_FLIGHT must be a whole number, 0 (no limit) or more (got {value!r})"
    )
