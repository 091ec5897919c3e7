"""The HTTP floor of bench/llm.py: a bare ASGI app that streams llama-cpp-python's tokens as SSE.

Every POST is a completion: the body is read and parsed (orjson), ``Llama.create_completion``
runs with ``stream=True`` right on the event loop (one request at a time: nothing else is
waiting), and each chunk goes out as ``data: {chunk}\\n\\n`` on a chunked response, then a usage
chunk and ``data: [DONE]``. The same uvicorn http and loop implementations as ``nuserve serve``
(``nuserve.serve.workers.best_available``). What this costs over calling llama-cpp-python in
process is HTTP's own share of time to first token; what ``nuserve serve`` costs over this is
nuserve's.

Run: ``python bench/llm_floor.py --model FILE.gguf --port 8082 [--threads 1]``
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson
import uvicorn

from nuserve.serve.types import Receive, Scope, Send
from nuserve.serve.workers import best_available

HTTP = best_available("httptools", "h11")
LOOP = best_available("uvloop", "asyncio")
HEAD = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


class FloorApp:
    def __init__(self, model: str, threads: int) -> None:
        from llama_cpp import Llama  # noqa: PLC0415 - the llm extra

        self.llama = Llama(
            model, n_ctx=0, n_threads=threads, n_threads_batch=threads, verbose=False
        )
        steps = self.llama.generate([self.llama.token_bos()], temp=0.0)  # allocate at load
        next(steps, None)
        steps.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["method"] == "GET":  # readiness
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        request: dict[str, Any] = orjson.loads(b"".join(chunks))
        await send({"type": "http.response.start", "status": 200, "headers": HEAD})
        completion = 0
        prompt = 0
        for chunk in self.llama.create_completion(
            request["prompt"],
            max_tokens=request["max_tokens"],
            temperature=request.get("temperature", 0),
            stream=True,
        ):
            if chunk["choices"][0]["finish_reason"] is None:
                completion += 1
            body = b"data: " + orjson.dumps(chunk) + b"\n\n"
            await send({"type": "http.response.body", "body": body, "more_body": True})
        prompt = self.llama.n_tokens - completion
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        tail = b"data: " + orjson.dumps({"choices": [], "usage": usage}) + b"\n\ndata: [DONE]\n\n"
        await send({"type": "http.response.body", "body": tail, "more_body": False})


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def main() -> None:
    parser = argparse.ArgumentParser(description="the bare ASGI floor for bench/llm.py")
    parser.add_argument("--model", required=True, help="a GGUF file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    app = FloorApp(args.model, args.threads)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        http=HTTP,
        loop=LOOP,
        access_log=False,
        log_level="warning",
        ws="none",
        lifespan="on",
    )


if __name__ == "__main__":
    main()
