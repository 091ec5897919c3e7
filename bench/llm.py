"""Generation through nuserve vs llama-cpp-python called directly, in one run.

One model file (a random-weight GGUF written here, wider and deeper than the tests' one, so a
decode step costs more like a real small model's), one prompt, temperature 0, the same number
of tokens. Direct: ``Llama.create_completion(stream=True)`` in this process (the floor).
Through nuserve: ``nuserve serve`` (one worker, ``LLModel``) and ``/v1/completions`` with
``stream: true`` over HTTP, read as Server-Sent Events. The two alternate round by round.
HTTP floor: a bare uvicorn ASGI app (bench/llm_floor.py, the same http and loop
implementations) that calls ``create_completion(stream=True)`` on its event loop and writes each
chunk as SSE: floor minus direct is HTTP's own cost, nuserve minus floor is nuserve's. The three
alternate round by round. Figures: tokens/s (completion tokens over the whole request) and time
to first token (TTFT). Then 8 concurrent streams through nuserve (8 slots): aggregate tokens/s
and p99 TTFT, beside one stream alone.

``--stages N``: N more streamed requests to a second ``nuserve serve`` whose model is
``bench/llm_probe.ProbedLLModel`` (timestamps inside the worker, on the clock this process
reads), and N direct completions with ``Llama.eval`` timed: where the time to first token goes,
stage by stage (medians).

Run: ``python bench/llm.py [--rounds N] [--tokens N] [--stages N]`` (needs the llm extra)
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.serve_models import (  # noqa: E402
    free_port,
    request,
    serve,
    stop,
    wait_until,
    write_function_yaml,
)
from tests.tiny_gguf import write_tiny_gguf  # noqa: E402

PROMPT = "the water of the day"


def direct(llama, tokens: int) -> tuple[float, float, int]:
    """``(TTFT s, total s, tokens)`` of one streamed completion, in process."""
    started = time.perf_counter()
    first = None
    count = 0
    for chunk in llama.create_completion(PROMPT, max_tokens=tokens, temperature=0, stream=True):
        if chunk["choices"][0]["text"] and first is None:
            first = time.perf_counter() - started
        count += 1 if chunk["choices"][0]["finish_reason"] is None else 0
    return first or 0.0, time.perf_counter() - started, count


def through(
    port: int, tokens: int, marks: dict[str, float] | None = None
) -> tuple[float, float, int]:
    """``(TTFT s, total s, tokens)`` of one streamed ``/v1/completions`` over HTTP; ``marks``
    gets the client's clock readings (``c_start``, ``c_head``, ``c_first``)."""
    body = orjson.dumps(
        {
            "model": "bench",
            "prompt": PROMPT,
            "max_tokens": tokens,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    head = time.perf_counter()
    first = None
    count = 0
    for line in response:
        if not line.startswith(b"data: {"):
            continue
        chunk = orjson.loads(line[6:])
        if chunk.get("usage"):
            count = chunk["usage"]["completion_tokens"]
        elif chunk["choices"] and chunk["choices"][0]["text"] and first is None:
            first = time.perf_counter() - started
    total = time.perf_counter() - started
    conn.close()
    if marks is not None:
        marks.update(c_start=started, c_head=head, c_first=started + (first or 0.0))
    return first or 0.0, total, count


def concurrent(port: int, streams: int, tokens: int) -> tuple[float, list[float]]:
    """Aggregate tokens/s and the TTFTs of ``streams`` streams started at once."""
    results: list[tuple[float, float, int]] = []
    lock = threading.Lock()

    def one() -> None:
        result = through(port, tokens)
        with lock:
            results.append(result)

    started = time.perf_counter()
    threads = [threading.Thread(target=one) for _ in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return sum(r[2] for r in results) / wall, [r[0] for r in results]


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


@contextlib.contextmanager
def floor_server(model: Path, threads: int, log: Path) -> Iterator[int]:
    """bench/llm_floor.py on a free port, stopped at the end."""
    port = free_port()
    command = [sys.executable, str(ROOT / "bench" / "llm_floor.py"), "--model", str(model)]
    command += ["--port", str(port), "--threads", str(threads)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "runtime")}
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out)

    def ready() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return request(port, "GET", "/", timeout=2)[0] == 200
        except OSError:
            return False

    try:
        wait_until(ready, 120, "the HTTP floor answering")
        yield port
    finally:
        stop(process)


STAGES = [
    ("connect, request sent, accepted", "c_start", "accept"),
    ("request bytes read by uvicorn", "accept", "recv"),
    ("head parsed, app called", "recv", "app"),
    ("body read", "app", "body"),
    ("event made", "body", "event"),
    ("graph and router to the handler", "event", "handler"),
    ("handler: JSON, params, admission, to the engine", "handler", "engine"),
    ("tokenize, check, submit the decode", "engine", "started"),
    ("  (worker thread wakes, from the submission)", "started", "thread"),
    ("  (SSE head written, from the submission)", "started", "head_sent"),
    ("  (client has the head, from the submission)", "started", "c_head"),
    ("thread: into Llama.generate", "thread", "generate"),
    ("Llama.generate: before the decode", "generate", "eval0"),
    ("decode of the prompt's tail", "eval0", "eval1"),
    ("sample the first token", "eval1", "token"),
    ("detokenize, stop scan, put", "token", "put"),
    ("hand-off to the event loop", "put", "item"),
    ("first chunk made and written", "item", "chunk_sent"),
    ("client reads and parses the chunk", "chunk_sent", "c_first"),
]
"""Stages of the critical path (the indented ones overlap it, from the submission on)."""


def stages(port: int, probe_file: Path, rounds: int, tokens: int) -> None:
    """Where the time to first token goes through ``nuserve serve``, stage by stage."""
    clients = []
    for _ in range(rounds):
        marks: dict[str, float] = {}
        through(port, tokens, marks)
        clients.append(marks)
    # a request's line is written when its app call returns, after the client has read it all
    wait_until(lambda: len(probe_file.read_bytes().splitlines()) > rounds, 10, "probe lines")
    servers = [orjson.loads(line) for line in probe_file.read_bytes().splitlines()]
    servers = servers[-rounds:]
    rows = [{**c, **s} for c, s in zip(clients, servers, strict=True)]
    print(f"\nTTFT through nuserve serve, stage by stage ({rounds} requests, medians, ms):")
    total = 0.0
    for name, a, b in STAGES:
        values = [(r[b] - r[a]) * 1000 for r in rows if a in r and b in r]
        if not values:
            print(f"  {name:48} {'-':>7}")
            continue
        value = statistics.median(values)
        total += 0 if name.startswith(" ") else value
        print(f"  {name:48} {value:7.3f}")
    ttft = statistics.median((r["c_first"] - r["c_start"]) * 1000 for r in rows)
    print(f"  {'sum of the stages':48} {total:7.3f}   (TTFT median {ttft:.3f})")
    if os.environ.get("NUSERVE_PROBE_DUMP"):
        Path(os.environ["NUSERVE_PROBE_DUMP"]).write_bytes(orjson.dumps(rows))


def direct_stages(llama: Any, rounds: int, tokens: int) -> None:
    """Direct ``create_completion``: the decode vs everything else before the first chunk
    (each run to the end, as in the rounds: the next one then decodes the prompt's last
    token again, not a prompt cached whole)."""
    evals: list[float] = []
    original = type(llama).eval

    def timed(self: Any, batch: Any) -> None:
        began = time.perf_counter()
        original(self, batch)
        evals.append(time.perf_counter() - began)

    type(llama).eval = timed
    try:
        firsts, decodes = [], []
        for _ in range(rounds):
            evals.clear()
            started = time.perf_counter()
            first = None
            for chunk in llama.create_completion(
                PROMPT, max_tokens=tokens, temperature=0, stream=True
            ):
                if chunk["choices"][0]["text"] and first is None:
                    first = time.perf_counter() - started
                    decodes.append(evals[0])
            firsts.append(first or 0.0)
    finally:
        type(llama).eval = original
    first, decode = statistics.median(firsts) * 1000, statistics.median(decodes) * 1000
    print(f"\ndirect create_completion ({rounds} runs, medians): first chunk {first:.3f} ms,")
    print(f"  of which the decode {decode:.3f} ms, the rest {first - decode:.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--stages", type=int, default=0, help="requests of the stage probe")
    parser.add_argument("--no-concurrent", action="store_true", help="skip the 8 streams")
    args = parser.parse_args()
    from llama_cpp import Llama  # noqa: PLC0415 - the llm extra

    tmp = Path(tempfile.mkdtemp(prefix="nuserve-llm-bench-"))
    model = write_tiny_gguf(tmp / "bench.gguf", n_embd=512, n_layer=6, n_ff=1536, context=1024)
    print(f"model: {model.stat().st_size / 1e6:.1f} MB random-weight GGUF, threads={args.threads}")
    llama = Llama(
        str(model), n_ctx=0, n_threads=args.threads, n_threads_batch=args.threads, verbose=False
    )

    def configure(fn: Any, class_name: str = "LLModel") -> None:
        fn.add_model(
            "bench", class_name=class_name, model_path=str(model), slots=8, threads=args.threads
        )

    spec = write_function_yaml(
        tmp / "function.yaml", {"e": "tests.serve_models.CountingEcho"}, configure=configure
    )
    with (
        floor_server(model, args.threads, tmp / "floor.log") as floor_port,
        serve(spec, workers=1, timeout=120) as served,
    ):
        through(served.port, 8)  # warm up all three
        through(floor_port, 8)
        direct(llama, 8)
        rows: dict[str, list[tuple[float, float, int]]] = {"direct": [], "floor": [], "nuserve": []}
        for _ in range(args.rounds):
            rows["direct"].append(direct(llama, args.tokens))
            rows["floor"].append(through(floor_port, args.tokens))
            rows["nuserve"].append(through(served.port, args.tokens))
        print(f"\n{args.rounds} rounds of {args.tokens} tokens, alternating (medians):")
        print(f"{'':10} {'tokens/s':>10} {'TTFT ms':>9}")
        medians = {}
        for name, runs in rows.items():
            rate = statistics.median(r[2] / r[1] for r in runs)
            ttft = statistics.median(r[0] for r in runs) * 1000
            medians[name] = (rate, ttft)
            print(f"{name:10} {rate:10.1f} {ttft:9.2f}")
        (dr, dt), (fr, ft), (nr, nt) = medians["direct"], medians["floor"], medians["nuserve"]
        for label, (r1, t1), (r0, t0) in (
            ("HTTP floor vs direct", (fr, ft), (dr, dt)),
            ("nuserve vs floor", (nr, nt), (fr, ft)),
            ("nuserve vs direct", (nr, nt), (dr, dt)),
        ):
            print(f"{label:21} {100 * (r1 / r0 - 1):+.1f} % tokens/s, {t1 - t0:+.2f} ms TTFT")
        if not args.no_concurrent:
            print("\n8 concurrent streams through nuserve (8 slots):")
            rates, ttfts = [], []
            for _ in range(max(1, args.rounds // 2)):
                rate, firsts = concurrent(served.port, 8, args.tokens)
                rates.append(rate)
                ttfts += firsts
            serial = statistics.median(r[2] / r[1] for r in rows["nuserve"])
            print(f"aggregate tokens/s {statistics.median(rates):.1f} (one stream: {serial:.1f})")
            p50, top = statistics.median(ttfts) * 1000, p99(ttfts) * 1000
            print(f"TTFT p50 {p50:.1f} ms, p99 {top:.1f} ms")
    if args.stages:
        probe_file = tmp / "probe.jsonl"
        os.environ["NUSERVE_PROBE_FILE"] = str(probe_file)
        (tmp / "probed").mkdir()
        probed = write_function_yaml(
            tmp / "probed" / "function.yaml",
            {"e": "tests.serve_models.CountingEcho"},
            configure=lambda fn: configure(fn, "bench.llm_probe.ProbedLLModel"),
        )
        with serve(probed, workers=1, timeout=120) as served:
            through(served.port, 8)
            stages(served.port, probe_file, args.stages, args.tokens)
        direct_stages(llama, args.stages, args.tokens)


if __name__ == "__main__":
    main()
