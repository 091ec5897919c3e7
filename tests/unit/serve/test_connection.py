"""``HeadLimitedProtocol``'s writes, over an in-memory transport: an answer with a length
leaves in one write, a streamed one's head at once."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from nuserve.serve.connection import HeadLimitedProtocol

REQUEST = b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}"


class Recorded(asyncio.Transport):
    """What the protocol writes, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 80), "peername": ("127.0.0.1", 5000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        self.writes.append(b"".join(list_of_data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def exchange(app: Any, request: bytes = REQUEST) -> tuple[Recorded, HeadLimitedProtocol]:
    config = uvicorn.Config(app, lifespan="off", proxy_headers=False, log_level="warning")
    config.load()
    protocol = HeadLimitedProtocol(config=config, server_state=ServerState(), app_state={})
    transport = Recorded()
    protocol.connection_made(transport)
    protocol.data_received(request)
    return transport, protocol


async def until(condition: Any) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("not reached")


def test_an_answer_with_a_length_leaves_in_one_write() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"7")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"a":1}'})

    async def main() -> list[bytes]:
        transport, protocol = await exchange(app)
        await until(lambda: protocol.cycle is not None and protocol.cycle.response_complete)
        return transport.writes

    (written,) = asyncio.run(main())
    assert written.startswith(b"HTTP/1.1 200 OK\r\n") and written.endswith(b'\r\n\r\n{"a":1}')


def test_a_large_body_follows_its_head_in_the_same_call() -> None:
    body = b"x" * 200_000

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        headers = [(b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def main() -> list[bytes]:
        transport, protocol = await exchange(app)
        await until(lambda: protocol.cycle is not None and protocol.cycle.response_complete)
        return transport.writes

    (written,) = asyncio.run(main())
    assert written.endswith(b"\r\n\r\n" + body)


def test_a_streamed_answer_sends_its_head_before_the_first_chunk() -> None:
    """The client of a stream waits for the head (an LLM's time to first token)."""
    release = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await release.wait()
        await send({"type": "http.response.body", "body": b"one", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def main() -> tuple[list[bytes], list[bytes]]:
        transport, protocol = await exchange(app)
        await until(lambda: bool(transport.writes))
        before = list(transport.writes)
        release.set()
        await until(lambda: protocol.cycle is not None and protocol.cycle.response_complete)
        return before, transport.writes

    before, after = asyncio.run(main())
    assert len(before) == 1 and b"transfer-encoding: chunked" in before[0]
    assert after[1:] == [b"3\r\none\r\n", b"0\r\n\r\n"]


def test_a_second_answer_on_the_connection_is_one_write_too() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        headers = [(b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    async def main() -> list[bytes]:
        transport, protocol = await exchange(app, REQUEST + REQUEST)
        await until(lambda: len(transport.writes) == 2)
        return transport.writes

    first, second = asyncio.run(main())
    assert first == second and first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert first.endswith(b"\r\n\r\nok")


def test_the_head_of_a_head_request_is_sent_when_the_answer_completes() -> None:
    """A HEAD answer has a length but no body write: its held head goes at completion."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        headers = [(b"content-length", b"7")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"a":1}'})

    async def main() -> list[bytes]:
        request = b"HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n"
        transport, protocol = await exchange(app, request)
        await until(lambda: protocol.cycle is not None and protocol.cycle.response_complete)
        return transport.writes

    (written,) = asyncio.run(main())
    assert written.startswith(b"HTTP/1.1 200 OK\r\n") and written.endswith(
        b"content-length: 7\r\n\r\n"
    )
