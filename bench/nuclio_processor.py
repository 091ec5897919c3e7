"""Nuclio's real processor against ``nuserve serve``, on the same generated function.yaml.

Opt-in (not in CI; it needs Nuclio's source, Go and the Go module proxy). Steps, each cached
under ``--cache`` (default ``~/.cache/nuserve/nuclio``):

1. Nuclio's source at ``--tag`` (default 1.14.1), cloned from ``--nuclio`` (a bare git dir
   such as ``fetch github:nuclio/nuclio`` gives, a checkout, or a URL);
2. ``go build ./cmd/processor`` (the Go module proxy serves the dependencies);
3. the iris example's deploy directory (``fn.build(dir)``: handler.py, code, model, the
   nuserve wheel) and a venv for the processor's Python: Nuclio's own pins
   (``requirements/python3_11.txt``: nuclio-sdk 0.5.13, msgpack), then the directory's
   generated build commands, ``/opt/nuclio`` being the directory;
4. a processor.yaml as Nuclio's local platform writes it (the function config, with the HTTP
   trigger on 127.0.0.1 and ``numWorkers``), a platform.yaml (web admin and health check
   off, logs at info), and the processor run with ``NUCLIO_PYTHON_WRAPPER_PATH`` pointing at
   Nuclio's ``_nuclio_wrapper.py`` from the same source tree.

Then: the exchange comparison (the same requests to both, status/content type/body compared,
differences printed) and req/s of both at 1 and 2 workers (``wrk`` when installed, else
``bench/loadgen.py``; the servers are not pinned, since 2 workers need 2 cores).

Run: ``python bench/nuclio_processor.py --nuclio /work/.mirror/nuclio+nuclio/repo``
     ``[--tag 1.14.1] [--seconds 5] [--concurrency 16] [--rounds 2] [--no-bench]``
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from http_bench import generator, load
from servers import HOST, INFER, ROOT, free_port, nuserve_command, start, stop, wait_for_200

import nuserve
from nuserve.nuclio.function_config import CODE_DIR, POST_COPY, read_function_yaml

DEFAULT_CACHE = Path.home() / ".cache" / "nuserve" / "nuclio"
WRAPPER = Path("pkg/processor/runtime/python/py/_nuclio_wrapper.py")
NUCLIO_PINS = Path("pkg/processor/runtime/python/py/requirements")
GOOD = b'{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'


# --------------------------------------------------------------------------- building


def run(command: list[str], cwd: Path | None = None, timeout: float = 1800, **kw: Any) -> None:
    print("$", " ".join(command), file=sys.stderr)
    subprocess.run(command, cwd=cwd, check=True, timeout=timeout, **kw)


def checkout(source: str, tag: str, cache: Path) -> Path:
    """Nuclio's source tree at ``tag`` (cloned once into the cache)."""
    tree = cache / f"src-{tag}"
    if not (tree / "go.mod").is_file():
        if tree.exists():
            shutil.rmtree(tree)
        run(["git", "clone", "--quiet", "--no-checkout", source, str(tree)])
        run(["git", "-c", "advice.detachedHead=false", "checkout", "--quiet", tag], cwd=tree)
    return tree


def build_processor(tree: Path, tag: str, cache: Path) -> Path:
    binary = cache / f"processor-{tag}"
    if not binary.is_file():
        run(["go", "build", "-o", str(binary), "./cmd/processor"], cwd=tree, timeout=3600)
    return binary


def deploy_directory(work: Path, batched: bool = False) -> Path:
    """The iris example's deploy directory, its model trained fresh into ``work``; with
    ``batched``, the model batches (``max_batch_size=16``), so the generated trigger is in
    Nuclio's batch mode."""
    model = work / "model"
    if not model.exists():
        train = [sys.executable, str(ROOT / "examples/iris/train.py"), str(model)]
        run(train, cwd=ROOT, capture_output=True)
    fn = nuserve.code_to_function(
        "iris", filename=str(ROOT / "examples/iris/iris_model.py"), kind="serving",
        requirements=["scikit-learn>=1.4,<2"],
    )  # fmt: skip
    fn.set_topology("router")
    batching = {"max_batch_size": 16, "max_batch_time_ms": 2} if batched else {}
    fn.add_model("iris", class_name="IrisClassifier", model_path=str(model), **batching)
    return Path(fn.build(work / ("iris-batched" if batched else "iris")).directory)


def processor_venv(tree: Path, cache: Path, directory: Path) -> Path:
    """A venv with Nuclio's Python pins, then the deploy directory's build commands."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    env_dir = cache / f"venv-py{python}"
    pins = tree / NUCLIO_PINS / f"python{python.replace('.', '_')}.txt"
    if not (env_dir / "bin" / "python").is_file():
        run([sys.executable, "-m", "venv", str(env_dir)])
        run([str(env_dir / "bin/pip"), "install", "-q", "-r", str(pins)], cwd=pins.parent)
    env = {**os.environ, "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("VIRTUAL_ENV", None)
    run([str(env_dir / "bin/pip"), "uninstall", "-q", "-y", "nuserve"], env=env)
    commands = yaml.safe_load((directory / "function.yaml").read_text())["spec"]["build"]
    for command in commands["commands"]:
        if command != POST_COPY:
            run(["bash", "-c", command.replace(CODE_DIR, str(directory))], env=env)
    return env_dir


def processor_files(
    directory: Path, work: Path, port: int, workers: int, handler: str | None = None
) -> tuple[Path, Path]:
    """processor.yaml (the function config as the local platform hands it to the processor;
    ``handler`` in place of the generated one) and platform.yaml."""
    config = yaml.safe_load((directory / "function.yaml").read_text())
    if handler is not None:
        config["spec"]["handler"] = handler
    config["metadata"]["namespace"] = "nuclio"
    for entry in config["spec"]["env"]:
        entry["value"] = str(entry["value"]).replace(CODE_DIR, str(directory))
    trigger = config["spec"]["triggers"]["http"]
    trigger["numWorkers"] = workers
    trigger["url"] = f"{HOST}:{port}"
    processor = work / f"processor-{directory.name}-{workers}-{handler or 'generated'}.yaml"
    processor.write_text(yaml.safe_dump(config, sort_keys=False))
    binding = [{"level": "info", "sink": "stdout"}]
    platform = {
        "webAdmin": {"enabled": False},
        "healthCheck": {"enabled": False},
        "logger": {
            "sinks": {"stdout": {"kind": "stdout"}},
            "system": binding,
            "functions": binding,
        },
    }
    platform_file = work / "platform.yaml"
    platform_file.write_text(yaml.safe_dump(platform))
    return processor, platform_file


# --------------------------------------------------------------------------- running


@contextlib.contextmanager
def real_processor(
    binary: Path, tree: Path, env_dir: Path, directory: Path, work: Path, workers: int,
    handler: str | None = None,
) -> Iterator[int]:  # fmt: skip
    port = free_port()
    config, platform = processor_files(directory, work, port, workers, handler)
    function_env = {  # the local platform hands spec.env to the container, not to the processor
        e["name"]: e["value"] for e in yaml.safe_load(config.read_text())["spec"]["env"]
    }
    env = {
        **os.environ,
        **function_env,
        "NUCLIO_PYTHON_WRAPPER_PATH": str(tree / WRAPPER),
        "NUCLIO_PYTHON_EXE_PATH": str(env_dir / "bin" / "python"),
        "NUCLIO_PYTHON_PATH": str(directory),
    }
    env.pop("VIRTUAL_ENV", None)
    log = work / f"processor-{directory.name}-{workers}-{handler or 'generated'}.log"
    command = [str(binary), "--config", str(config), "--platform-config", str(platform)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=directory, stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip
    try:
        _ready(port, process, log)
        yield port
    finally:
        stop(process)


@contextlib.contextmanager
def nuserve_serve(directory: Path, work: Path, workers: int) -> Iterator[int]:
    port = free_port()
    command = [*nuserve_command(directory / "function.yaml")[:-1], str(workers)]
    log = work / f"nuserve-{directory.name}-{workers}.log"
    process = start([*command, "--port", str(port)], log)
    try:
        _ready(port, process, log)
        yield port
    finally:
        stop(process)


def _ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    try:
        wait_for_200(port, process, 120)
    except (RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"{exc}\n{log.read_text(errors='replace')[-3000:]}") from None


# --------------------------------------------------------------------------- exchanges


def exchanges(limit: int, nuserve_limit: int) -> list[tuple[str, str, bytes, dict[str, str]]]:
    """(label, path, body, headers): every case with a fixed X-Request-Id but the last three.

    Two bodies too large: one over nuserve's ``max_body_size`` but within the trigger's
    ``maxRequestBodySize`` (nuserve answers both: the same 413), one over the trigger's (Nuclio
    answers it itself, as deploy/README.md says)."""
    rid = {"X-Request-Id": "fixed-id"}
    return [
        ("good", INFER, GOOD, rid),
        ("malformed JSON", INFER, b'{"inputs": [[1, 2', rid),
        ("NaN", INFER, b'{"inputs": [[NaN, 1, 2, 3]]}', rid),
        ("Infinity", INFER, b'{"inputs": [[Infinity, 1, 2, 3]]}', rid),
        ("1e400", INFER, b'{"inputs": [[1e400, 1, 2, 3]]}', rid),
        ("unknown model", "/v2/models/nope/infer", GOOD, rid),
        ("body over max_body_size", INFER, b" " * (nuserve_limit + 1), rid),
        ("body over the trigger's limit", INFER, b" " * (limit + 1), rid),
        ("no X-Request-Id #1", INFER, GOOD, {}),
        ("no X-Request-Id #2", INFER, GOOD, {}),
        ("no X-Request-Id #3", INFER, GOOD, {}),
    ]


def exchange(port: int, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """One request on its own connection; an answer sent before the whole body was taken (a
    server refusing a body over its limit) is still read."""
    head = {"Host": f"{HOST}:{port}", "Content-Type": "application/json",
            "Content-Length": str(len(body)), "Connection": "close", **headers}  # fmt: skip
    raw = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items())
    sock = socket.create_connection((HOST, port), timeout=30)
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(raw.encode() + b"\r\n" + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return {"status": None, "content_type": None, "body": f"{type(exc).__name__}: {exc}"}
    finally:
        sock.close()
    text = data.decode("utf-8", "replace")
    with contextlib.suppress(ValueError):
        parsed = json.loads(text)
        if isinstance(parsed, dict):
            parsed.pop("timestamp", None)  # differs by the clock alone
        text = json.dumps(parsed, sort_keys=True)
    return {
        "status": response.status,
        "content_type": response.getheader("Content-Type"),
        "body": text,
    }


def compare_exchanges(
    ports: dict[str, int], limit: int, nuserve_limit: int
) -> list[dict[str, Any]]:
    rows = []
    for label, path, body, headers in exchanges(limit, nuserve_limit):
        answers = {name: exchange(port, path, body, headers) for name, port in ports.items()}
        first, second = answers.values()
        same = {k: first[k] == second[k] for k in ("status", "content_type", "body")}
        rows.append({"exchange": label, "same": same, **answers})
    return rows


def print_exchanges(rows: list[dict[str, Any]]) -> None:
    print("\n== exchanges (status, content type, body; the body's timestamp left out)")
    for row in rows:
        verdict = (
            "same"
            if all(row["same"].values())
            else "DIFFERS in " + ", ".join(k for k, v in row["same"].items() if not v)
        )
        print(f"- {row['exchange']}: {verdict}")
        if not all(row["same"].values()):
            for name in ("nuclio", "nuserve"):
                answer = row[name]
                print(
                    f"    {name:8} {answer['status']} {answer['content_type']} "
                    f"{answer['body'][:200]}"
                )
    ids = {
        name: [
            json.loads(r[name]["body"]).get("id") for r in rows if r["exchange"].startswith("no X")
        ]
        for name in ("nuclio", "nuserve")
    }
    print(f"- ids of the three answers without X-Request-Id: {ids}")


# --------------------------------------------------------------------------- async graphs

ASYNC_STEP = """import asyncio


async def double(body):
    await asyncio.sleep(0)
    return {"doubled": [x * 2 for x in body["inputs"]]}
"""


def async_flow_directory(work: Path) -> Path:
    """A deploy directory whose graph is async: a flow (MLRun's default engine) of one async
    step; the generated function.yaml names ``handler:handler_async``."""
    code = work / "aflow.py"
    code.write_text(ASYNC_STEP)
    fn = nuserve.code_to_function("aflow", filename=str(code), kind="serving")
    fn.set_topology("flow").to(name="double", handler="double").respond()
    return Path(fn.build(work / "aflow").directory)


def async_check(binary: Path, tree: Path, env_dir: Path, work: Path) -> list[dict[str, Any]]:
    """The async flow under the real processor through both handlers: the generated one and
    the sync ``handler:handler`` (which Nuclio's wrapper also calls from its own loop)."""
    directory = async_flow_directory(work)
    generated = yaml.safe_load((directory / "function.yaml").read_text())["spec"]["handler"]
    print(f"\n== async flow under the real processor (generated handler: {generated})")
    rows = []
    for handler in (None, "handler:handler"):
        with real_processor(binary, tree, env_dir, directory, work, 1, handler) as port:
            answer = exchange(port, "/", b'{"inputs": [1, 2, 3]}', {"X-Request-Id": "a"})
        rows.append({"handler": handler or generated, **answer})
        print(f"- {handler or generated}: {answer['status']} {answer['body'][:200]}")
    return rows


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    default_src = "/work/.mirror/nuclio+nuclio/repo"
    parser.add_argument("--nuclio", default=default_src, help="git dir, checkout or URL of Nuclio")
    parser.add_argument("--tag", default="1.14.1")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-bench", action="store_true", help="the exchange comparison only")
    parser.add_argument(
        "--batched", action="store_true",
        help="also measure iris with max_batch_size=16 (the trigger in Nuclio's batch mode)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    tree = checkout(args.nuclio, args.tag, args.cache)
    binary = build_processor(tree, args.tag, args.cache)
    with tempfile.TemporaryDirectory(prefix="nuclio-bench-") as tmp:
        work = Path(tmp)
        directory = deploy_directory(work)
        env_dir = processor_venv(tree, args.cache, directory)
        limit = yaml.safe_load((directory / "function.yaml").read_text())["spec"]["triggers"][
            "http"
        ]["attributes"]["maxRequestBodySize"]
        nuserve_limit = read_function_yaml(directory / "function.yaml")[1].max_body_size
        with (
            real_processor(binary, tree, env_dir, directory, work, 1) as nuclio_port,
            nuserve_serve(directory, work, 1) as nuserve_port,
        ):
            ports = {"nuclio": nuclio_port, "nuserve": nuserve_port}
            rows = compare_exchanges(ports, limit, nuserve_limit)
        print_exchanges(rows)
        results: dict[str, Any] = {"exchanges": rows, "throughput": []}
        results["async"] = async_check(binary, tree, env_dir, work)
        if not args.no_bench:
            variants = [directory] + (
                [deploy_directory(work, batched=True)] if args.batched else []
            )
            for variant in variants:
                results["throughput"] += throughput(args, binary, tree, env_dir, variant, work)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def throughput(
    args: argparse.Namespace, binary: Path, tree: Path, env_dir: Path, directory: Path, work: Path
) -> list[dict[str, Any]]:
    wrk = generator()
    batch = yaml.safe_load((directory / "function.yaml").read_text())["spec"]["triggers"]
    print(
        f"\n== {directory.name} (http trigger batch: {batch['http'].get('batch')}): "
        f"req/s, POST {INFER}, {args.concurrency} connections, {args.seconds} s x "
        f"{args.rounds} rounds, load generator {'wrk' if wrk else 'loadgen.py'}"
    )
    points = []
    for workers in args.workers:
        runs: dict[str, list[float]] = {"nuclio": [], "nuserve": []}
        p99: dict[str, list[float]] = {"nuclio": [], "nuserve": []}
        errors = {"nuclio": 0, "nuserve": 0}
        with (
            real_processor(binary, tree, env_dir, directory, work, workers) as nuclio_port,
            nuserve_serve(directory, work, workers) as nuserve_port,
        ):
            ports = {"nuclio": nuclio_port, "nuserve": nuserve_port}
            for round_ in range(args.rounds):
                order = list(ports) if round_ % 2 == 0 else list(reversed(ports))
                for name in order:
                    result = load(ports[name], args.concurrency, args.seconds, None, wrk)
                    runs[name].append(result["rps"])
                    p99[name].append(result["p99_ms"])
                    errors[name] += result["errors"] + result["non2xx"]
        row: dict[str, Any] = {"function": directory.name, "workers": workers}
        for name in ports:
            row[name] = {
                "rps": statistics.median(runs[name]), "runs": runs[name],
                "p99_ms": statistics.median(p99[name]), "errors": errors[name],
            }  # fmt: skip
        points.append(row)
    print(
        "| workers | real Nuclio processor req/s (p99 ms) | nuserve serve req/s (p99 ms) | ratio |"
    )
    print("|---:|---:|---:|---:|")
    for row in points:
        nuc, nus = row["nuclio"], row["nuserve"]
        print(
            f"| {row['workers']} | {nuc['rps']:,.0f} ({nuc['p99_ms']:.1f}) | "
            f"{nus['rps']:,.0f} ({nus['p99_ms']:.1f}) | {nuc['rps'] / nus['rps']:.2f}x |"
        )
    return points


if __name__ == "__main__":
    main()
