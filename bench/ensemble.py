"""An ensemble of 4 models of 20 ms each: concurrent fan-out against one child after another.

Per-request milliseconds (median of RUNS runs of N requests), for sync models (threads) and
async models (``asyncio.gather``), through the sync path (``server.test``, as the mock server
and Nuclio's sync handler) and the async path (``run_async``, as the HTTP server). The goal is
≤ 22 ms concurrent (MLRun 1.12's VotingEnsemble: 21.0 ms); sequential is the 80 ms floor.
Run: ``python bench/ensemble.py [N] [RUNS]`` (about 25 s with the defaults).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import nuserve
from nuserve.routers.ensemble import VotingEnsemble
from nuserve.routers.fanout import call_async, call_sync

N = 10
RUNS = 5
MODELS = 4
DELAY_S = 0.020


class Sleep(nuserve.V2ModelServer):
    def load(self):
        self.model = "sleep"

    def predict(self, request):
        time.sleep(DELAY_S)
        return [float(self.get_param("value"))] * len(request["inputs"])


class AsyncSleep(nuserve.V2ModelServer):
    def load(self):
        self.model = "sleep"

    async def predict(self, request):
        await asyncio.sleep(DELAY_S)
        return [float(self.get_param("value"))] * len(request["inputs"])


class SequentialEnsemble(VotingEnsemble):
    """The same vote, asking the children one after another (the baseline)."""

    def infer(self, event, operation, protocol=None):
        request, proto, chosen, events = self._prepare(event, protocol, operation)
        outcomes = [call_sync(m, e, operation) for m, e in zip(chosen, events, strict=True)]
        return self._answer(event, request, proto, operation, chosen, outcomes)

    async def infer_async(self, event, operation, protocol=None):
        request, proto, chosen, events = self._prepare(event, protocol, operation)
        outcomes = [
            await call_async(m, e, operation, False) for m, e in zip(chosen, events, strict=True)
        ]
        return self._answer(event, request, proto, operation, chosen, outcomes)


def build(router, model):
    fn = nuserve.new_function("bench")
    fn.set_topology("router", class_name=router, name="ens", vote_type="regression")
    for i in range(MODELS):
        fn.add_model(f"m{i}", class_name=model, value=i)
    return fn.to_mock_server()


BODY = {"inputs": [[1.0, 2.0, 3.0, 4.0]]}


def sync_ms(server, n):
    server.test("/v2/models/ens/infer", BODY)  # warm-up: pool threads, loop
    start = time.perf_counter()
    for _ in range(n):
        server.test("/v2/models/ens/infer", BODY)
    return (time.perf_counter() - start) / n * 1000


def async_ms(server, n):
    async def loop():
        await server.run_async(nuserve.Event(dict(BODY), "/v2/models/ens/infer"))
        start = time.perf_counter()
        for _ in range(n):
            response = await server.run_async(nuserve.Event(dict(BODY), "/v2/models/ens/infer"))
            assert response.status_code == 200, response.body
        return (time.perf_counter() - start) / n * 1000

    return asyncio.run(loop())


def main(n: int = N, runs: int = RUNS) -> dict[str, float]:
    rows = {}
    for label, model in (("sync models", Sleep), ("async models", AsyncSleep)):
        for path, measure in (("server.test", sync_ms), ("run_async", async_ms)):
            routers = {"concurrent": VotingEnsemble, "sequential": SequentialEnsemble}
            servers = {kind: build(router, model) for kind, router in routers.items()}
            times = {kind: [] for kind in servers}
            for _ in range(runs):
                for kind, server in servers.items():
                    times[kind].append(measure(server, n))
            rows[f"{label}, {path}"] = (
                statistics.median(times["concurrent"]),
                statistics.median(times["sequential"]),
                max(times["concurrent"]) - min(times["concurrent"]),
            )
            for server in servers.values():
                server.close()
    print(f"{MODELS} models of {DELAY_S * 1000:.0f} ms; ms per request, median of {runs} runs "
          f"of {n}")  # fmt: skip
    print(f"{'':<28}{'concurrent':>12}{'sequential':>12}{'spread':>10}")
    for name, (concurrent, sequential, spread) in rows.items():
        print(f"{name:<28}{concurrent:>12.2f}{sequential:>12.2f}{spread:>10.2f}")
    print("MLRun 1.12 VotingEnsemble (threads), same shape: 21.0 ms")
    return {name: concurrent for name, (concurrent, _, _) in rows.items()}


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
