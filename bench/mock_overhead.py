"""Per-request overhead of the mock server's ``test()`` against calling ``predict`` directly.

Echo model, MLRun rows body. Run: ``python bench/mock_overhead.py``.
"""

from __future__ import annotations

import statistics
import sys
import time

import nuserve

N = 200_000
RUNS = 5


class Echo(nuserve.V2ModelServer):
    def load(self):
        self.model = "echo"

    def predict(self, request):
        return request["inputs"]


def per_call_us(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def main(n: int = N, runs: int = RUNS) -> dict[str, float]:
    fn = nuserve.new_function("bench")
    fn.add_model("echo", class_name=Echo)
    server = fn.to_mock_server()
    model = server.root.routes["echo"]
    body = {"inputs": [[1.0, 2.0, 3.0, 4.0]]}
    direct, mock = [], []
    for _ in range(runs):
        direct.append(per_call_us(lambda: model.predict(body), n))
        mock.append(per_call_us(lambda: server.test("/v2/models/echo/infer", body), n))
    d, m = statistics.median(direct), statistics.median(mock)
    result = {
        "direct_us": d,
        "mock_us": m,
        "overhead_us": m - d,
        "spread_us": max(mock) - min(mock),
    }
    print(f"{'what':<28}{'µs/request':>12}")
    print(f"{'predict() direct (floor)':<28}{d:>12.3f}")
    print(f"{'mock test()':<28}{m:>12.3f}")
    print(f"{'overhead':<28}{m - d:>12.3f}   (spread of mock runs {result['spread_us']:.3f})")
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else N)
