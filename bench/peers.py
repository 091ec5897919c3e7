"""nuserve beside its peers, one run: the bare ASGI floor, KServe 0.21 and MLServer 1.7, iris.

Every server loads the same ``model.pkl`` (scikit-learn, trained by ``examples/iris/train.py``)
and answers each request with ``predict`` on its rows, through its own usual JSON path:

- ``floor``: ``bench/bare_asgi.py`` (uvicorn + httptools + uvloop, orjson, no framework);
- ``nuserve``: ``nuserve serve function.yaml --workers 1``, ``POST /v2/models/iris/infer``,
  MLRun rows ``{"inputs": [[...], ...]}``;
- ``kserve``: KServe 0.21's ``ModelServer`` (one worker), V1 ``POST /v1/models/iris:predict``,
  ``{"instances": [[...], ...]}`` (``bench/peer_servers/kserve_iris.py``);
- ``mlserver``: MLServer 1.7 (``parallel_workers`` 0: inference in its one process), OIP
  ``POST /v2/models/iris/infer`` with one ``[n, 4]`` FP64 tensor
  (``bench/peer_servers/mlserver_iris.py``).

KServe and MLServer run from their own venvs under ``~/.cache/nuserve`` (made on first use
by ``tests/clients/venvs.py``: the pinned versions plus this venv's scikit-learn and
cloudpickle). Each server is pinned to one core, the load generator (wrk, else
``bench/loadgen.py``) to the other; at every point (1 and 1,000 rows, c = 1, 16, 64) the
servers are loaded in turn, the order flipping from point to point, ``--seconds`` each
after a 1 s warm-up.

Run: ``python bench/peers.py [--seconds 3] [--rounds 1]`` (about 3 minutes with the defaults,
plus the venvs' first install).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from http_bench import generator, load  # noqa: E402
from servers import (  # noqa: E402
    HOST,
    bare_command,
    cores,
    free_port,
    nuserve_command,
    prepare_iris,
    started,
)

from tests.clients.venvs import python_of  # noqa: E402

ROW = [5.1, 3.5, 1.4, 0.2]
CONCURRENCY = (1, 16, 64)
ROWS = (1, 1000)
PEERS = ROOT / "bench" / "peer_servers"


@dataclass(frozen=True)
class Server:
    name: str
    command: list[str]
    path: str
    bodies: dict[int, bytes]
    """Rows → the request body."""

    def answer(self, body: bytes) -> list[Any]:
        """The predictions in the server's answer (to check they agree)."""
        value = orjson.loads(body)
        if "predictions" in value:
            return list(value["predictions"])
        outputs = value["outputs"]
        if outputs and isinstance(outputs[0], dict):  # OIP: a tensor
            return list(outputs[0]["data"])
        return list(outputs)


def rows_body(n: int) -> bytes:
    return orjson.dumps({"inputs": [ROW] * n})


def servers(model_dir: Path, function_yaml: Path, work: Path) -> list[Server]:
    rows = {n: rows_body(n) for n in ROWS}
    kserve_python = python_of("kserve-0.21-iris")
    mlserver_python = python_of("mlserver-1.7-iris")
    oip = {
        n: orjson.dumps(
            {"inputs": [{"name": "input-0", "shape": [n, 4], "datatype": "FP64", "data": ROW * n}]}
        )
        for n in ROWS
    }
    kserve = {n: orjson.dumps({"instances": [ROW] * n}) for n in ROWS}
    infer = "/v2/models/iris/infer"
    return [
        Server("floor", bare_command(model_dir), infer, rows),
        Server("nuserve", nuserve_command(function_yaml), infer, rows),
        Server(
            "kserve 0.21",
            [
                str(kserve_python),
                str(PEERS / "kserve_iris.py"),
                "--model",
                str(model_dir),
                "--grpc-port",
                str(free_port()),
            ],
            "/v1/models/iris:predict",
            kserve,
        ),
        Server(
            "mlserver 1.7",
            [
                str(mlserver_python),
                str(PEERS / "mlserver_iris.py"),
                "--model",
                str(model_dir),
                "--work",
                str(work / "mlserver"),
                "--grpc-port",
                str(free_port()),
            ],
            infer,
            oip,
        ),
    ]


def check(server: Server, port: int) -> list[Any]:
    """One request of each size; its predictions (raises on a non-200)."""
    found = []
    for n in ROWS:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            headers = {"Content-Type": "application/json"}
            conn.request("POST", server.path, body=server.bodies[n], headers=headers)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise RuntimeError(f"{server.name}: {response.status} {body[:300]!r}")
        predictions = server.answer(body)
        if len(predictions) != n:
            raise RuntimeError(f"{server.name}: {len(predictions)} predictions for {n} rows")
        found.append(predictions[0])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3, help="seconds per point (default 3)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds per point (default 1)")
    args = parser.parse_args()
    wrk = generator()
    server_core, load_core = cores()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nuserve-peers-") as tmp:
        work = Path(tmp)
        iris = prepare_iris(work)
        chosen = servers(iris.model_dir, iris.plain_yaml, work)
        ports: dict[str, int] = {}
        with contextlib.ExitStack() as stack:
            for server in chosen:
                ports[server.name] = stack.enter_context(
                    started(
                        server.command,
                        work / f"{server.name.split()[0]}.log",
                        server_core,
                        timeout=120,
                        path=server.path,
                        body=server.bodies[1],
                    )
                )
            answers = {server.name: check(server, ports[server.name]) for server in chosen}
            if len({str(a) for a in answers.values()}) != 1:
                raise RuntimeError(f"the servers disagree: {answers}")
            results: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
            flip = False
            for n in ROWS:
                for concurrency in CONCURRENCY:
                    for server in chosen:  # warm-up at this size and concurrency
                        port = ports[server.name]
                        load(port, concurrency, 1, load_core, wrk, server.path, server.bodies[n])
                    for _ in range(args.rounds):
                        order = chosen[::-1] if flip else chosen
                        flip = not flip
                        for server in order:
                            run = load(
                                ports[server.name],
                                concurrency,
                                args.seconds,
                                load_core,
                                wrk,
                                server.path,
                                server.bodies[n],
                            )
                            results.setdefault((server.name, n, concurrency), []).append(run)
    took = time.perf_counter() - began
    print(report(results, [s.name for s in chosen], wrk, args, took))


def report(
    results: dict[tuple[str, int, int], list[dict[str, Any]]],
    names: list[str],
    wrk: str | None,
    args: argparse.Namespace,
    took: float,
) -> str:
    lines = [
        f"load generator: {wrk or 'bench/loadgen.py'}; {args.rounds} round(s) of "
        f"{args.seconds} s a point; load {os.getloadavg()[0]:.2f}; {took:.0f} s in all",
        f"{'server':<14}{'rows':>6}{'conc':>6}{'req/s':>9}{'x floor':>9}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'failed':>8}",
    ]

    def rps(name: str, n: int, c: int) -> float:
        return statistics.median(r["rps"] for r in results[(name, n, c)])

    for n in ROWS:
        for c in CONCURRENCY:
            floor = rps("floor", n, c)
            for name in names:
                runs = results[(name, n, c)]
                value = rps(name, n, c)
                p50 = statistics.median(r["p50_ms"] for r in runs)
                p99 = statistics.median(r["p99_ms"] for r in runs)
                failed = sum(r["errors"] + r["non2xx"] for r in runs)
                lines.append(
                    f"{name:<14}{n:>6}{c:>6}{value:>9.0f}{value / floor:>9.2f}{p50:>9.2f}"
                    f"{p99:>9.2f}{failed:>8}"
                )
    lines.append("")
    for n in ROWS:
        for c in CONCURRENCY:
            nu = rps("nuserve", n, c)
            lines.append(
                f"{n} row(s), c={c}: nuserve / floor {nu / rps('floor', n, c):.2f}x, "
                f"/ kserve {nu / rps('kserve 0.21', n, c):.2f}x, "
                f"/ mlserver {nu / rps('mlserver 1.7', n, c):.2f}x"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
