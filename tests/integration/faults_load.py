"""A bounded HTTP load for the fault tests: threads sending requests, every outcome noted.

Each thread sends requests one after the other until ``stop()`` or its deadline, on a
keep-alive connection (reopened after a failure) or on a fresh connection per request, and
records when each began and ended, its status and body, or the error that ended it. Tests
then count the failures and say exactly which ones a fault may cause.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Outcome:
    """One request: ``status`` is ``None`` when the connection failed (``error`` says how)."""

    number: int
    client: int
    """Which load thread sent it."""
    began: float
    ended: float
    status: int | None
    body: bytes
    error: str
    keep_alive: bool


class HttpLoad:
    """``threads`` clients (the first ``keep_alive`` of them reuse their connection)."""

    def __init__(
        self,
        port: int,
        path: str,
        body: Callable[[int], bytes],
        threads: int = 4,
        keep_alive: int = 2,
        timeout: float = 10.0,
        limit_s: float = 60.0,
        pause_s: float = 0.0,
    ) -> None:
        self.port, self.path, self.body = port, path, body
        self.timeout, self.pause_s = timeout, pause_s
        self.deadline = time.monotonic() + limit_s
        self.halt = threading.Event()
        self.outcomes: list[Outcome] = []
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._client, args=(i, i < keep_alive), daemon=True)
            for i in range(threads)
        ]

    def start(self) -> HttpLoad:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> list[Outcome]:
        """Stop sending and wait for the requests in flight (each bounded by ``timeout``)."""
        self.halt.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
        assert not any(t.is_alive() for t in self._threads), "a load thread did not stop"
        with self._lock:
            return sorted(self.outcomes, key=lambda o: o.number)

    def count(self) -> int:
        with self._lock:
            return len(self.outcomes)

    def done(self) -> list[Outcome]:
        """The outcomes so far (a copy; the load goes on)."""
        with self._lock:
            return list(self.outcomes)

    def _client(self, client: int, keep_alive: bool) -> None:
        conn: http.client.HTTPConnection | None = None
        headers = {"Content-Type": "application/json"}
        while not self.halt.is_set() and time.monotonic() < self.deadline:
            number = next(self._numbers)
            body = self.body(number)
            if conn is None:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            began = time.monotonic()
            try:
                conn.request("POST", self.path, body=body, headers=headers)
                response = conn.getresponse()
                status, data, error = response.status, response.read(), ""
            except (OSError, http.client.HTTPException) as exc:
                status, data, error = None, b"", f"{type(exc).__name__}: {exc}"
            outcome = Outcome(
                number, client, began, time.monotonic(), status, data, error, keep_alive
            )
            with self._lock:
                self.outcomes.append(outcome)
            if status is None or not keep_alive:
                conn.close()
                conn = None
            if self.pause_s:
                self.halt.wait(self.pause_s)
        if conn is not None:
            conn.close()
