"""The floor for the HTTP benchmark: a raw ASGI app doing only the iris request's own work.

It reads the body, parses the JSON (orjson), runs the sklearn model's ``predict`` on the rows
and answers ``{"outputs": [...]}`` as JSON, under uvicorn with the same http and loop
implementations ``nuserve serve`` picks (``nuserve.serve.workers.best_available``).

Run: ``python bench/bare_asgi.py --model MODEL_DIR --port 8081`` (``--zero``: no model, a zero
per row: the floor of bench/framework_cost.py's zero model)
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import orjson
import uvicorn

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def best_available(*names: str) -> str:
    """``nuserve.serve.workers.best_available``, copied: the floor imports nothing of nuserve
    (bench/cold_start.py compares start-up times)."""
    return next((n for n in names[:-1] if importlib.util.find_spec(n) is not None), names[-1])


HTTP = best_available("httptools", "h11")
LOOP = best_available("uvloop", "asyncio")


class BareApp:
    """One model, one route: every POST is an inference request."""

    def __init__(self, model_file: Path | None) -> None:
        self.model: Any = None
        if model_file is not None:
            with model_file.open("rb") as file:
                self.model = cloudpickle.load(file)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        try:
            request = orjson.loads(b"".join(chunks))
            rows = request["inputs"]
            if self.model is None:  # the zero floor: the framework-free cost of a request
                outputs = [0] * len(rows)
            else:
                outputs = self.model.predict(np.asarray(rows)).tolist()
            status, body = 200, orjson.dumps({"outputs": outputs})
        except Exception as exc:
            status, body = 400, orjson.dumps({"error": f"{type(exc).__name__}: {exc}"})
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def main() -> None:
    parser = argparse.ArgumentParser(description="the bare ASGI floor for the iris benchmark")
    parser.add_argument("--model", help="model artifact dir (holds model.pkl)")
    parser.add_argument("--zero", action="store_true", help="no model: answer a zero per row")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    if not args.zero and not args.model:
        parser.error("give --model MODEL_DIR, or --zero")
    app = BareApp(None if args.zero else Path(args.model) / "model.pkl")
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        http=HTTP,
        loop=LOOP,
        ws="none",
        lifespan="on",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
