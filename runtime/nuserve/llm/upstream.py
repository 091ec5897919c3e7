"""An upstream OpenAI-compatible server as the engine (``engine="openai"``): vLLM, a
llama.cpp server, another nuserve, or OpenAI itself, reached at ``model_url`` like a
remote model.

Chat messages go to its ``/chat/completions`` and text prompts to its ``/completions``, always
streamed (with ``include_usage``), so this side streams too and counts what the upstream
counted. Its errors come back with its status and message; one it cannot be reached on is a
502. The read happens in a worker thread; closing the generation closes the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import threading
from collections.abc import AsyncGenerator, Callable
from typing import Any
from urllib.parse import urlsplit

import orjson

from nuserve.errors import ConfigError
from nuserve.llm.engine import Done, Prompt
from nuserve.llm.errors import OpenAIError
from nuserve.llm.params import GenerationParams
from nuserve.routers.http_pool import HttpPool

_END = object()


class UpstreamEngine:
    """Generation and embeddings by an OpenAI-compatible server at ``base_url`` (``.../v1``)."""

    context_length: int | None = None

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout: float = 60.0
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"model_url {base_url!r} is not an http(s) URL of an OpenAI-compatible API"
            )
        self.base_url = base_url.rstrip("/")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.path = parts.path.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.pool = HttpPool(parts.scheme, parts.hostname, parts.port, timeout)
        self._threads: set[threading.Thread] = set()

    def describe(self) -> dict[str, Any]:
        return {"engine": "openai-compatible", "url": self.base_url, "model": self.model}

    def _payload(self, prompt: Prompt, params: GenerationParams) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if params.stop:
            body["stop"] = params.stop
        if params.json_schema is not None:
            body["response_format"] = (
                {
                    "type": "json_schema",
                    "json_schema": {"name": "answer", "schema": params.json_schema},
                }
                if params.json_schema
                else {"type": "json_object"}
            )
        if prompt.messages is not None:
            body["messages"] = prompt.messages
            return f"{self.path}/chat/completions", body
        body["prompt"] = prompt.text or ""
        return f"{self.path}/completions", body

    async def generate(
        self, prompt: Prompt, params: GenerationParams, deadline: float | None
    ) -> AsyncGenerator[str | Done, None]:
        path, body = self._payload(prompt, params)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()

        def put(item: Any) -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, item)

        job = loop.run_in_executor(None, self._read, path, orjson.dumps(body), put, stop)
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            with contextlib.suppress(BaseException):
                await asyncio.shield(job)

    def _connection(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _read(
        self, path: str, body: bytes, put: Callable[[Any], None], stop: threading.Event
    ) -> None:
        """One streamed request, in a worker thread: SSE lines in, pieces and ``Done`` out."""
        conn = self._connection()
        try:
            conn.request("POST", path, body=body, headers=self.headers)
            response = conn.getresponse()
            if response.status >= 400:
                put(upstream_error(response.status, response.read(), self.base_url))
                return
            finish, usage = "stop", {"prompt_tokens": 0, "completion_tokens": 0}
            for raw in response:
                if stop.is_set():
                    return
                line = raw.strip()
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    break
                chunk = orjson.loads(data)
                if chunk.get("usage"):
                    usage = chunk["usage"]
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta")
                    text = delta.get("content") if isinstance(delta, dict) else choice.get("text")
                    if text:
                        put(text)
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
            put(
                Done(
                    finish,
                    int(usage.get("prompt_tokens", 0)),
                    int(usage.get("completion_tokens", 0)),
                )
            )
        except (OSError, http.client.HTTPException, ValueError) as exc:
            put(OpenAIError(f"upstream {self.base_url} failed: {type(exc).__name__}: {exc}", 502))
        finally:
            conn.close()
            put(_END)

    async def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        body = orjson.dumps({"model": self.model, "input": texts, "encoding_format": "float"})
        try:
            status, _, data = await asyncio.to_thread(
                self.pool.request, "POST", f"{self.path}/embeddings", body, self.headers
            )
        except OSError as exc:
            raise OpenAIError(f"upstream {self.base_url} failed: {exc}", 502) from exc
        if status >= 400:
            raise upstream_error(status, data, self.base_url)
        answer = orjson.loads(data)
        vectors = [item["embedding"] for item in sorted(answer["data"], key=lambda d: d["index"])]
        return vectors, int((answer.get("usage") or {}).get("prompt_tokens", 0))

    def close(self) -> None:
        self.pool.close()


def upstream_error(status: int, data: bytes, url: str) -> OpenAIError:
    """The upstream's error, with its status and message (OpenAI's shape or nuserve's)."""
    try:
        error = orjson.loads(data).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        message = str(error.get("message"))
        return OpenAIError(message, status, error.get("param"), error.get("code"))
    text = error if isinstance(error, str) else data[:200].decode("utf-8", "replace")
    return OpenAIError(f"upstream {url} answered {status}: {text}", status)
