"""One HTTP/1.1 connection: uvicorn's httptools protocol, with the request head bounded.

uvicorn (0.3x to 0.5x) arms no timer on a connection until it has answered a first request,
and disarms its keep-alive timer on the first byte of the next one: a client that opens a
connection and sends its head a byte at a time holds it (a socket, a parser, a buffer) for as
long as it likes, and many such clients exhaust the file descriptors (slowloris). httptools
also buffers a request line or a header of any length, so one fast client can fill the memory.
uvicorn's h11 protocol caps the head (``h11_max_incomplete_event_size``); httptools does not.

``HeadLimitedProtocol`` adds both bounds and changes nothing else:

- a connection must send a complete request head within ``timeout_keep_alive`` seconds of
  opening, or of its previous response (the keep-alive timeout, which already closes an idle
  connection after that long, now also covers a slow head): else 408 and the connection
  closes (silently, if not a byte of a new request came);
- a head over ``h11_max_incomplete_event_size`` bytes (the h11 protocol's own limit, so
  both parsers agree) gets 431 and the connection closes, however its bytes arrive: a head
  still incomplete is measured by the bytes received since it began, a head that completed
  within one read (70 KB in one write) by what the parser handed over (request line and
  header lines), checked before the request reaches the app;
- uvicorn's own 400 for an unparseable request is JSON ``{"error", "id"}``, like every other
  error of ``nuserve serve``;
- a request whose head completes while the worker already has ``max_in_flight`` requests
  let in and not answered (running, or waiting their turn on the event loop) is marked
  ``OVERLOADED`` in its scope: the app answers it 503 at once, and it is not counted. The
  app's own count sees only the requests it is inside of, and a sync model finishes each
  before the next starts: under 1,000 connections the queue was the event loop's, where the
  app cannot see it. Counting uvicorn's tasks instead counted the refusals too, and the
  worker spent itself refusing.

The body is the app's business (``max_body_size`` and ``body_timeout`` in ``app``). Each
connection is a coroutine-free protocol object on the worker's event loop, so a slow client
never blocks the others; these bounds make sure it does not stay for ever either.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import os
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from nuserve.event import new_event_id
from nuserve.serve.config import (
    MAX_HEAD_BYTES,
    MAX_IN_FLIGHT,
    MAX_IN_FLIGHT_ENV,
    OVERLOADED,
    check_max_in_flight,
)


@functools.cache
def max_in_flight() -> int:
    """This worker's limit (``workers.run`` sets it in the environment), read once."""
    return check_max_in_flight(MAX_IN_FLIGHT_ENV, os.environ.get(MAX_IN_FLIGHT_ENV, MAX_IN_FLIGHT))


CONTINUE = b"HTTP/1.1 100 "
ONE_WRITE_BODY = 64 * 1024
"""Bodies under this many bytes are joined to their head (a copy); larger ones are written
after it in one ``writelines``."""
HEAD_TOO_LARGE = (
    "request head (request line and headers) over {} bytes; "
    "send shorter headers, or put the data in the body"
)


class Refused(Exception):
    """Raised in a parser callback once the request is refused: the parser stops."""


class Admitted:
    """Requests let in and not yet answered, over every connection of this worker."""

    count = 0


class OneWrite:
    """The transport as a connection's response cycles see it: the head of an answer is held
    until its body comes, and both leave in one write — one ``send`` and one segment instead
    of two, on the server and on the client. A streamed answer's head (it has a
    ``transfer-encoding``) goes at once, as before: its client may be waiting for it (time to
    first token); so does an interim ``100 Continue``. ``done``, when an answer is complete,
    sends a head still held (a HEAD request's answer has no body) and readies the next one.
    One per connection: a pipelined request's cycle writes only once the one before it is
    done."""

    __slots__ = ("head", "state", "transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.head = b""
        self.state = 0
        """0: no head yet; 1: the head is held; 2: the head is out."""

    def write(self, data: bytes) -> None:
        """What uvicorn's cycle calls (with ``close`` and ``is_closing``: all it uses)."""
        state = self.state
        if state == 1:
            self.state = 2
            head, self.head = self.head, b""
            if len(data) < ONE_WRITE_BODY:
                self.transport.write(head + data)
            else:  # no copy of a large body
                self.transport.writelines((head, data))
        elif state == 0 and not data.startswith(CONTINUE):
            if b"\r\ntransfer-encoding:" in data:
                self.state = 2
                self.transport.write(data)
            else:
                self.state, self.head = 1, data
        else:
            self.transport.write(data)

    def done(self) -> None:
        if self.state == 1:
            self.transport.write(self.head)
            self.head = b""
        self.state = 0

    def close(self) -> None:
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()


class HeadLimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size limit on each request head,
    and admission control.

    The per-request cost is kept to what the bounds need (it is on every request, and the
    benchmarks hold it against plain uvicorn): uvicorn's own keep-alive timer is the head's
    deadline too (no second timer per request), and a completed head is measured only when
    the bytes read since it began could exceed the limit (no callback per header line)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_head: int = self.config.h11_max_incomplete_event_size or MAX_HEAD_BYTES
        self.head_pending = False
        """A request head has begun and is not complete."""
        self.chunk = 0
        """The size of the read being parsed."""
        self.head_chunk = 0
        """The size of the read the pending head began in."""
        self.head_bytes = 0
        """Bytes of the reads after the one the pending head began in."""
        self.refused = False
        """A 4xx was sent and the connection is closing: nothing more is parsed."""
        self.max_in_flight = max_in_flight()
        self.pending: collections.deque[bool] = collections.deque()
        """Per request of this connection not yet answered, in order (pipelined: several),
        whether it is counted in ``Admitted.count``."""

    # ----- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.one_write = OneWrite(transport)
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        Admitted.count -= sum(self.pending)
        self.pending.clear()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """uvicorn's, except that the keep-alive timer is left running: it is the deadline
        of the head now arriving, cancelled when the head is complete."""
        if self.refused:
            return
        self.chunk = size = len(data)
        if self.head_pending:
            self.head_bytes += size
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if not self.refused:  # else a callback stopped the parser after refusing
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)
            return
        # A head that began in this read is counted from the next one: the read may hold the
        # end of an earlier request too, and one read more is still bounded.
        if (
            self.head_pending
            and self.head_bytes > self.max_head
            and not self.transport.is_closing()
        ):
            self.refuse(431, HEAD_TOO_LARGE.format(self.max_head))

    # ----- httptools parser callbacks -----------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_pending = True
        self.head_chunk = self.chunk
        self.head_bytes = 0

    def on_headers_complete(self) -> None:
        self.head_pending = False
        deadline = self.timeout_keep_alive_task
        if deadline is not None:
            deadline.cancel()
            self.timeout_keep_alive_task = None
        if self.head_chunk + self.head_bytes > self.max_head and self._head_size() > self.max_head:
            self.refuse(431, HEAD_TOO_LARGE.format(self.max_head))
            raise Refused  # stops the parser: the rest of the read is not this server's
        limit = self.max_in_flight
        admitted = bool(limit) and Admitted.count < limit
        if admitted:
            Admitted.count += 1
        elif limit:
            self.scope[OVERLOADED] = True  # type: ignore[literal-required]
        self.pending.append(admitted)
        super().on_headers_complete()
        if self.cycle is not None:
            self.cycle.transport = self.one_write  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        self.one_write.done()
        if self.pending and self.pending.popleft():
            Admitted.count -= 1
        super().on_response_complete()  # arms the keep-alive timer: the next head's deadline

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request it cannot parse, as JSON."""
        self.refuse(400, f"{msg.rstrip('.')}: the request is not valid HTTP/1.1")

    def _head_size(self) -> int:
        """The bytes of the completed head: its request line and header lines."""
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    # ----- the head deadline --------------------------------------------------------------

    def timeout_keep_alive_handler(self) -> None:
        """The keep-alive timeout: an idle connection closes, a head still arriving gets
        408. A request being answered is left alone: its response arms the timer again."""
        self.timeout_keep_alive_task = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return
        if not self.head_pending:
            self.transport.close()  # idle: nothing to answer
            return
        self.refuse(
            408,
            f"request head not received within {self.timeout_keep_alive:g} s; "
            "send the request line and headers at once",
        )

    def refuse(self, status: int, error: str) -> None:
        """Answer ``{"error", "id"}`` with ``status`` and close the connection (once)."""
        if self.refused:
            return
        self.refused = True
        body = orjson.dumps({"error": error, "id": new_event_id()})
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content += [name, b": ", value, b"\r\n"]
        content += [
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
        self.transport.write(b"".join(content))
        self.transport.close()
