"""The ``nuserve`` command: serve, invoke, build, deploy, graph, openapi, monitor, version."""

from __future__ import annotations

import argparse
import http.client
import os
import runpy
import sys
import time
import urllib.parse
from pathlib import Path
from types import FunctionType
from typing import TYPE_CHECKING, Any

import orjson

from nuserve.cli.hub import add_hub_parser
from nuserve.errors import ConfigError, NuserveError
from nuserve.serve.workers import add_limit_arguments
from nuserve.version import __version__

if TYPE_CHECKING:  # the function builder loads only for the commands that build one
    from nuserve.function.serving_function import ServingFunction

DESCRIPTION = """\
nuserve: serve ML models with the Nuclio handler, locally or on Nuclio.

  nuserve serve function.yaml --port 8080 --workers 2
  nuserve invoke http://127.0.0.1:8080 /v2/models/iris/infer --body '{"inputs": [[5, 3, 1, 0]]}'
  nuserve invoke function.yaml /v2/models/iris/infer --body @request.json
  nuserve build examples/iris/function.py -o function.yaml
  nuserve build examples/iris/function.py --dir build/iris --with-deps
  nuserve deploy function.yaml --dry-run
  nuserve graph function.yaml -o graph.html
  nuserve openapi function.yaml -o openapi.json
  nuserve hub list
  nuserve hub show sklearn-classifier

Errors are one line on stderr and exit code 1 (2 for a bad command line);
NUSERVE_TRACEBACK=1 prints the traceback too.
"""
BUILD_MODULE = "nuserve_build"
"""The name a Python file given to ``build`` or ``deploy`` runs under (not ``__main__``, so
its main block does not run)."""
TRACEBACK_ENV = "NUSERVE_TRACEBACK"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["monitor"]:
        return _monitor(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        result: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - a command ends with one line, not a traceback
        return _failed(args.command, exc)
    return result


def _failed(command: str, exc: BaseException) -> int:
    """Print why ``command`` failed as one line (nuserve's own errors say how to fix them;
    others are named by their type); exit code 1."""
    if os.environ.get(TRACEBACK_ENV) == "1":
        import traceback  # noqa: PLC0415

        traceback.print_exception(exc, file=sys.stderr)
    text = str(exc) if isinstance(exc, NuserveError) else f"{type(exc).__name__}: {exc}"
    line = " ".join(text.split()) or type(exc).__name__
    hint = "" if isinstance(exc, NuserveError) else f" ({TRACEBACK_ENV}=1 shows the traceback)"
    print(f"nuserve {command}: {line}{hint}", file=sys.stderr)
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nuserve", description=DESCRIPTION, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"nuserve {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    # no abbreviations: `--auth-token SECRET` must not be read as `--auth-token-file SECRET`
    serve = sub.add_parser(
        "serve",
        help="serve a function.yaml over HTTP (and its Kafka triggers)",
        allow_abbrev=False,
    )
    serve.add_argument("file", help="the function.yaml to serve")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to bind (default 8080)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--log-level", default="warning", help="uvicorn log level")
    add_limit_arguments(serve)
    serve.set_defaults(run=_serve)

    invoke = sub.add_parser("invoke", help="send one request to a URL or to a function.yaml")
    invoke.add_argument("target", help="a base URL (http://host:port) or a function.yaml")
    invoke.add_argument("path", nargs="?", default="/", help="request path (default /)")
    invoke.add_argument("--body", help="JSON text, or @file to read it from a file")
    invoke.add_argument("--method", default="", help="HTTP method (default POST with a body)")
    invoke.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="S",
        help="retry for up to S seconds while the server is not up yet, or not ready (503)",
    )
    invoke.set_defaults(run=_invoke)

    build = sub.add_parser(
        "build", help="write function.yaml (or a whole deploy directory) from a Python file"
    )
    build.add_argument("file", help="a Python file that creates a ServingFunction")
    build.add_argument("-o", "--output", default="function.yaml", help="where to write it")
    _add_directory_arguments(build)
    build.set_defaults(run=_build)

    graph = sub.add_parser("graph", help="draw a function's graph (Mermaid text, or a file)")
    graph.add_argument("file", help="a function.yaml (or a JSON serving spec)")
    graph.add_argument("-o", "--output", help="write .svg, .html, .dot or .mmd instead")
    graph.set_defaults(run=_graph)

    add_hub_parser(sub)

    openapi = sub.add_parser("openapi", help="write the OpenAPI document of a function")
    openapi.add_argument("file", help="a function.yaml (or a JSON serving spec)")
    openapi.add_argument("-o", "--output", help="write it to this file (default: stdout)")
    openapi.add_argument(
        "--load", action="store_true", help="load the models first, for their input widths"
    )
    openapi.add_argument(
        "--nuclio", action="store_true", help="leave out what only `nuserve serve` answers"
    )
    openapi.set_defaults(run=_openapi)

    deploy = sub.add_parser("deploy", help="deploy with nuctl (function.yaml or Python file)")
    deploy.add_argument("file", help="function.yaml, or a Python file defining the function")
    deploy.add_argument("--platform", help="nuctl platform (local or kube)")
    deploy.add_argument("--dry-run", action="store_true", help="print the command and YAML only")
    deploy.add_argument("--nuctl", default="nuctl", help="the nuctl executable (default: on PATH)")
    deploy.add_argument("--registry", help="container registry for the image (nuctl --registry)")
    deploy.add_argument("--namespace", help="Kubernetes namespace (nuctl --namespace)")
    deploy.add_argument(
        "--nuclio-version",
        help="the Nuclio the function goes to (default: what `nuctl version` says), for the "
        "kafka offset-commit warnings",
    )
    deploy.add_argument(
        "--project-dir",
        default=".",
        help="the directory copied into the image as the function's code (default: .)",
    )
    deploy.add_argument(
        "--timeout", type=float, metavar="S", help="seconds to wait for nuctl (default: no limit)"
    )
    _add_build_dir_arguments(deploy)
    deploy.set_defaults(run=_deploy)

    monitor = sub.add_parser(
        "monitor",
        help="model monitoring from the tracking stream: drift, latency, errors, alerts",
        add_help=False,  # `nuserve monitor --help` is answered by the monitor's own parser
    )
    monitor.set_defaults(run=lambda _: _monitor([]))

    version = sub.add_parser("version", help="print the nuserve version")
    version.set_defaults(run=lambda _: print(f"nuserve {__version__}") or 0)
    return parser


def _add_directory_arguments(build: argparse.ArgumentParser) -> None:
    build.add_argument(
        "--dir",
        metavar="DIR",
        help="write a deploy directory instead: function.yaml, handler.py, code, models and "
        "a nuserve wheel (nuctl deploy --path DIR builds with no nuserve on any index)",
    )
    build.add_argument(
        "--archive", action="store_true", help="with --dir: also write DIR.tar.gz of it"
    )
    _add_bundle_arguments(build)


def _add_build_dir_arguments(deploy: argparse.ArgumentParser) -> None:
    deploy.add_argument(
        "--build-dir",
        metavar="DIR",
        help="deploy the deploy directory written there (as `nuserve build --dir`) instead of "
        "--project-dir as it is; its build needs no nuserve on any index",
    )
    _add_bundle_arguments(deploy)


def _add_bundle_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--with-deps",
        action="store_true",
        help="with --dir/--build-dir: add every dependency's wheel (pip download) and install "
        "with --no-index, so the build needs no index at all",
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="PATH",
        help="with --dir/--build-dir: copy this file or directory too (repeatable)",
    )
    parser.add_argument(
        "--arch",
        default="x86_64",
        help="with --with-deps: the image's CPU (x86_64 or aarch64; default x86_64)",
    )
    parser.add_argument(
        "--wheel-cache",
        metavar="DIR",
        help="with --with-deps: keep the dependency wheels here between builds",
    )


def _serve(args: argparse.Namespace) -> int:
    from nuserve.serve.workers import limits, run  # noqa: PLC0415 - uvicorn only when serving

    run(args.file, args.host, args.port, args.workers, args.log_level, **limits(args))
    return 0


def _monitor(argv: list[str]) -> int:
    """Parsed by the monitor's own parser, so other commands never import monitoring."""
    from nuserve.cli.monitor import run  # noqa: PLC0415

    args = monitor_parser().parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback
        return _failed("monitor", exc)


def monitor_parser() -> argparse.ArgumentParser:
    """The parser of ``nuserve monitor`` (its own, so other commands never import
    monitoring; the documentation's CLI reference reads it too)."""
    from nuserve.cli.monitor import add_arguments  # noqa: PLC0415

    parser = argparse.ArgumentParser(
        prog="nuserve monitor", description="model monitoring from the tracking stream"
    )
    add_arguments(parser)
    return parser


def parser() -> argparse.ArgumentParser:
    """The ``nuserve`` command's parser (``monitor`` is a stub: see ``monitor_parser``)."""
    return _parser()


def _read_body(text: str | None) -> bytes | None:
    if text is None:
        return None
    if text.startswith("@"):
        return Path(text[1:]).read_bytes()
    return text.encode()


def _invoke(args: argparse.Namespace) -> int:
    body = _read_body(args.body)
    method = args.method or ("POST" if body is not None else "GET")
    if args.target.startswith(("http://", "https://")):
        status, data = _invoke_waiting(args.target, args.path, method, body, args.wait)
    else:
        status, data = _invoke_local(Path(args.target), args.path, method, body)
    print(data.decode("utf-8", "replace"))
    return 0 if status < 400 else 1


def _invoke_waiting(
    base: str, path: str, method: str, body: bytes | None, wait: float
) -> tuple[int, bytes]:
    """``_invoke_url``, retried every 0.2 s for ``wait`` seconds while the server refuses
    connections or answers 503 (its models are loading)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            status, data = _invoke_url(base, path, method, body)
        except ConnectionError:
            if time.monotonic() >= deadline:
                raise
        else:
            if status != 503 or time.monotonic() >= deadline:
                return status, data
        time.sleep(0.2)


def _invoke_url(base: str, path: str, method: str, body: bytes | None) -> tuple[int, bytes]:
    url = urllib.parse.urlsplit(base)
    conn_class = (
        http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_class(url.hostname or "127.0.0.1", url.port, timeout=30)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    try:
        conn.request(method, url.path.rstrip("/") + path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _invoke_local(file: Path, path: str, method: str, body: bytes | None) -> tuple[int, bytes]:
    from nuserve.codec import encode_response  # noqa: PLC0415
    from nuserve.event import Event  # noqa: PLC0415
    from nuserve.nuclio.spec_env import spec_from_file  # noqa: PLC0415
    from nuserve.server.graph_server import GraphServer  # noqa: PLC0415

    server = GraphServer(spec_from_file(file), code_dirs=[Path.cwd(), file.parent]).start()
    event = Event(body, path, method, content_type="application/json")
    status, data, _ = encode_response(server.run(event), event.id)
    return status, data


def load_function(file: str) -> ServingFunction:
    """The ServingFunction a Python file defines (its ``fn``, or the only one it creates)."""
    path = Path(file)
    if path.suffix in (".yaml", ".yml"):
        from nuserve.function.serving_function import function_from_yaml  # noqa: PLC0415

        return function_from_yaml(path)
    if not path.is_file():
        raise ConfigError(f"{file} not found; pass the Python file that defines the function")
    if path.suffix != ".py":
        raise ConfigError(
            f"{file} is not a Python file; pass the .py file that creates the function "
            "(fn = nuserve.new_function(...)), or a function.yaml"
        )
    from nuserve.function.serving_function import ServingFunction  # noqa: PLC0415

    namespace: dict[str, Any] = runpy.run_path(str(path), run_name=BUILD_MODULE)
    found = [v for v in namespace.values() if isinstance(v, ServingFunction)]
    if isinstance(namespace.get("fn"), ServingFunction):
        fn: ServingFunction = namespace["fn"]
    elif len(found) == 1:
        fn = found[0]
    else:
        raise ConfigError(
            f"{file} defines {len(found)} serving functions; name the one to build `fn`"
        )
    if fn.spec.filename is None and _defines_code(namespace):
        # its classes (or flow functions) live in this file: the function carries it, and
        # the server imports it, as code_to_function(filename=...) would have it
        fn.spec.filename = str(path)
    return fn


def _defines_code(namespace: dict[str, Any]) -> bool:
    """Whether the file that ran into ``namespace`` defines a class or a function."""
    return any(
        isinstance(value, type | FunctionType) and value.__module__ == BUILD_MODULE
        for value in namespace.values()
    )


def _build(args: argparse.Namespace) -> int:
    fn = load_function(args.file)
    if args.dir is not None:
        bundle = fn.build(
            args.dir, args.with_deps, args.include, arch=args.arch,
            wheel_cache=args.wheel_cache, archive=args.archive,
        )  # fmt: skip
        source = "every package" if bundle.offline else "nuserve"
        print(
            f"wrote {bundle.directory} for function {fn.name!r}: {len(bundle.copied)} copied, "
            f"{len(bundle.wheels)} wheels ({source} installed from {bundle.directory}/wheels)"
        )
        if bundle.archive:
            print(f"  and {bundle.archive} (nuctl deploy --path takes it as well)")
        for path in bundle.kept_paths:
            print(f"  model path {path} kept as it is (not a local file here)")
        deploy = f"nuctl deploy {fn.metadata_name} --path {args.dir} --file {bundle.yaml_path}"
        print(f"deploy: {deploy}")
        return 0
    fn.to_yaml(args.output)
    carries = f", code file {fn.spec.filename}" if fn.spec.filename else ""
    print(f"wrote {args.output} for function {fn.name!r}{carries}")
    return 0


def _graph(args: argparse.Namespace) -> int:
    from nuserve.cli.graph import graph_command  # noqa: PLC0415 - drawing only here

    print(graph_command(args.file, args.output), end="" if args.output is None else "\n")
    return 0


def _openapi(args: argparse.Namespace) -> int:
    """The document ``GET /openapi.json`` answers, built the way ``nuserve serve`` builds the
    graph; models are not loaded unless ``--load`` says so (only their widths need it)."""
    from nuserve.nuclio.spec_env import spec_from_file  # noqa: PLC0415
    from nuserve.openapi import build_document  # noqa: PLC0415
    from nuserve.server.graph_server import GraphServer  # noqa: PLC0415

    file = Path(args.file)
    server = GraphServer(spec_from_file(file), code_dirs=[Path.cwd(), file.parent])
    try:
        if args.load:
            server.start()
        else:
            server.root.freeze()
        document = build_document(server, serve_paths=not args.nuclio)
    finally:
        server.close()
    text = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"
    if args.output is None:
        print(text, end="")
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output} ({len(document['paths'])} paths)")
    return 0


def _deploy(args: argparse.Namespace) -> int:
    if args.build_dir is not None:
        from nuserve.nuclio.deploy import deploy_function  # noqa: PLC0415

        fn = load_function(args.file)
        result = deploy_function(
            fn, timeout=args.timeout, build_dir=args.build_dir, with_deps=args.with_deps,
            include=args.include, wheel_cache=args.wheel_cache, **_deploy_options(args),
        )  # fmt: skip
    elif Path(args.file).suffix in (".yaml", ".yml"):
        from nuserve.nuclio.deploy import deploy_file  # noqa: PLC0415

        result = deploy_file(args.file, timeout=args.timeout, **_deploy_options(args))
    else:
        from nuserve.nuclio.deploy import deploy_function  # noqa: PLC0415

        fn = load_function(args.file)
        result = deploy_function(fn, timeout=args.timeout, **_deploy_options(args))
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(orjson.dumps(result, default=vars, option=orjson.OPT_INDENT_2).decode())
    return 0


def _deploy_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options ``deploy`` shares with ``ServingFunction.deploy``."""
    return {
        "dry_run": args.dry_run,
        "platform": args.platform,
        "project_dir": args.project_dir,
        "nuctl": args.nuctl,
        "registry": args.registry,
        "namespace": args.namespace,
        "nuclio_version": args.nuclio_version,
    }


if __name__ == "__main__":
    sys.exit(main())
