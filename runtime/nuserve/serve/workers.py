"""``run``: serve a function.yaml locally with uvicorn, in one or several worker processes.

Each worker is a uvicorn process running ``app.create_app`` (an import string, so uvicorn's
supervisor can spawn workers and replace one that dies). The supervisor process holds the
settings in the environment, reads them nowhere else, and owns the shared metrics directory.
SIGTERM and SIGINT shut down gracefully: uvicorn stops accepting, finishes the requests in
flight, then runs each worker's lifespan shutdown (consumers stopped, graph closed).

Exposure: the server binds 127.0.0.1 unless told otherwise, and warns when told to bind an
address other machines can reach without a bearer token. The token comes from a file
(``--auth-token-file``) or ``NUSERVE_AUTH_TOKEN``, never from the command line, and goes to the
workers through their environment. Slow or oversized request heads are cut off by
``connection.HeadLimitedProtocol`` (``head_timeout``), slow bodies by the app (``body_timeout``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import ipaddress
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from nuserve.errors import ConfigError
from nuserve.nuclio.spec_env import SPEC_ENV, SPEC_PATH_ENV, spec_from_file
from nuserve.serve.config import (
    ADDRESS_ENV,
    AUTH_TOKEN_ENV,
    BODY_TIMEOUT_ENV,
    BODY_TIMEOUT_S,
    FAILED_PREFIX,
    GRPC_HOST_ENV,
    GRPC_PORT_ENV,
    LOG_LEVEL_ENV,
    LOG_LEVELS,
    MAX_HEAD_BYTES,
    MAX_IN_FLIGHT,
    MAX_IN_FLIGHT_ENV,
    METRICS_DIR_ENV,
    STRICT_CONTENT_TYPE_ENV,
    check_max_in_flight,
    check_port,
    check_timeout,
    check_token,
)
from nuserve.serve.function_yaml import function_env, kafka_triggers
from nuserve.spec.flow import FlowSpec
from nuserve.spec.routers import RouterSpec

APP = "nuserve.serve.app:create_app"
GRACEFUL_SHUTDOWN_S = 25
"""Seconds uvicorn waits for requests in flight at shutdown (Kubernetes allows 30)."""
STARTUP_FAILURE = 3
"""uvicorn's exit code for a worker whose startup failed."""
HEAD_TIMEOUT_S = 5
"""Seconds a connection has to send a request head (and to stay idle between requests);
whole seconds, as uvicorn's keep-alive timeout."""


def check_function_yaml(function_yaml: str | Path) -> Path:
    """The file as an absolute path, once its spec and triggers are known to be readable."""
    path = Path(function_yaml).resolve()
    if not path.is_file():
        raise ConfigError(
            f"function.yaml {str(function_yaml)!r} not found (cwd is {Path.cwd()}); "
            "write it with fn.to_yaml('function.yaml') or `nuserve build`, then pass its path"
        )
    try:
        spec_from_file(path)
        kafka_triggers(path)
        function_env(path)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}") from None
    except (OSError, ValueError) as exc:  # unreadable, or not YAML
        raise ConfigError(f"{path} cannot be read as a function.yaml: {exc}") from None
    return path


def model_keys(function_yaml: Path) -> list[str]:
    """The models a function.yaml serves (``name`` or ``name:version``), router steps too."""
    graph = spec_from_file(function_yaml).graph
    routers = [graph] if isinstance(graph, RouterSpec) else []
    if isinstance(graph, FlowSpec):
        routers = [step.router for step in graph.steps.values() if step.router is not None]
    return [key for router in routers for key in router.routes]


def best_available(*names: str) -> str:
    """The first of ``names`` whose module is installed; the last one is the fallback."""
    return next((n for n in names[:-1] if importlib.util.find_spec(n) is not None), names[-1])


def run(
    function_yaml: str,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    log_level: str = "warning",
    *,
    auth_token_file: str | None = None,
    body_timeout: float = BODY_TIMEOUT_S,
    head_timeout: int = HEAD_TIMEOUT_S,
    max_in_flight: int = MAX_IN_FLIGHT,
    strict_content_type: bool = False,
    grpc_port: int | None = None,
) -> None:
    """Serve ``function_yaml`` until SIGTERM or SIGINT; raises ``ConfigError`` on bad input.

    The workers get the function's ``spec.env`` values, as under Nuclio; a variable already
    set in this process's environment wins, so a local run can override one. A token read
    from ``auth_token_file`` wins over ``NUSERVE_AUTH_TOKEN``.
    """
    path = check_function_yaml(function_yaml)
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)} (got {log_level!r})")
    if workers < 1:
        raise ConfigError(f"workers must be 1 or more (got {workers})")
    body_timeout = check_timeout("body_timeout", body_timeout)
    max_in_flight = check_max_in_flight("max_in_flight", max_in_flight)
    if not isinstance(head_timeout, int) or head_timeout < 1:
        raise ConfigError(
            f"head_timeout must be a whole number of seconds, 1 or more (got {head_timeout!r})"
        )
    # spec.env as Nuclio sets it, unless the caller's environment overrides it, then ours
    settings = {k: v for k, v in function_env(path, (SPEC_ENV,)).items() if k not in os.environ}
    token = _token(auth_token_file, settings)
    if token:
        settings[AUTH_TOKEN_ENV] = token
    elif not _is_loopback(host):
        sys.stderr.write(
            f"nuserve serve: warning: {host} is reachable from other machines and no auth "
            f"token is set; pass --auth-token-file FILE or set {AUTH_TOKEN_ENV}\n"
        )
    import uvicorn  # noqa: PLC0415 - `import nuserve` must not import a web server

    metrics_dir = tempfile.mkdtemp(prefix="nuserve-metrics-")
    settings |= {SPEC_PATH_ENV: str(path), METRICS_DIR_ENV: metrics_dir, LOG_LEVEL_ENV: log_level}
    settings[BODY_TIMEOUT_ENV] = repr(body_timeout)
    settings[MAX_IN_FLIGHT_ENV] = str(max_in_flight)
    settings[STRICT_CONTENT_TYPE_ENV] = "1" if strict_content_type else ""
    address = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    settings[ADDRESS_ENV] = address
    if grpc_port is not None:
        settings[GRPC_PORT_ENV] = str(check_port("grpc_port", grpc_port))
    grpc = check_port(
        GRPC_PORT_ENV, settings.get(GRPC_PORT_ENV) or os.environ.get(GRPC_PORT_ENV) or 0
    )
    if grpc:
        settings[GRPC_HOST_ENV] = host
        address += f" and grpc://{f'[{host}]' if ':' in host else host}:{grpc}"
    sys.stderr.write(
        f"nuserve serve: {address}, {workers} worker{'s' if workers > 1 else ''}, "
        f"loading models: {', '.join(model_keys(path)) or 'none'} (each worker says when "
        "it serves; Ctrl-C stops)\n"
    )
    failed = False
    try:
        with _environment(settings, drop=(SPEC_ENV,)), _sigterm_exits():
            try:
                uvicorn.run(
                    APP,
                    factory=True,
                    host=host,
                    port=port,
                    workers=workers,
                    http=_protocol(),
                    # the gRPC server runs in threads of its own, not on this loop
                    loop=best_available("uvloop", "asyncio"),
                    timeout_keep_alive=head_timeout,
                    h11_max_incomplete_event_size=MAX_HEAD_BYTES,
                    ws="none",
                    lifespan="on",
                    access_log=False,
                    proxy_headers=False,  # nothing reads X-Forwarded-*: 6k instructions a request
                    log_level=log_level,
                    timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
                )
            except SystemExit as exc:
                if exc.code != STARTUP_FAILURE:
                    raise
                failed = True
        _raise_startup_failure(metrics_dir, failed)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _protocol() -> Any:
    """The HTTP protocol: httptools with the head bounded; else uvicorn's h11, which bounds
    its size but not its time."""
    if best_available("httptools", "h11") == "h11":
        return "h11"
    from nuserve.serve.connection import HeadLimitedProtocol  # noqa: PLC0415 - imports uvicorn

    return HeadLimitedProtocol


def _token(token_file: str | None, settings: dict[str, str]) -> str | None:
    """The auth token: from ``token_file``, else the environment (checked), else ``None``."""
    if token_file is None:
        value = os.environ.get(AUTH_TOKEN_ENV) or settings.get(AUTH_TOKEN_ENV)
        return check_token(value, AUTH_TOKEN_ENV) if value else None
    file = Path(token_file)
    try:
        text = file.read_text(encoding="utf-8")
        mode = file.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the auth token file {token_file}: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        sys.stderr.write(
            f"nuserve serve: warning: the auth token file {token_file} can be read by other "
            f"users; chmod 600 {token_file}\n"
        )
    if not text.strip():
        raise ConfigError(f"the auth token file {token_file} is empty; write the token in it")
    return check_token(text, f"the file {token_file}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _raise_startup_failure(metrics_dir: str, failed: bool) -> None:
    """uvicorn stops when a worker cannot start; say why, rather than exit quietly."""
    reasons = sorted(Path(metrics_dir).glob(f"{FAILED_PREFIX}*.txt"))
    if reasons:
        raise ConfigError(reasons[0].read_text(encoding="utf-8", errors="replace"))
    if failed:
        raise ConfigError("the server did not start; uvicorn's log above says why")


@contextlib.contextmanager
def _environment(settings: dict[str, str], drop: Sequence[str]) -> Iterator[None]:
    """Set the workers' environment (they inherit it) and restore the caller's afterwards."""
    saved = {name: os.environ.get(name) for name in (*settings, *drop)}
    for name in drop:
        os.environ.pop(name, None)  # an inline spec would win over the file we were given
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


@contextlib.contextmanager
def _sigterm_exits() -> Iterator[None]:
    """SIGTERM ends ``run`` normally (exit 0, temp dir removed).

    uvicorn handles SIGTERM while it serves, then re-raises it once shut down; with the
    default handler that kills the process before ``run`` can clean up.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``run`` that limit who and what gets served (``nuserve serve`` too)."""
    parser.add_argument(
        "--auth-token-file",
        metavar="FILE",
        help=f"require `Authorization: Bearer <token>`, the token read from FILE "
        f"(or set {AUTH_TOKEN_ENV}; never pass a token on the command line)",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=BODY_TIMEOUT_S,
        metavar="S",
        help=f"seconds to receive a request body, else 408 (default {BODY_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--head-timeout",
        type=int,
        default=HEAD_TIMEOUT_S,
        metavar="S",
        help="seconds to receive a request head, and to keep an idle connection "
        f"(default {HEAD_TIMEOUT_S:g})",
    )

    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=MAX_IN_FLIGHT,
        metavar="N",
        help="requests a worker answers at once; more get 503 with Retry-After "
        f"(default {MAX_IN_FLIGHT}; 0: no limit)",
    )
    parser.add_argument(
        "--grpc-port",
        type=int,
        default=None,
        metavar="N",
        help=f"serve the OIP gRPC service (inference.GRPCInferenceService) on port N too "
        f"(or set {GRPC_PORT_ENV} in the function.yaml's env; default: HTTP only)",
    )
    parser.add_argument(
        "--strict-content-type",
        action="store_true",
        help="answer 415 to a body whose Content-Type is not JSON (default: any content "
        "type, the body read as JSON when it parses)",
    )


def limits(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of ``run`` that ``add_limit_arguments`` parsed."""
    return {
        "auth_token_file": args.auth_token_file,
        "body_timeout": args.body_timeout,
        "head_timeout": args.head_timeout,
        "max_in_flight": args.max_in_flight,
        "strict_content_type": args.strict_content_type,
        "grpc_port": args.grpc_port,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nuserve.serve.workers",
        description="serve a function.yaml locally",
        allow_abbrev=False,  # `--auth-token SECRET` is not `--auth-token-file SECRET`
    )
    parser.add_argument("function_yaml", help="the function.yaml to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="warning", choices=LOG_LEVELS)
    add_limit_arguments(parser)
    args = parser.parse_args(argv)
    try:
        run(args.function_yaml, args.host, args.port, args.workers, args.log_level, **limits(args))
    except ConfigError as exc:
        raise SystemExit(f"nuserve serve: {exc.message}") from None
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
