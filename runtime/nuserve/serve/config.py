"""ServeConfig: what one ``nuserve serve`` worker needs, read from the environment once.

``workers.run`` sets the variables in the supervisor; every worker process (uvicorn spawns
them) reads them back in ``ServeConfig.from_env`` when its app is created.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from nuserve.errors import ConfigError
from nuserve.nuclio.spec_env import CODE_DIR_ENV, SPEC_PATH_ENV

METRICS_DIR_ENV = "NUSERVE_METRICS_DIR"
LOG_LEVEL_ENV = "NUSERVE_LOG_LEVEL"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
AUTH_TOKEN_ENV = "NUSERVE_AUTH_TOKEN"  # noqa: S105 - the variable's name, not a token
"""The bearer token every request must carry, when set (never passed on a command line)."""
BODY_TIMEOUT_ENV = "NUSERVE_BODY_TIMEOUT"
BODY_TIMEOUT_S = 30.0
MAX_IN_FLIGHT_ENV = "NUSERVE_MAX_IN_FLIGHT"
MAX_IN_FLIGHT = 256
"""Requests one worker answers at once; more get 503 with ``Retry-After`` (0: no limit)."""
OVERLOADED = "nuserve.overloaded"
"""Scope key set by ``connection`` on a request that came past the worker's limit."""
STRICT_CONTENT_TYPE_ENV = "NUSERVE_STRICT_CONTENT_TYPE"
ADDRESS_ENV = "NUSERVE_ADDRESS"
GRPC_PORT_ENV = "NUSERVE_GRPC_PORT"
"""The port of the OIP gRPC service (0 or unset: none); a function.yaml's ``spec.env`` may
set it, as ``--grpc-port`` does."""
GRPC_HOST_ENV = "NUSERVE_GRPC_HOST"
"""The URL ``nuserve serve`` listens on; a worker that has it says when it is serving."""
FAILED_PREFIX = "failed-"
"""A worker whose startup failed leaves ``failed-<pid>.txt`` (the reason) in the metrics dir."""
MAX_HEAD_BYTES = 64 * 1024
"""The largest request head (request line and headers) a worker reads; nginx allows 32 KiB."""
MIN_TOKEN_LENGTH = 16
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
"""RFC 6750's ``b64token``: what may follow ``Bearer `` in an Authorization header."""


@dataclass(frozen=True)
class ServeConfig:
    """Settings of one worker process."""

    spec_path: str
    """The function.yaml (or JSON serving spec) to serve."""
    metrics_dir: str | None = None
    """Where workers share their metrics snapshots; ``None`` serves this worker's only."""
    log_level: str = "warning"
    """Level of the worker's Nuclio logger (stderr)."""
    code_dir: str | None = None
    """An extra directory searched for the function's code file."""
    snapshot_interval: float = 1.0
    """Seconds between two metrics snapshots written to ``metrics_dir``."""
    body_timeout: float = BODY_TIMEOUT_S
    """Seconds a client may take to send a request's whole body; slower ones get 408."""
    auth_token: str | None = field(default=None, repr=False)
    """When set, every request must carry ``Authorization: Bearer <token>`` (else 401)."""
    max_in_flight: int = MAX_IN_FLIGHT
    """Requests this worker answers at once; one more gets 503 and ``Retry-After`` at once,
    rather than waiting in the event loop's queue for seconds (0: no limit)."""
    strict_content_type: bool = False
    """Refuse a body whose Content-Type is not JSON with 415; by default any content type
    is taken and the body read as JSON when it parses."""
    address: str = ""
    grpc_port: int = 0
    """Where each worker serves OIP over gRPC too (0: HTTP only)."""
    grpc_host: str = "127.0.0.1"
    """The URL the server listens on; when set, the worker prints a line once it serves."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServeConfig:
        env = os.environ if environ is None else environ
        spec_path = env.get(SPEC_PATH_ENV)
        if not spec_path:
            raise ConfigError(
                f"{SPEC_PATH_ENV} is not set; start the server with "
                "nuserve.serve.workers.run('function.yaml') or `nuserve serve function.yaml`"
            )
        level = env.get(LOG_LEVEL_ENV, "warning").lower()
        if level not in LOG_LEVELS:
            raise ConfigError(
                f"{LOG_LEVEL_ENV} must be one of {', '.join(LOG_LEVELS)} (got {level!r})"
            )
        token = env.get(AUTH_TOKEN_ENV)
        return cls(
            spec_path=spec_path,
            metrics_dir=env.get(METRICS_DIR_ENV) or None,
            log_level=level,
            code_dir=env.get(CODE_DIR_ENV) or None,
            body_timeout=check_timeout(BODY_TIMEOUT_ENV, env.get(BODY_TIMEOUT_ENV, BODY_TIMEOUT_S)),
            auth_token=check_token(token, AUTH_TOKEN_ENV) if token else None,
            max_in_flight=check_max_in_flight(
                MAX_IN_FLIGHT_ENV, env.get(MAX_IN_FLIGHT_ENV, MAX_IN_FLIGHT)
            ),
            strict_content_type=env.get(STRICT_CONTENT_TYPE_ENV, "") == "1",
            address=env.get(ADDRESS_ENV, ""),
            grpc_port=check_port(GRPC_PORT_ENV, env.get(GRPC_PORT_ENV) or "0"),
            grpc_host=env.get(GRPC_HOST_ENV) or "127.0.0.1",
        )

    def handler_environ(self) -> dict[str, str]:
        """The environment ``init_context`` reads: this spec file, never an inline spec."""
        environ = {SPEC_PATH_ENV: self.spec_path}
        if self.code_dir:
            environ[CODE_DIR_ENV] = self.code_dir
        return environ


def check_port(name: str, value: str | int) -> int:
    """A TCP port: 0 (none) to 65535 (``name`` says where it came from)."""
    text = str(value).strip()
    if not text.isdigit() or int(text) > 65535:
        raise ConfigError(f"{name} must be a port from 1 to 65535, or 0 for none (got {text!r})")
    return int(text)


def check_timeout(name: str, value: str | float) -> float:
    """A timeout in seconds: a number above 0 (``name`` says where it came from)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise ConfigError(f"{name} must be a number of seconds above 0 (got {value!r})")
    return seconds


def check_max_in_flight(name: str, value: str | int) -> int:
    """A limit of requests in flight: a whole number, 0 (no limit) or more."""
    try:
        limit = int(value)
    except ValueError:
        limit = -1
    if limit < 0:
        raise ConfigError(f"{name} must be a whole number, 0 (no limit) or more (got {value!r})")
    return limit


def check_token(token: str, where: str) -> str:
    """The token, stripped, if a client can send it; the error never shows the token."""
    token = token.strip()
    if not _TOKEN.fullmatch(token):
        raise ConfigError(
            f"the auth token from {where} holds characters an Authorization header cannot "
            "carry; use letters, digits and -._~+/ only (e.g. `openssl rand -hex 32`)"
        )
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"the auth token from {where} has {len(token)} characters; use "
            f"{MIN_TOKEN_LENGTH} or more (e.g. `openssl rand -hex 32`)"
        )
    return token
