"""A small keep-alive HTTP/1.1 connection pool for one host, on the standard library.

Thread-safe: each connection serves one thread at a time; idle ones wait in a LIFO stack
(the most recently used is the likeliest still open). A server may close an idle keep-alive
connection at any time, so a request that fails that way on a reused connection is sent
once more on a fresh one; every other failure is the caller's to handle (and retry).
Imported only when a remote model is built: ``import nuserve`` stays free of ``http.client``.
"""

from __future__ import annotations

import http.client
import threading

STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
"""How a reused connection that the server had closed fails."""


class HttpPool:
    """Connections to ``scheme://host:port`` with a timeout; at most ``size`` kept idle."""

    def __init__(
        self, scheme: str, host: str, port: int | None, timeout: float, size: int = 16
    ) -> None:
        self.scheme, self.host, self.port = scheme, host, port
        self.timeout = timeout
        self.size = size
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._closed = False

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """``(status, headers with lower-case names, body)``.

        Raises ``TimeoutError`` when the host does not answer in time and ``OSError``
        (``ConnectionError`` for protocol errors) when it cannot be reached or talked to.
        """
        conn, reused = self._take()
        try:
            return self._exchange(conn, method, path, body, headers)
        except STALE:
            if not reused:
                raise
        return self._exchange(self._new(), method, path, body, headers)

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except BaseException as exc:
            conn.close()
            if isinstance(exc, http.client.HTTPException) and not isinstance(exc, STALE):
                raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
            raise
        answer = {name.lower(): value for name, value in response.getheaders()}
        if response.will_close:
            conn.close()
        else:
            self._give(conn)
        return response.status, answer, data

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._new(), False

    def _new(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _give(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self.size:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close the idle connections; those in use close when they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
