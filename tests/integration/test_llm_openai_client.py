"""The official ``openai`` client (sync and async, streamed and not) against a running
``nuserve serve`` that serves the tiny GGUF on llama.cpp: models, chat, completions,
embeddings, responses; a streamed text joined equals the whole one (temperature 0, one
seed); the usage chunk comes last and adds up. Then the serving side: streams interleave, a
client that leaves frees its slot (no 500 logged), a full line is a 503 with Retry-After, and
an upstream engine (``engine="openai"``) serves this same server under another name."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.serve_models import Served, request, serve, write_function_yaml

pytestmark = pytest.mark.integration
openai = pytest.importorskip("openai")
pytest.importorskip("llama_cpp")  # CI installs the llm extra (tests/run.sh): this never skips there

MESSAGES = [{"role": "user", "content": "tell me about the water"}]


@pytest.fixture(scope="module")
def served(tiny_gguf: Path, tmp_path_factory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("llm-serve")

    def configure(fn) -> None:
        fn.add_model("tiny", class_name="LLModel", model_path=str(tiny_gguf), slots=2, max_queue=1)

    spec = write_function_yaml(tmp / "function.yaml", {"e": "tests.serve_models.CountingEcho"}, configure=configure)
    with serve(spec, workers=1, timeout=60) as server:
        yield server


@pytest.fixture
def client(served: Served):
    with openai.OpenAI(base_url=f"http://127.0.0.1:{served.port}/v1", api_key="none", max_retries=0, timeout=30) as c:
        yield c


def test_models_list_and_retrieve(client) -> None:
    assert [m.id for m in client.models.list()] == ["tiny"]
    assert client.models.retrieve("tiny").id == "tiny"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=MESSAGES)


def test_chat_streamed_joins_to_the_whole_text_and_usage_is_last(client) -> None:
    kwargs = {"model": "tiny", "messages": MESSAGES, "temperature": 0, "seed": 3, "max_tokens": 16}
    whole = client.chat.completions.create(**kwargs)
    text = whole.choices[0].message.content
    assert text and whole.usage.completion_tokens == 16
    assert whole.usage.total_tokens == whole.usage.prompt_tokens + 16
    chunks = list(client.chat.completions.create(**kwargs, stream=True, stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
    assert all(c.usage is None for c in chunks[:-1])
    assert "".join(c.choices[0].delta.content or "" for c in chunks[:-1]) == text


def test_completions_streamed_and_not(client) -> None:
    kwargs = {"model": "tiny", "prompt": "the water", "temperature": 0, "max_tokens": 10}
    whole = client.completions.create(**kwargs)
    streamed = "".join(c.choices[0].text for c in client.completions.create(**kwargs, stream=True))
    assert streamed == whole.choices[0].text and whole.usage.completion_tokens == 10


def test_embeddings_as_the_client_asks_them(client) -> None:
    answer = client.embeddings.create(model="tiny", input=["one", "two"])  # base64 by default
    assert len(answer.data) == 2 and len(answer.data[0].embedding) == 64
    floats = client.embeddings.create(model="tiny", input="one", encoding_format="float")
    assert floats.data[0].embedding == pytest.approx(answer.data[0].embedding, rel=1e-5)


def test_responses_create_and_stream(client) -> None:
    kwargs = {"model": "tiny", "input": "hello", "max_output_tokens": 8, "temperature": 0}
    whole = client.responses.create(**kwargs)
    assert whole.output_text and whole.usage.output_tokens == 8
    events = list(client.responses.create(**kwargs, stream=True))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == whole.output_text
    assert events[-1].response.usage.output_tokens == 8


def test_bad_input_is_a_400_naming_the_field(client) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="tiny", messages=[])
    assert caught.value.body["param"] == "messages"
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model="tiny", prompt="the " * 400)
    assert "256" in caught.value.message


def test_async_client_streams_interleave(served: Served) -> None:
    """Two streams at once (two slots): each one's first chunk comes before the other's last
    (neither waits for the other's whole completion), and both write the same text."""

    async def scenario() -> dict[str, tuple[float, float, str]]:
        async with openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{served.port}/v1", api_key="none", max_retries=0, timeout=30) as c:
            seen: dict[str, tuple[float, float, str]] = {}
            await c.models.list()  # the client's first call pays for its setup (platform headers)

            async def one(name: str) -> None:
                stream = await c.chat.completions.create(model="tiny", messages=MESSAGES, max_tokens=200, temperature=0, stream=True)
                times, parts = [], []
                async for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        times.append(time.perf_counter())
                        parts.append(chunk.choices[0].delta.content)
                seen[name] = (times[0], times[-1], "".join(parts))

            await asyncio.wait_for(asyncio.gather(one("a"), one("b")), 60)  # warms both slots
            seen.clear()
            await asyncio.wait_for(asyncio.gather(one("a"), one("b")), 60)
            return seen

    seen = asyncio.run(scenario())
    (a_first, a_last, a_text), (b_first, b_last, b_text) = seen["a"], seen["b"]
    assert a_text == b_text  # the same request at temperature 0
    assert a_first < b_last and b_first < a_last, seen


def _stream_then_leave(port: int, max_tokens: int) -> None:
    body = orjson.dumps({"model": "tiny", "prompt": "the", "max_tokens": max_tokens, "stream": True})
    head = (
        f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        received = sock.recv(65536)
        assert b" 200 " in received
        # the head goes out once the prompt is checked, before its first token: leave mid-stream
        for _ in range(100):
            if b"data: " in received:
                break
            received += sock.recv(65536)
        assert b"data: " in received


def test_a_client_leaving_mid_stream_frees_the_engine(served: Served, client) -> None:
    for _ in range(3):  # more than the two slots: each left stream must have freed its own
        _stream_then_leave(served.port, 200)
    started = time.perf_counter()
    answer = client.completions.create(model="tiny", prompt="the", max_tokens=4, temperature=0)
    assert answer.usage.completion_tokens == 4
    assert time.perf_counter() - started < 10
    log = served.log.read_text()
    assert "Traceback" not in log and " 500" not in log


def _completion(port: int, results: list, barrier: threading.Barrier) -> None:
    body = orjson.dumps({"model": "tiny", "prompt": "the", "max_tokens": 200, "temperature": 0})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.connect()
        barrier.wait(10)
        conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        results.append((response.status, response.getheader("Retry-After"), response.read()))
    finally:
        conn.close()


def test_a_full_line_is_a_503_with_retry_after(served: Served) -> None:
    """Two slots and a line of one: of 12 requests sent at once, those beyond are refused
    at once, 503 with Retry-After; the others are answered whole."""
    results: list = []
    barrier = threading.Barrier(12)
    threads = [threading.Thread(target=_completion, args=(served.port, results, barrier)) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(status for status, _, _ in results)
    assert len(results) == 12 and 503 in statuses and statuses.count(200) >= 3, statuses
    for status, retry_after, body in results:
        if status == 503:
            assert retry_after == "1"
            error = orjson.loads(body)["error"]
            assert error["code"] == "overloaded" and "max_queue" in error["message"]
        else:
            assert status == 200 and orjson.loads(body)["usage"]["completion_tokens"] == 200


def test_an_upstream_engine_serves_this_server_under_another_name(served: Served, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{served.port}/v1"

    def configure(fn) -> None:
        fn.add_model("relay", class_name="LLModel", engine="openai", model_url=url, upstream_model="tiny")

    spec = write_function_yaml(tmp_path / "function.yaml", {"e": "tests.serve_models.CountingEcho"}, configure=configure)
    with serve(spec, workers=1, timeout=60) as relay:
        with openai.OpenAI(base_url=f"http://127.0.0.1:{relay.port}/v1", api_key="none", max_retries=0, timeout=30) as c:
            kwargs = {"messages": MESSAGES, "temperature": 0, "seed": 3, "max_tokens": 8}
            through = c.chat.completions.create(model="relay", **kwargs)
            direct = openai.OpenAI(base_url=url, api_key="none").chat.completions.create(model="tiny", **kwargs)
            assert through.model == "relay"
            assert through.choices[0].message.content == direct.choices[0].message.content
            assert through.usage == direct.usage
            streamed = "".join(ch.choices[0].delta.content or "" for ch in c.chat.completions.create(model="relay", stream=True, **kwargs) if ch.choices)
            assert streamed == direct.choices[0].message.content
            vectors = c.embeddings.create(model="relay", input="one")
            assert len(vectors.data[0].embedding) == 64
            with pytest.raises(openai.BadRequestError):
                c.chat.completions.create(model="relay", messages=[{"role": "user", "content": "the " * 400}])
        status, _ = request(relay.port, "GET", "/v1/models")
        assert status == 200
