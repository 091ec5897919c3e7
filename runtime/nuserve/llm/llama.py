"""The default engine: llama-cpp-python running a GGUF model on the CPU.

Each slot is its own ``Llama`` (its own context and KV cache) used by one generation at a
time, so streams in different slots interleave token by token. A generation runs in a worker
thread (llama.cpp releases the GIL while it decodes) and hands each piece to the event loop;
it checks a stop flag before every decode step, so a client that leaves stops its generation
within one step and the slot is free again. Embeddings come from one more ``Llama`` on the
same file, loaded in embedding mode (mean pooling) on first use.
"""

from __future__ import annotations

import asyncio
import codecs
import concurrent.futures
import contextlib
import json
import os
import threading
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any

from nuserve.errors import ConfigError
from nuserve.llm.engine import STARTED, Done, Item, Prompt
from nuserve.llm.errors import OpenAIError
from nuserve.llm.params import GenerationParams
from nuserve.llm.stops import StopScanner

_END = object()
FIRST_PIECE_WAIT_S = 0.005
"""The longest a generation waits for its first piece to be passed on before decoding on."""


def _llama_cpp() -> Any:
    try:
        import llama_cpp  # noqa: PLC0415 - the llm extra
    except ImportError as exc:
        raise ConfigError(
            "the llama engine needs llama-cpp-python: pip install 'nuserve[llm]'"
        ) from exc
    return llama_cpp


class LlamaEngine:
    """``slots`` llama.cpp contexts on one GGUF file."""

    def __init__(
        self,
        model_path: str,
        n_ctx: int = 0,
        slots: int = 1,
        threads: int | None = None,
        chat_template: str | None = None,
    ) -> None:
        if not model_path or not os.path.isfile(model_path):
            raise ConfigError(
                f"the llama engine needs a GGUF file as model_path (got {model_path!r})"
            )
        llama_cpp = _llama_cpp()
        self.model_path = model_path
        self.threads = threads
        self._llama_cpp = llama_cpp
        self._slots: list[Any] = [self._open(n_ctx) for _ in range(max(1, slots))]
        first = self._slots[0]
        self.context_length: int | None = int(first.n_ctx())
        self.eos = int(first.token_eos())
        template = chat_template or first.metadata.get("tokenizer.chat_template")
        self._format: Callable[..., Any] | None = None
        if template:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter  # noqa: PLC0415

            vocab_token = first._model.token_get_text
            self._format = Jinja2ChatFormatter(
                template, eos_token=vocab_token(self.eos), bos_token=vocab_token(first.token_bos())
            )
        for llama in self._slots:  # a context's first decode allocates: pay it at load
            steps = llama.generate([llama.token_bos()], temp=0.0)
            next(steps, None)
            steps.close()
        self._n_ctx = n_ctx
        self._embedder: Any = None
        self._embed_lock = threading.Lock()
        self._threads = concurrent.futures.ThreadPoolExecutor(
            len(self._slots) + 1, thread_name_prefix="llama"
        )

    def _open(self, n_ctx: int, embedding: bool = False) -> Any:
        kwargs: dict[str, Any] = {"n_ctx": n_ctx, "verbose": False, "embedding": embedding}
        if self.threads:
            kwargs["n_threads"] = kwargs["n_threads_batch"] = self.threads
        if embedding:
            kwargs["pooling_type"] = self._llama_cpp.LLAMA_POOLING_TYPE_MEAN
        return self._llama_cpp.Llama(self.model_path, **kwargs)

    def describe(self) -> dict[str, Any]:
        return {
            "engine": "llama-cpp-python",
            "version": getattr(self._llama_cpp, "__version__", ""),
            "context_length": self.context_length,
            "slots": len(self._slots),
        }

    def prompt_text(self, prompt: Prompt) -> tuple[str, list[str]]:
        """The prompt as text (chat messages through the model's template) and the stops the
        template adds."""
        if prompt.messages is None:
            return prompt.text or "", []
        if self._format is None:
            text = "".join(f"{m['role']}: {m['content']}\n" for m in prompt.messages)
            return text + "assistant:", []
        formatted = self._format(messages=prompt.messages)
        stop = formatted.stop
        stops = [stop] if isinstance(stop, str) else list(stop or [])
        return formatted.prompt, [s for s in stops if s]

    async def generate(
        self, prompt: Prompt, params: GenerationParams, deadline: float | None
    ) -> AsyncGenerator[Item, None]:
        if not self._slots:
            raise OpenAIError("no free llama.cpp slot (more generations than slots)", 503)
        llama = self._slots.pop()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()
        sent = threading.Event()
        job: asyncio.Future[None] | None = None
        try:
            text, template_stops = self.prompt_text(prompt)
            tokens = llama.tokenize(text.encode(), add_bos=True, special=True)
            limit = self.context_length or 0
            if limit and len(tokens) >= limit:
                raise OpenAIError(
                    f"the prompt is {len(tokens)} tokens, and this model's context is {limit} "
                    f"tokens (prompt and completion together); send a shorter {prompt.param}",
                    400,
                    prompt.param,
                    "context_length_exceeded",
                )
            max_tokens = min(params.max_tokens, limit - len(tokens)) if limit else params.max_tokens
            grammar = self._grammar(params.json_schema)  # a schema it cannot take: a 400, here
            put = _putter(loop, queue)
            job = loop.run_in_executor(
                self._threads,
                self._run,
                llama,
                tokens,
                params,
                grammar,
                max_tokens,
                [*params.stop, *template_stops],
                put,
                stop,
                sent,
                deadline,
            )
            # the prompt is decoding: a stream's head goes out now, while the client waits
            yield STARTED
            while True:
                item = await queue.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
                sent.set()  # the consumer is back for more: the first piece has gone on
        finally:
            sent.set()
            stop.set()
            if job is not None:
                with contextlib.suppress(BaseException):
                    await asyncio.shield(job)
            self._slots.append(llama)

    def _run(
        self,
        llama: Any,
        tokens: list[int],
        params: GenerationParams,
        grammar: Any,
        max_tokens: int,
        stops: list[str],
        put: Callable[[Any], None],
        stop: threading.Event,
        sent: threading.Event,
        deadline: float | None,
    ) -> None:
        """One generation, in a worker thread; pieces go to the loop through ``put``.

        After the first piece it waits (``FIRST_PIECE_WAIT_S`` at most) until the loop has
        passed that piece on (``sent``) before it decodes the next token: the next decode
        would otherwise take a core and the GIL from the event loop (and, on a busy machine,
        from the client) just when the first token is on its way: time to first token.
        """
        try:
            if params.seed is not None:
                llama.set_seed(params.seed & 0xFFFFFFFF)
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            scanner = StopScanner(stops)
            written, finish = 0, "length"
            waiting = True
            history = list(tokens)
            vocab, is_eog = llama._model.vocab, self._llama_cpp.llama_vocab_is_eog
            steps = llama.generate(
                tokens,
                top_k=0,
                top_p=params.top_p,
                min_p=0.0,
                temp=params.temperature,
                repeat_penalty=1.0,
                grammar=grammar,
                reset=True,
            )
            if max_tokens > 0:
                for token in steps:
                    if stop.is_set():
                        finish = "cancelled"
                        break
                    if token == self.eos or is_eog(vocab, token):
                        finish = "stop"
                        break
                    written += 1
                    piece = decoder.decode(llama.detokenize([token], prev_tokens=history))
                    history.append(token)
                    text = scanner.feed(piece)
                    if text:
                        put(text)
                        if waiting:  # once: the first piece
                            waiting = False
                            sent.wait(FIRST_PIECE_WAIT_S)
                    if scanner.stopped:
                        finish = "stop"
                        break
                    if written >= max_tokens:
                        break
                    if deadline is not None and time.monotonic() > deadline:
                        put(OpenAIError("the generation overran request_timeout", 504))
                        return
            steps.close()
            if finish != "cancelled":
                tail = ("" if scanner.stopped else scanner.flush()) + decoder.decode(b"", True)
                if tail:
                    put(tail)
                put(Done(finish, len(tokens), written))
        except BaseException as exc:  # noqa: BLE001 - handed to the loop, raised there
            put(exc)
        finally:
            put(_END)

    def _grammar(self, schema: dict[str, Any] | None) -> Any:
        if schema is None:
            return None
        grammars = self._llama_cpp.llama_grammar
        if not schema:
            return grammars.LlamaGrammar.from_string(grammars.JSON_GBNF, verbose=False)
        try:
            return grammars.LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        except Exception as exc:
            raise OpenAIError(
                f"response_format's JSON schema cannot constrain generation: {exc}",
                400,
                "response_format",
            ) from exc

    async def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        return await asyncio.get_running_loop().run_in_executor(self._threads, self._embed, texts)

    def _embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        with self._embed_lock:
            if self._embedder is None:
                self._embedder = self._open(self._n_ctx, embedding=True)
            limit = self.context_length or 0
            for i, text in enumerate(texts):
                count = len(self._embedder.tokenize(text.encode(), add_bos=True))
                if limit and count > limit:
                    raise OpenAIError(
                        f"input {i} is {count} tokens, over this model's context of {limit}",
                        400,
                        "input",
                        "context_length_exceeded",
                    )
            vectors, tokens = self._embedder.embed(texts, return_count=True)
            return [list(map(float, v)) for v in vectors], int(tokens)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        for llama in self._slots:
            with contextlib.suppress(Exception):
                llama.close()
        if self._embedder is not None:
            with contextlib.suppress(Exception):
                self._embedder.close()


def _putter(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any]) -> Callable[[Any], None]:
    def put(item: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
            loop.call_soon_threadsafe(queue.put_nowait, item)

    return put
