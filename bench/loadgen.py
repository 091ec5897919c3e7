"""A small HTTP/1.1 keep-alive load generator (raw asyncio streams), for when ``wrk`` is absent.

``concurrency`` connections each send the same POST back to back for ``duration`` seconds and
record every request's latency; the answer must carry a Content-Length (uvicorn's does).
Prints one JSON line: requests, seconds, rps, p50_ms, p99_ms, max_ms, errors, non2xx.

Run: ``python bench/loadgen.py URL -c 16 -d 5 --body '{"inputs": [[1, 2, 3, 4]]}'``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

TIMEOUT_S = 10.0
"""One request longer than this ends its connection and counts as an error."""


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    non2xx: int = 0


def post_request(host: str, port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """The status of one response, after reading its body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise ValueError("response without Content-Length (chunked answers are not supported)")
    await reader.readexactly(length)
    return status


async def connection(host: str, port: int, request: bytes, deadline: float, tally: Tally) -> None:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TIMEOUT_S)
    except (OSError, TimeoutError):
        tally.errors += 1
        return
    clock = time.perf_counter
    try:
        while clock() < deadline:
            start = clock()
            writer.write(request)
            status = await asyncio.wait_for(read_response(reader), TIMEOUT_S)
            tally.latencies.append(clock() - start)
            if not 200 <= status < 300:
                tally.non2xx += 1
    except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError):
        tally.errors += 1
    finally:
        writer.close()


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of a sorted list (0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, round(pct / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


async def run(url: str, body: bytes, concurrency: int, duration: float) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = post_request(host, port, parts.path or "/", body)
    tally = Tally()
    start = time.perf_counter()
    deadline = start + duration
    tasks = [connection(host, port, request, deadline, tally) for _ in range(concurrency)]
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - start
    ordered = sorted(tally.latencies)
    return {
        "requests": len(ordered),
        "seconds": seconds,
        "rps": len(ordered) / seconds,
        "p50_ms": percentile(ordered, 50) * 1e3,
        "p99_ms": percentile(ordered, 99) * 1e3,
        "max_ms": (ordered[-1] if ordered else 0.0) * 1e3,
        "errors": tally.errors,
        "non2xx": tally.non2xx,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="HTTP/1.1 keep-alive POST load generator")
    parser.add_argument("url")
    parser.add_argument("-c", "--concurrency", type=int, default=16)
    parser.add_argument("-d", "--duration", type=float, default=5.0, help="seconds")
    parser.add_argument("--body", default='{"inputs": [[5.1, 3.5, 1.4, 0.2]]}')
    args = parser.parse_args()
    result = asyncio.run(run(args.url, args.body.encode(), args.concurrency, args.duration))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
