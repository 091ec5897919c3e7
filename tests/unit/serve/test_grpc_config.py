"""``--grpc-port`` and ``NUSERVE_GRPC_PORT`` (a function.yaml's env may set it)."""

from __future__ import annotations

import pytest

from nuserve.errors import ConfigError
from nuserve.serve.config import ServeConfig


def test_the_grpc_port_is_read_from_the_environment() -> None:
    env = {"NUSERVE_SPEC_PATH": "f.yaml"}
    assert ServeConfig.from_env(env).grpc_port == 0
    config = ServeConfig.from_env({**env, "NUSERVE_GRPC_PORT": "9001", "NUSERVE_GRPC_HOST": "::1"})
    assert (config.grpc_port, config.grpc_host) == (9001, "::1")
    with pytest.raises(ConfigError, match=r"NUSERVE_GRPC_PORT must be a port from 1 to 65535, or 0 for none \(got '70000'\)"):
        ServeConfig.from_env({**env, "NUSERVE_GRPC_PORT": "70000"})
