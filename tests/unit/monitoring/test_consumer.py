"""Record sources: a tailed file (with the tracker's own FileSink rotating it), memory,
v3io (against a local fake of the streaming web API), and the URL errors."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from nuserve.errors import ConfigError
from nuserve.monitoring import open_source
from nuserve.monitoring.consumer import FileSource, V3IOSource
from nuserve.streams.url import parse_stream_url
from nuserve.streams.v3io import V3ioSettings
from nuserve.tracking.sinks import MemorySink
from nuserve.tracking.sinks.file import FileSink


def test_file_source_tails_partial_lines_arrays_and_bad_json(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    source = open_source(f"file://{path}")
    assert source.poll(0.05) == []  # not there yet
    with path.open("ab") as f:
        f.write(b'{"a": 1}\n[{"a": 2}, {"a": 3}]\nnot json\n{"a": ')
        f.flush()
        assert source.poll(0.5) == [{"a": 1}, {"a": 2}, {"a": 3}, None]
        f.write(b"4}\n")
    assert source.poll(0.5) == [{"a": 4}]
    source.close()


def test_file_source_follows_the_sinks_rotation(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    sink = FileSink(f"file://{path}?max_bytes=40&max_files=3")
    source = FileSource(parse_stream_url(f"file://{path}"))
    seen: list[Any] = []
    for i in range(6):
        sink.send([json.dumps({"i": i}).encode()] * 2)  # 20 bytes: a rotation every call
        seen += source.poll(0.2)
    sink.close()
    seen += source.poll(0.2)
    source.close()
    assert [r["i"] for r in seen] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_file_source_start_at_end(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"old": 1}\n')
    source = open_source(f"file://{path}?start=end")
    assert source.poll(0.05) == []
    with path.open("ab") as f:
        f.write(b'{"new": 1}\n')
    assert source.poll(0.5) == [{"new": 1}]
    source.close()


def test_memory_source_reads_what_the_sink_got() -> None:
    sink = MemorySink.named("mon-src")
    source = open_source("memory://mon-src")
    sink.send([b'{"a": 1}', b'[{"a": 2}]'])
    assert source.poll(0.5) == [{"a": 1}, {"a": 2}]
    assert source.poll(0.01) == []
    MemorySink.forget("mon-src")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://x", "unknown scheme 'http'"),
        ("nothing", "'nothing' is not a stream URL; use kafka://"),
        ("file:///x?start=middle", "start must be 'beginning' or 'end' \\(got 'middle'\\)"),
        ("file:///x?follow=1", r"unknown options \['follow'\]; known: start"),
        ("kafka://127.0.0.1:1", "needs brokers and a topic"),
        ("v3io:///container", "v3io:///<container>/<stream path>"),
    ],
)
def test_bad_urls(url, message) -> None:
    with pytest.raises(ConfigError, match=message):
        open_source(url, environ={})


def test_v3io_needs_credentials() -> None:
    with pytest.raises(ConfigError, match="needs V3IO_ACCESS_KEY"):
        open_source("v3io:///c/stream", environ={})


def fake_v3io(records: list[bytes]) -> ThreadingHTTPServer:
    """DescribeStream (1 shard), SeekShard (location = an index), GetRecords."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_PUT(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            function = self.headers.get("X-v3io-function")
            body = json.loads(raw) if raw else {}
            if function == "DescribeStream":
                answer: dict[str, Any] = {"ShardCount": 1}
            elif function == "SeekShard":
                answer = {"Location": "0"}
            else:
                start = int(body["Location"])
                chunk = records[start : start + int(body.get("Limit", 100))]
                answer = {
                    "NextLocation": str(start + len(chunk)),
                    "Records": [{"Data": base64.b64encode(r).decode()} for r in chunk],
                }
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


def test_v3io_source_reads_every_record() -> None:
    records = [b'{"a": 1}', b'[{"a": 2}, {"a": 3}]']
    server = fake_v3io(records)
    try:
        api = f"http://127.0.0.1:{server.server_address[1]}"
        url = parse_stream_url("v3io:///users/tracking")
        source = V3IOSource(url, V3ioSettings(api, "key"))
        assert source.poll(1.0) == [{"a": 1}, {"a": 2}, {"a": 3}]
        records.append(b'{"a": 4}')
        assert source.poll(1.0) == [{"a": 4}]
        assert source.poll(0.05) == []
        source.close()
    finally:
        server.shutdown()
        server.server_close()
