"""A local stand-in for the v3io web API's PutRecords call, on 127.0.0.1, for sink tests.

The shape follows Iguazio's streaming web API reference (PutRecords): ``POST /<container>/<stream
path>/`` with ``X-v3io-function: PutRecords``, an ``X-v3io-session-key`` header and a JSON body
``{"Records": [{"Data": <base64>, "ShardId"?, "PartitionKey"?, "ClientInfo"?}]}``; the answer is
``{"FailedRecordCount": n, "Records": [{"SequenceNumber", "ShardId"} | {"ErrorCode",
"ErrorMessage"}]}`` in request order, which is what ``v3io.dataplane.output.PutRecordsOutput``
reads.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeV3io:
    """What the fake stored: ``records[(container, path)]`` holds the decoded Data bytes."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[bytes]] = {}
        self.requests: list[dict[str, Any]] = []
        self.fail_every: int = 0
        """When > 0, every ``fail_every``-th record of a call fails (a partial failure)."""
        self.status: int = 200
        """Answer every call with this status (e.g. 503: the service is down)."""
        self.lock = threading.Lock()
        self.url = ""

    def stored(self, container: str, path: str) -> list[bytes]:
        with self.lock:
            return list(self.records.get((container, path.strip("/")), []))


def _handler(fake: FakeV3io) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # the SDK keeps connections open

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            function = self.headers.get("X-v3io-function")
            with fake.lock:
                fake.requests.append(
                    {
                        "path": self.path,
                        "function": function,
                        "key": self.headers.get("X-v3io-session-key"),
                    }
                )
                status, fail_every = fake.status, fake.fail_every
            if status != 200:
                self._answer(status, {"ErrorCode": -1, "ErrorMessage": "service unavailable"})
                return
            if function != "PutRecords":
                self._answer(400, {"ErrorMessage": f"unsupported function {function!r}"})
                return
            container, _, path = self.path.strip("/").partition("/")
            results: list[dict[str, Any]] = []
            failed = 0
            with fake.lock:
                store = fake.records.setdefault((container, path.strip("/")), [])
                for i, record in enumerate(json.loads(raw)["Records"], 1):
                    if fail_every and i % fail_every == 0:
                        failed += 1
                        results.append({"ErrorCode": -2, "ErrorMessage": "shard busy"})
                        continue
                    store.append(base64.b64decode(record["Data"]))
                    results.append({"SequenceNumber": len(store), "ShardId": 0})
            self._answer(200, {"FailedRecordCount": failed, "Records": results})

    return Handler


@contextmanager
def fake_v3io() -> Iterator[FakeV3io]:
    """Run the fake on a free port of 127.0.0.1; ``fake.url`` is its web API URL."""
    fake = FakeV3io()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-v3io", daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
