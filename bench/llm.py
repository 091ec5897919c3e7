"""Generation through nuserve vs llama-cpp-python called directly, in one run.

One model file (a random-weight GGUF written here, wider and deeper than the tests' one, so a
decode step costs more like a real small model's), one prompt, temperature 0, the same number
of tokens. Direct: ``Llama.create_completion(stream=True)`` in this process (the floor).
Through nuserve: ``nuserve serve`` (one worker, ``LLModel``) and ``/v1/completions`` with
``stream: true`` over HTTP, read as Server-Sent Events. The two alternate round by round.
Figures: tokens/s (completion tokens over the whole request) and time to first token (TTFT).
Then 8 concurrent streams through nuserve (8 slots): aggregate tokens/s and p99 TTFT, beside
8 streams one after another (the same total work serially).

Run: ``python bench/llm.py [--rounds N] [--tokens N]`` (needs the llm extra)
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.serve_models import serve, write_function_yaml  # noqa: E402
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


def through(port: int, tokens: int) -> tuple[float, float, int]:
    """``(TTFT s, total s, tokens)`` of one streamed ``/v1/completions`` over HTTP."""
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    from llama_cpp import Llama  # noqa: PLC0415 - the llm extra

    tmp = Path(tempfile.mkdtemp(prefix="nuserve-llm-bench-"))
    model = write_tiny_gguf(tmp / "bench.gguf", n_embd=512, n_layer=6, n_ff=1536, context=1024)
    print(f"model: {model.stat().st_size / 1e6:.1f} MB random-weight GGUF, threads={args.threads}")
    llama = Llama(
        str(model), n_ctx=0, n_threads=args.threads, n_threads_batch=args.threads, verbose=False
    )

    def configure(fn) -> None:
        fn.add_model(
            "bench", class_name="LLModel", model_path=str(model), slots=8, threads=args.threads
        )

    spec = write_function_yaml(
        tmp / "function.yaml", {"e": "tests.serve_models.CountingEcho"}, configure=configure
    )
    with serve(spec, workers=1, timeout=120) as served:
        through(served.port, 8)  # warm up both
        direct(llama, 8)
        rows: dict[str, list[tuple[float, float, int]]] = {"direct": [], "nuserve": []}
        for _ in range(args.rounds):
            rows["direct"].append(direct(llama, args.tokens))
            rows["nuserve"].append(through(served.port, args.tokens))
        print(f"\n{args.rounds} rounds of {args.tokens} tokens, alternating (medians):")
        print(f"{'':10} {'tokens/s':>10} {'TTFT ms':>9}")
        medians = {}
        for name, runs in rows.items():
            rate = statistics.median(r[2] / r[1] for r in runs)
            ttft = statistics.median(r[0] for r in runs) * 1000
            medians[name] = (rate, ttft)
            print(f"{name:10} {rate:10.1f} {ttft:9.2f}")
        (dr, dt), (nr, nt) = medians["direct"], medians["nuserve"]
        print(f"nuserve vs direct: {100 * (nr / dr - 1):+.1f} % tokens/s, {nt - dt:+.2f} ms TTFT")
        print("\n8 concurrent streams through nuserve (8 slots):")
        rates, ttfts = [], []
        for _ in range(max(1, args.rounds // 2)):
            rate, firsts = concurrent(served.port, 8, args.tokens)
            rates.append(rate)
            ttfts += firsts
        serial = statistics.median(r[2] / r[1] for r in rows["nuserve"])
        print(f"aggregate tokens/s {statistics.median(rates):.1f} (one stream alone: {serial:.1f})")
        print(f"TTFT p50 {statistics.median(ttfts) * 1000:.1f} ms, p99 {p99(ttfts) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
