"""The soak's load generator: keep-alive POSTs that each carry their own ``X-Request-Id``.

``bench/loadgen.py`` counts statuses only; a soak must also say which requests were answered
200, so that the tracking topic can be checked record by record. Request ``n`` is sent with
``X-Request-Id: <prefix><n>`` (nuserve uses that header as the event id, echoes it in the
answer and writes it to the tracking record). What became of each request is one byte in
``Tally.states``; latencies go to an ``array`` of doubles: a 10-minute run at 2,000 req/s
holds about 11 MB.

A connection that fails (refused, reset, a request over ``TIMEOUT_S``) is counted by the kind
of failure and opened again after ``RECONNECT_DELAY_S``: a soak keeps going through errors and
reports them rather than stopping at the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field

from loadgen import percentile

TIMEOUT_S = 10.0
"""A request not answered within this ends its connection and counts as an error."""
RECONNECT_DELAY_S = 0.05
SENT, OK, NOT_OK = 1, 2, 3
"""``Tally.states`` values: sent with no answer (yet), answered 2xx, answered otherwise."""


@dataclass
class Tally:
    """What the connections did; read by the sampler while they run (one event loop)."""

    prefix: str
    states: bytearray = field(default_factory=bytearray)
    """Index ``n`` is request ``<prefix><n>``'s state (``SENT``, ``OK`` or ``NOT_OK``)."""
    latencies: array[float] = field(default_factory=lambda: array("d"))
    """Seconds per answered request, in the order the answers came."""
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    """Connection-level failures by kind (``ConnectionResetError``, ``TimeoutError``, ...)."""
    answers: int = 0

    @property
    def failed_statuses(self) -> dict[int, int]:
        """Answers by status, for the statuses outside 2xx."""
        return {s: n for s, n in sorted(self.statuses.items()) if not 200 <= s < 300}

    @property
    def non_2xx(self) -> int:
        return sum(self.failed_statuses.values())

    def latency_summary(self, start: int = 0, end: int | None = None) -> dict[str, float]:
        """p50, p99 and max in ms of the answers ``start:end`` (all by default)."""
        ordered = sorted(self.latencies[start:end])
        return {
            "p50_ms": percentile(ordered, 50) * 1e3,
            "p99_ms": percentile(ordered, 99) * 1e3,
            "max_ms": (ordered[-1] if ordered else 0.0) * 1e3,
        }


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str
    body: bytes

    def request(self, request_id: str) -> bytes:
        return (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(self.body)}\r\n"
            f"X-Request-Id: {request_id}\r\n\r\n"
        ).encode() + self.body


class MismatchedIdError(ValueError):
    """The answer carries another request's id: answers and requests got out of step."""


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, str | None]:
    """``(status, X-Request-Id)`` of one response, after reading its body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, request_id = None, None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"x-request-id":
            request_id = value.strip().decode("latin-1")
    if length is None:
        raise ValueError("response without Content-Length (chunked answers are not supported)")
    await reader.readexactly(length)
    return status, request_id


async def connection(target: Target, tally: Tally, deadline: float, stop: asyncio.Event) -> None:
    """Send requests back to back until ``deadline`` (or ``stop``), reconnecting on errors."""
    clock = time.monotonic
    while clock() < deadline and not stop.is_set():
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(target.host, target.port), TIMEOUT_S
            )
        except (OSError, TimeoutError) as exc:
            tally.errors[f"connect: {type(exc).__name__}"] += 1
            await asyncio.sleep(RECONNECT_DELAY_S)
            continue
        try:
            await _requests(reader, writer, target, tally, deadline, stop)
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
            tally.errors[type(exc).__name__] += 1
            await asyncio.sleep(RECONNECT_DELAY_S)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _requests(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    target: Target,
    tally: Tally,
    deadline: float,
    stop: asyncio.Event,
) -> None:
    clock, perf = time.monotonic, time.perf_counter
    states, latencies, statuses, prefix = (
        tally.states,
        tally.latencies,
        tally.statuses,
        tally.prefix,
    )
    while clock() < deadline and not stop.is_set():
        number = len(states)
        states.append(SENT)
        request_id = f"{prefix}{number}"
        began = perf()
        writer.write(target.request(request_id))
        status, echoed = await asyncio.wait_for(read_answer(reader), TIMEOUT_S)
        latencies.append(perf() - began)
        statuses[status] += 1
        tally.answers += 1
        if echoed != request_id:
            states[number] = NOT_OK
            raise MismatchedIdError(f"sent X-Request-Id {request_id!r}, the answer has {echoed!r}")
        states[number] = OK if 200 <= status < 300 else NOT_OK


async def run(
    target: Target, tally: Tally, concurrency: int, seconds: float, stop: asyncio.Event
) -> float:
    """Load ``target`` with ``concurrency`` connections for ``seconds``; the seconds it took.

    Bounded: every connection stops at the deadline, and its last request within
    ``TIMEOUT_S`` after it.
    """
    began = time.monotonic()
    deadline = began + seconds
    await asyncio.gather(*(connection(target, tally, deadline, stop) for _ in range(concurrency)))
    return time.monotonic() - began
