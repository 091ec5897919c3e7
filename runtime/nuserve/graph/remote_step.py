"""RemoteStep and BatchHttpRequests: flow steps calling HTTP endpoints (MLRun's ``$remote``).

``graph.to("$remote", "name", url=..., method=...)`` or ``graph.to(RemoteStep(...))`` sends
the step's input (``input_path`` picks it) to the URL and passes the answer on (into
``result_path``). The URL is ``url``, extended by ``subpath`` (``"$path"``: the event's
path), or computed per event by ``url_expression`` (of ``event`` and ``endpoint``, the url);
``body_expression`` picks the body to send. The method is ``method``, else the event's. The
event's id and path go out as ``MLRUN-EVENT-ID`` / ``MLRUN-EVENT-PATH``; the caller's
headers are not forwarded (only ``headers=``). Connection errors and 5xx answers are retried
``retries`` times (default 6) with backoff; an answer of 400 or more fails the event with 502
naming the URL and the remote's status; no answer within ``timeout`` seconds is a 504.

Connections come from the pooled client (``nuserve.routers.http_pool``), one pool per host;
in the async engine the call runs in the shared thread pool so the event loop keeps serving.
Expressions are nuserve's restricted expressions (``nuserve.graph.expression``), never eval.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from nuserve.codec import dump_json
from nuserve.errors import BadGateway, ConfigError, RemoteTimeout
from nuserve.event import Event
from nuserve.graph.expression import Expression
from nuserve.routers.fanout import shared_pool
from nuserve.spec.routers import class_ref

if TYPE_CHECKING:
    from nuserve.routers.http_pool import HttpPool

EVENT_ID_KEY = "MLRUN-EVENT-ID"
EVENT_PATH_KEY = "MLRUN-EVENT-PATH"
DEFAULT_RETRIES = 6
DEFAULT_BACKOFF = 0.05
MAX_BACKOFF_S = 2.0
RETRIED_STATUSES = frozenset({500, 502, 503, 504})


class _Pools:
    """One keep-alive pool per ``scheme://host:port`` (a url_expression may name many)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._pools: dict[tuple[str, str, int | None], HttpPool] = {}
        self._lock = threading.Lock()

    def get(self, scheme: str, host: str, port: int | None) -> HttpPool:
        key = (scheme, host, port)
        pool = self._pools.get(key)
        if pool is None:
            from nuserve.routers.http_pool import HttpPool  # noqa: PLC0415 - http.client on demand

            with self._lock:
                pool = self._pools.setdefault(key, HttpPool(scheme, host, port, self.timeout))
        return pool

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


class _HttpCaller:
    """What RemoteStep and BatchHttpRequests share: arguments, expressions, the exchange."""

    kind = "remote step"

    def __init__(
        self,
        url: str | None = None,
        subpath: str | None = None,
        method: str | None = None,
        headers: dict[str, str] | None = None,
        url_expression: str | None = None,
        body_expression: str | None = None,
        return_json: bool = True,
        input_path: str | None = None,
        result_path: str | None = None,
        max_in_flight: int | None = None,
        retries: int | None = None,
        backoff_factor: float | None = None,
        timeout: float | None = None,
        name: str | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> None:
        self.name = name or type(self).__name__
        self.context = context
        self.url, self.subpath, self.method = url, subpath, method
        self.headers = dict(headers or {})
        self.url_expression, self.body_expression = url_expression, body_expression
        self.return_json = return_json
        self.input_path, self.result_path = input_path, result_path
        self.max_in_flight = max_in_flight
        self.retries = DEFAULT_RETRIES if retries is None else retries
        self.backoff_factor = backoff_factor
        self.timeout = timeout
        self.kwargs = kwargs
        where = f"{self.kind} {self.name!r}"
        if not url and not url_expression:
            raise ConfigError(f"{where} needs url= or url_expression=")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ConfigError(f"{where}: retries must be an integer ≥ 0 (got {retries!r})")
        if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
            raise ConfigError(f"{where}: timeout must be more than 0 seconds (got {timeout!r})")
        self._url_of = (
            Expression(url_expression, ("event", "endpoint"), f"{where} url_expression")
            if url_expression
            else None
        )
        self._body_of = (
            Expression(body_expression, ("event",), f"{where} body_expression")
            if body_expression
            else None
        )
        self._pools = _Pools(float(timeout) if timeout else 60.0)
        self._limit = threading.BoundedSemaphore(max_in_flight) if max_in_flight else None

    def to_dict(self) -> dict[str, Any]:
        """MLRun's shape: the class path, the name, the given arguments under class_args."""
        args = {
            "url": self.url, "subpath": self.subpath, "method": self.method,
            "headers": self.headers or None, "url_expression": self.url_expression,
            "body_expression": self.body_expression, "return_json": self.return_json,
            "max_in_flight": self.max_in_flight, "retries": self.retries,
            "backoff_factor": self.backoff_factor, "timeout": self.timeout, **self.kwargs,
        }  # fmt: skip
        data: dict[str, Any] = {
            "class_name": class_ref(type(self)),
            "name": self.name,
            "class_args": {k: v for k, v in args.items() if v is not None},
        }
        for key in ("input_path", "result_path"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    # ----- one exchange -------------------------------------------------------------------

    def request_for(self, body: Any, event: Event) -> tuple[str, str, dict[str, str], Any]:
        """``(method, url, headers, body)`` as MLRun builds them."""
        method = (self.method or event.method or "POST").upper()
        headers = dict(self.headers)
        if self._url_of is not None:
            url = str(self._url_of(body, self.url or ""))
        else:
            url = self.url or ""
            path = event.path.lstrip("/")
            if self.subpath == "$path":
                url = url.rstrip("/") + "/" + path
            elif self.subpath:
                url = url.rstrip("/") + "/" + self.subpath.lstrip("/")
            if path:
                headers[EVENT_PATH_KEY] = event.path
        if event.id:
            headers[EVENT_ID_KEY] = str(event.id)
        if self._body_of is not None and body is not None:
            body = self._body_of(body)
        return method, url, headers, None if method == "GET" else body

    def exchange(self, method: str, url: str, headers: dict[str, str], body: Any) -> Any:
        """Send, retrying connection errors and 5xx answers; the answer's body decoded."""
        parts = urlsplit(url)
        where = f"{self.kind} {self.name!r}"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadGateway(f"{where}: cannot call {url!r}: not an http(s) URL")
        payload: bytes | None
        if body is None or isinstance(body, bytes | bytearray):
            payload = bytes(body) if body is not None else None
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = dump_json(body)
            headers.setdefault("Content-Type", "application/json")
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        pool = self._pools.get(parts.scheme, parts.hostname, parts.port)
        attempts = self.retries + 1
        backoff = DEFAULT_BACKOFF if self.backoff_factor is None else self.backoff_factor
        failure = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(min(backoff * 2 ** (attempt - 1), MAX_BACKOFF_S))
            try:
                if self._limit is not None:
                    with self._limit:
                        status, answer_headers, data = pool.request(
                            method, target, payload, headers
                        )
                else:
                    status, answer_headers, data = pool.request(method, target, payload, headers)
            except TimeoutError:
                raise RemoteTimeout(
                    f"{where}: {method} {url} timed out (no answer within {self.timeout:g} s)"
                ) from None
            except OSError as exc:
                failure = f"{type(exc).__name__}: {exc}"
                continue
            if status in RETRIED_STATUSES and attempt + 1 < attempts:
                continue
            if status >= 400:
                text = data.decode("utf-8", "replace").strip()[:200]
                raise BadGateway(f"{where}: {method} {url} answered {status}: {text}")
            return self._decode(data, answer_headers)
        raise BadGateway(
            f"{where}: cannot reach {url} ({failure}) after {attempts} "
            f"attempt{'s' if attempts > 1 else ''}"
        )

    def _decode(self, data: bytes, headers: dict[str, str]) -> Any:
        if self.return_json or headers.get("content-type", "").startswith("application/json"):
            if not data:
                return None
            try:
                return orjson.loads(data)
            except orjson.JSONDecodeError:
                return data
        return data

    def close(self) -> None:
        self._pools.close()


class RemoteStep(_HttpCaller):
    """Send the step's input to an HTTP endpoint; its answer is the step's output."""

    kind = "remote step"

    def __init__(self, url: str | None = None, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)

    def step_call(self, body: Any, event: Event) -> Any:
        return self.exchange(*self.request_for(body, event))

    async def step_call_async(self, body: Any, event: Event) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(shared_pool(), self.step_call, body, event)


class BatchHttpRequests(_HttpCaller):
    """Send one request per element of the input list, concurrently; the output is the list
    of answers, in order (a failure of any fails the step)."""

    kind = "batch http step"

    def __init__(self, url: str | None = None, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self._executor: ThreadPoolExecutor | None = None

    def step_call(self, body: Any, event: Event) -> Any:
        items = body if isinstance(body, list) else [body]
        if len(items) <= 1:
            return [self.exchange(*self.request_for(item, event)) for item in items]
        pool = shared_pool()
        futures = [pool.submit(self.exchange, *self.request_for(item, event)) for item in items]
        return [future.result() for future in futures]

    async def step_call_async(self, body: Any, event: Event) -> Any:
        items = body if isinstance(body, list) else [body]
        loop = asyncio.get_running_loop()
        calls = [
            loop.run_in_executor(shared_pool(), self.exchange, *self.request_for(item, event))
            for item in items
        ]
        return list(await asyncio.gather(*calls))
