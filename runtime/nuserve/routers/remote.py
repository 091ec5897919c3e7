"""RemoteModel: a model served by another server, reached over HTTP.

``fn.add_model("m", model_url="http://host:8080/v2/models/x")`` (no ``class_name``) forwards
``/v2/models/m/<op>`` to ``<model_url>/<op>`` with the same body and content type, and the
event id as ``X-Request-Id``. Connections are pooled and kept alive (``http_pool``).

- ``timeout`` (seconds, per attempt): no answer in time → 504 (``RemoteTimeout``);
- connection errors and 503 answers are retried ``retries`` times, after ``backoff``,
  ``2 * backoff``, ... seconds; a server still unreachable → 502 naming the URL;
- an error answer keeps its status (400, 404, 405, 413, 422, 429, 500, 503, 504; any other is
  502) and its ``{"error"}`` message, prefixed with the remote URL;
- a JSON answer names the model as it is known here (``model_name``).

It is an async model: the server awaits it in the shared thread pool instead of blocking its
event loop. Inside a router it gets the decoded request and sends it as JSON (MLRun rows).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from nuserve.codec import dump_json
from nuserve.context import ServingContext
from nuserve.errors import (
    BadGateway,
    BadRequest,
    ConfigError,
    MethodNotAllowed,
    ModelError,
    NotFound,
    NotReady,
    NuserveError,
    PayloadTooLarge,
    RemoteTimeout,
)
from nuserve.event import Event, Response
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.protocols import ROWS, Protocol, decode_body, is_raw
from nuserve.routers.fanout import shared_pool

if TYPE_CHECKING:
    from nuserve.routers.http_pool import HttpPool

JSON = "application/json"
MAX_BACKOFF_S = 2.0
ERRORS_BY_STATUS: dict[int, type[NuserveError]] = {
    400: BadRequest,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    500: ModelError,
    504: RemoteTimeout,
}
KEPT_STATUSES = frozenset({*ERRORS_BY_STATUS, 422, 429, 503})
"""Remote error statuses answered as they are; any other becomes 502."""


def bad_gateway(message: str) -> BadGateway:
    """A 502 error: the remote server cannot be reached or answered nonsense."""
    return BadGateway(message)


class RemoteModel(V2ModelServer):
    """Forwards requests to ``model_url`` (``http://`` or ``https://``)."""

    def __init__(
        self,
        context: ServingContext | None = None,
        name: str | None = None,
        model_url: str | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.05,
        max_connections: int = 16,
        **class_args: Any,
    ) -> None:
        super().__init__(context, name, **class_args)
        what = f"remote model '{self.name}'"
        parts = urlsplit(model_url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"{what}: model_url must be http(s)://host[:port]/v2/models/<model> "
                f"(got {model_url!r})"
            )
        for arg, value, low in (("timeout", timeout, 0.0), ("backoff", backoff, 0.0)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
                raise ConfigError(f"{what}: {arg} must be a number ≥ {low} (got {value!r})")
        if timeout <= 0:
            raise ConfigError(f"{what}: timeout must be more than 0 seconds (got {timeout!r})")
        for arg, count, least in (("retries", retries, 0), ("max_connections", max_connections, 1)):
            if isinstance(count, bool) or not isinstance(count, int) or count < least:
                raise ConfigError(f"{what}: {arg} must be an integer ≥ {least} (got {count!r})")
        from nuserve.routers.http_pool import HttpPool  # noqa: PLC0415 - http.client on demand

        self.model_url = (model_url or "").rstrip("/")
        self.path = parts.path.rstrip("/")
        self.timeout, self.retries, self.backoff = float(timeout), retries, float(backoff)
        self.client: HttpPool = HttpPool(
            parts.scheme, parts.hostname, parts.port, self.timeout, max_connections
        )
        weakref.finalize(self, self.client.close)
        self.ready = True
        self.is_async = True

    def infer(self, event: Event, operation: str, protocol: Protocol | None = None) -> Response:
        """Forward one request and answer what the remote answered (sync)."""
        payload, content_type, request = self._payload(event, protocol)
        headers = {"Content-Type": content_type, "X-Request-Id": event.id}
        status, answer_headers, data = self.send(f"{self.path}/{operation}", payload, headers)
        body = _parse(data, answer_headers)
        if status >= 300:
            raise self.remote_error(f"{self.model_url}/{operation}", status, body, answer_headers)
        if type(body) is dict:
            if "model_name" in body:
                body["model_name"] = self.name
                if self.version:
                    body["model_version"] = self.version
            if protocol is not None and protocol is not ROWS:
                body = protocol.encode(body, request)
            return Response(body, status)
        return Response(data, status, content_type=answer_headers.get("content-type", JSON))

    async def infer_async(
        self, event: Event, operation: str, protocol: Protocol | None = None
    ) -> Response:
        """The sync client in the shared pool: the event loop keeps serving meanwhile."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(shared_pool(), self.infer, event, operation, protocol)

    def _payload(
        self, event: Event, protocol: Protocol | None
    ) -> tuple[bytes, str, dict[str, Any]]:
        """The bytes to send: the body as it came, or (decoded by a protocol) as JSON."""
        body = event.body
        if protocol is not None:
            if type(body) is not dict:
                body = decode_body(body, content_type=event.content_type)
            request = protocol.decode(body)
            return dump_json(request), JSON, request
        if isinstance(body, bytes | bytearray | memoryview):
            return bytes(body), event.content_type or JSON, {}
        if isinstance(body, str) and is_raw(body, event.content_type):
            return body.encode(), event.content_type or JSON, {}
        return (b"" if body is None else dump_json(body)), JSON, {}

    def send(
        self, path: str, payload: bytes | None, headers: dict[str, str], method: str = "POST"
    ) -> tuple[int, dict[str, str], bytes]:
        """One exchange, retried on connection errors and 503 answers."""
        attempts = self.retries + 1
        failure = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), MAX_BACKOFF_S))
            try:
                status, answer_headers, data = self.client.request(method, path, payload, headers)
            except TimeoutError:
                raise RemoteTimeout(
                    f"remote model {self.model_url} did not answer within {self.timeout:g} s "
                    "(the timeout= argument of add_model)"
                ) from None
            except OSError as exc:
                failure = f"{type(exc).__name__}: {exc}"
                continue
            if status == 503 and attempt + 1 < attempts:
                continue
            return status, answer_headers, data
        raise bad_gateway(
            f"remote model {self.model_url} is unreachable ({failure}) after {attempts} "
            f"attempt{'s' if attempts > 1 else ''}; is its server running?"
        )

    def remote_error(
        self, url: str, status: int, body: Any, headers: dict[str, str]
    ) -> NuserveError:
        """Our error for the remote's error answer: its status and message, with its URL."""
        detail = body.get("error") if isinstance(body, dict) else None
        if not isinstance(detail, str):
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
            detail = text.strip()[:200] or "(empty body)"
        message = f"{url} answered {status}: {detail}"
        if status == 503:
            retry_after = headers.get("retry-after", "1")
            return NotReady(message, retry_after=int(retry_after) if retry_after.isdigit() else 1)
        error_class = ERRORS_BY_STATUS.get(status)
        if error_class is not None:
            return error_class(message)
        if status in KEPT_STATUSES:
            error = NuserveError(message)
            error.status = status
            return error
        return bad_gateway(message)

    def metadata(self) -> dict[str, Any]:
        """The remote's metadata under our name, or ours with the reason it is missing."""
        local = {**super().metadata(), "remote": self.model_url}
        try:
            status, headers, data = self.client.request("GET", self.path, None, {})
        except OSError as exc:  # TimeoutError included
            return {**local, "remote_error": f"{type(exc).__name__}: {exc}"}
        body = _parse(data, headers)
        if status != 200 or not isinstance(body, dict):
            return {**local, "remote_error": f"{self.model_url} answered {status}"}
        return {**body, "name": self.name, "versions": local["versions"], "remote": self.model_url}

    def close(self) -> None:
        """Close the pooled connections (also done when the model is garbage-collected)."""
        self.client.close()


def _parse(data: bytes, headers: dict[str, str]) -> Any:
    """JSON bodies decoded; anything else stays bytes."""
    if "json" in headers.get("content-type", "") and data:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return data
    return data
