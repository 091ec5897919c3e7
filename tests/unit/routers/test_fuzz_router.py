"""Fuzzing the router: any path, method, header and body gets a JSON answer, never a crash.

Requests go in through the mock server (``run`` and ``run_async``), the Nuclio handlers with
real ``nuclio_sdk`` events, and a small flow on both engines. The graph has an echo model, an
async one, two versions of a model with custom operations whose ``predict`` chokes on junk
(its own bug, a 500 that names it), and one whose ``predict`` always raises. The properties:

- the body the adapter writes is JSON; at 400 and above it is exactly ``{"error", "id"}``
  with the event's id;
- the status is 2xx or 4xx; a 500 only when user code raised (``model 's' raised in ...``);
- an error never shows a traceback or a path of this machine;
- every call returns within ``HANG_SECONDS``.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import nuclio_sdk
import numpy as np
import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st

import nuserve
from nuserve.codec import encode_response
from nuserve.event import Event, Response
from nuserve.nuclio.adapter import handler, handler_async, init_context
from nuserve.nuclio.spec_env import SPEC_ENV, encode_spec
from nuserve.server.mock import MockServer
from tests.fuzzing import deep, hostile_bytes, json_objects, json_scalars, json_values, within
from tests.models import Summer

MODELS = {
    "e": "tests.models.Echo",
    "a": "tests.models.AsyncEcho",
    "s:v1": "tests.models.Summer",
    "s:v2": "tests.models.Summer",
    "bad": "tests.models.Raising",
    "b": "tests.models.Echo",
}
BATCHED = {"b": {"max_batch_size": 8, "max_batch_time_ms": 1}}
"""Models that merge requests: in Nuclio's batch mode, one ``predict`` per batch."""
USER_FAILURE = re.compile(
    r"^(step 'router' raised ModelError: )?model '(s|bad)' raised in [a-z_]+: \w+: "
    # models that answer what they were sent answer what JSON cannot hold: Summer's op_describe
    # the raw body when it is not JSON (bytes); any echo a body nested 255 to 1024 levels deep
    # (orjson reads 1024 levels, writes 254; checking every body's depth is not worth its cost)
    r"|^response is not JSON-serialisable: (Type is not JSON serializable: bytes|Recursion limit"
    r" reached)$"
)
"""The only 500s allowed: our fake models' own failures and answers, named as such."""
LOCAL_PATHS = {
    str(p)
    for p in (
        Path(__file__).resolve().parents[3],
        Path(nuserve.__file__).resolve().parent,
        Path(np.__file__).resolve().parent,
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path.home(),
    )
    if len(str(p)) > 4
}


def function(topology: str = "router", engine: str = "sync") -> nuserve.ServingFunction:
    fn = nuserve.new_function("fuzz")
    if topology == "flow":
        graph = fn.set_topology("flow", engine=engine)
        graph.to("*", name="router").to(handler=tag, name="post")
    for key, class_name in MODELS.items():
        router_step = {"router_step": "router"} if topology == "flow" else {}
        if topology == "flow" and engine == "sync":  # it cannot await (a ConfigError)
            if key in ("a", *BATCHED):
                continue
            if class_name.endswith("Summer"):
                fn.add_model(key, class_name=SyncSummer, **router_step)
                continue
        fn.add_model(key, class_name=class_name, **router_step, **BATCHED.get(key, {}))
    return fn


class SyncSummer(Summer):
    """Summer with its async operation made sync, for the sync engine."""

    def op_ping(self, event: Event) -> str:  # type: ignore[override]
        return "pong"


def tag(body: Any) -> Any:
    """The flow's last step: wraps whatever the router answered."""
    return {"flow": True, "answer": body}


STARTED: list[tuple[str, str]] = []


@functools.cache
def mock_server(topology: str = "router", engine: str = "sync") -> MockServer:
    STARTED.append((topology, engine))
    return function(topology, engine).to_mock_server()


@functools.cache
def nuclio_context() -> Any:
    context = nuclio_sdk.Context(None, None, worker_id=0)
    spec = encode_spec(function().spec.serving_spec().to_dict())
    init_context(context, environ={SPEC_ENV: spec})
    return context


# --- strategies -----------------------------------------------------------------------------------


def nested(depth: int) -> Any:
    value: Any = 1.5
    for _ in range(depth):
        value = [value]
    return value


SEGMENTS = [
    *("v1", "v2", "models", "versions", "health", "live", "ready", "infer", "predict"),
    *("explain", "describe", "ping", "e", "a", "s", "b", "bad", "s:predict", "e:predict"),
    "nope",
    *("", ".", "..", "%2e%2e", "%2F", "__class__", "__init__", "_private", "load", "close"),
    *("op_describe", "op_", "op_op_ping", "predict_batch", "metadata", "operations", "é", "\x00"),
    *("describe\n", "ping ", "DESCRIBE", "x" * 300),
]
segments = st.sampled_from(SEGMENTS) | st.text(max_size=6)
ROUTES = [
    *("/", "/v2", "/v2/models", "/v2/health/live", "/v2/health/ready", "/v2/models/infer"),
    *("/v1/models/e:predict", "/v1/models/s:predict", "/v1/models/bad:predict", "/v1/models/e"),
    *(f"/v2/models/{m}" for m in ("e", "a", "b", "bad", "s", "s/versions/v1", "s/versions/v2")),
]
routes = st.sampled_from(ROUTES).flatmap(
    lambda r: st.sampled_from(
        [r] if not r.startswith("/v2/models/") or r.endswith("infer") else
        [r, *(f"{r}/{op}" for op in ("infer", "predict", "explain", "ready", "describe", "ping"))]
    )
)  # fmt: skip
"""Paths that exist: most requests a server sees are on them."""
paths = st.one_of(
    routes,
    routes,
    st.tuples(routes, segments).map("/".join),
    st.text(max_size=30),
    st.lists(segments, max_size=7).map(lambda s: "/" + "/".join(s)),
    st.lists(segments, max_size=4).map(lambda s: "/v2/models/" + "/".join(s)),
    st.tuples(st.sampled_from(["/v2/models/s", "/v2/models/e", "/"]), st.text(max_size=8)).map(
        "".join
    ),
).flatmap(lambda p: st.sampled_from([p, p, p, p + "/", p + "?x=1", p + "#f"]))
methods = st.sampled_from(["POST", "GET", "PUT", "DELETE", "HEAD", "OPTIONS", "get", ""]) | (
    st.text(max_size=6)
)
methods = st.one_of(st.just("POST"), st.just("POST"), st.just("GET"), methods)
content_types = st.sampled_from(
    [None, "", "application/json", "application/json; charset=utf-8", "text/plain", "x/y"]
) | st.text(max_size=12)
headers = st.dictionaries(
    st.sampled_from(["X-Request-Id", "x-request-id", "Content-Type", "Accept"])
    | st.text(max_size=8),
    st.text(max_size=12),
    max_size=3,
)


def routed_bodies(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies as clients and stream triggers send them, every field possibly of the wrong type.

    ``depth``: how deep a tensor's data may nest (orjson writes at most 255 levels).
    """
    tensors = st.fixed_dictionaries(
        {
            "name": st.text(max_size=3),
            "shape": st.lists(st.integers(0, 3), max_size=3) | json_values,
            "datatype": st.sampled_from(["FP32", "INT8", "BYTES", "BOOL"]) | json_values,
            "data": json_values | st.integers(60, depth).map(nested),
        },
        optional={"parameters": json_values},
    )
    inputs = st.lists(json_scalars, max_size=3) | json_values | st.lists(tensors, max_size=2)
    fields = {
        "model": st.sampled_from(["e", "a", "b", "s", "bad", "nope", "s/versions/v1", ".."])
        | json_values,
        "version": st.sampled_from(["v1", "v2", "v3", "", "../v1"]) | json_values,
        "operation": st.sampled_from([*SEGMENTS[:30], "describe/../infer"]) | json_values,
        "instances": json_values,
        "outputs": json_values,
        "id": json_values,
    }
    return st.fixed_dictionaries({"inputs": inputs}, optional=fields) | st.fixed_dictionaries(
        {}, optional={**fields, "inputs": inputs}
    )


bodies = st.one_of(
    routed_bodies(240),
    routed_bodies(240).map(orjson.dumps),
    st.none(),
    hostile_bytes,
    json_objects,
    st.text(max_size=20),
)


# --- the properties -------------------------------------------------------------------------------


def check(status: int, raw: bytes, content_type: str, event_id: str | None) -> Any:
    """The error contract, on the bytes an adapter would send."""
    assert content_type == "application/json", content_type
    body = orjson.loads(raw)
    text = raw.decode("utf-8", "replace")
    if 200 <= status < 300:
        return body
    assert 400 <= status < 500 or status == 500, f"status {status}: {text[:300]}"
    assert isinstance(body, dict) and sorted(body) == ["error", "id"], text[:300]
    assert isinstance(body["error"], str) and body["error"], text[:300]
    if event_id is not None:
        assert body["id"] == event_id
    if status == 500:
        assert USER_FAILURE.search(body["error"]), f"a 500 not from user code: {text[:300]}"
    assert "Traceback" not in text and 'File "' not in text, text[:300]
    for local in LOCAL_PATHS:
        assert local not in text, f"{local} in {text[:300]}"
    return body


def check_response(response: Response, event_id: str) -> Any:
    assert isinstance(response, Response)
    status, raw, content_type = encode_response(response, event_id)
    return check(status, raw, content_type, event_id)


common = settings(max_examples=120, deadline=None)


DEEP_TENSOR = b'{"inputs": [{"name": "t", "shape": [1], "datatype": "FP32", "data": %s}]}' % (
    deep(1000)
)


@common
@given(paths, methods, headers, content_types, bodies)
@example("/v2/models/e/infer", "POST", {}, "application/json", DEEP_TENSOR)  # was a 500
@example("/v2/models/e/explain", "POST", {}, None, {"inputs": [1]})  # was a 500
@example("/v2/models/e/" + "x" * 100_000, "POST", {}, None, {"inputs": [1]})
def test_mock_server_answers_anything_with_json(
    path: str, method: str, head: dict[str, str], ctype: str | None, body: Any
) -> None:
    server = mock_server()
    response = within(
        lambda: server.test(
            path, body, method, head, ctype, silent=True, get_body=False, event_id="fz-1"
        )
    )
    check_response(response, "fz-1")


@common
@given(paths, methods, headers, content_types, bodies)
def test_run_async_answers_anything_with_json(
    path: str, method: str, head: dict[str, str], ctype: str | None, body: Any
) -> None:
    server = mock_server()
    event = Event(body, path, method, head, ctype, "fz-2")
    response = within(lambda: asyncio.run(server.run_async(event)))
    check_response(response, "fz-2")


def nuclio_event(path: str, method: str, head: dict[str, str], ctype: Any, body: Any) -> Any:
    return nuclio_sdk.Event(
        body=body,
        content_type=ctype,
        path=path,
        method=method,
        headers=head,
        trigger=nuclio_sdk.TriggerInfo("http", "http"),
        _id="nuclio-1",
    )


def check_nuclio(reply: Any) -> Any:
    assert isinstance(reply, nuclio_sdk.Response)
    event_id = reply.headers.get("X-Request-Id")
    assert isinstance(event_id, str) and event_id
    return check(reply.status_code, reply.body, reply.content_type, event_id)


@common
@given(paths, methods, headers, content_types, bodies)
def test_nuclio_handler_answers_anything_with_json(
    path: str, method: str, head: dict[str, str], ctype: str | None, body: Any
) -> None:
    context = nuclio_context()
    event = nuclio_event(path, method, head, ctype, body)
    check_nuclio(within(lambda: handler(context, event)))


@settings(max_examples=60, deadline=None)
@given(paths, methods, headers, content_types, bodies)
def test_nuclio_async_handler_answers_anything_with_json(
    path: str, method: str, head: dict[str, str], ctype: str | None, body: Any
) -> None:
    context = nuclio_context()
    event = nuclio_event(path, method, head, ctype, body)
    check_nuclio(within(lambda: asyncio.run(handler_async(context, event))))


batch_bodies = st.one_of(
    st.lists(st.lists(st.integers(0, 9), max_size=2), max_size=3).map(lambda r: {"inputs": r}),
    st.builds(
        lambda name, shape, datatype, value: {
            "inputs": [
                {
                    "name": name,
                    "shape": shape,
                    "datatype": datatype,
                    "data": [value] * int(np.prod(shape)),
                }
            ]
        },
        st.sampled_from(["x", "y"]),
        st.lists(st.integers(0, 2), max_size=3),
        st.sampled_from(["FP32", "INT64", "BOOL"]),
        st.sampled_from([True, False]),
    ),
    st.tuples(
        st.lists(st.sampled_from("xyz"), min_size=2, max_size=2, unique=True),
        st.sampled_from([None, [], [0], [1], [1, 0], [0, 1]]),  # the outputs asked for
    ).map(
        lambda named: {
            "inputs": [
                {"name": n, "shape": [1], "datatype": "FP32", "data": [1]} for n in named[0]
            ],
            **({} if named[1] is None else {"outputs": [{"name": named[0][i]} for i in named[1]]}),
        }
    ),
    routed_bodies(200),
    st.sampled_from([{"inputs": {"a": 1}}, {"inputs": "abc"}, {"inputs": 5}]),
)
"""Bodies a batch mixes: rows, tensors of other dtypes and dims, named tensors (and the
outputs they ask for), junk."""
batch_paths = st.sampled_from(["/v2/models/b/infer", "/v2/models/b", "/", "/v2/models/e"])


def fp32(shape: list[int], name: str = "x") -> dict[str, Any]:
    return {"name": name, "shape": shape, "datatype": "FP32", "data": [1] * int(np.prod(shape))}


B = "/v2/models/b/infer"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(batch_paths, batch_bodies), min_size=1, max_size=6))
# found by this test, each once a crash of the whole batch or a wrong answer (FP64 for FP32)
@example([(B, {"inputs": [fp32([1, 2])]}), (B, {"inputs": [[1, 2]]})])
@example([(B, {"inputs": [fp32([1, 2])]}), (B, {"inputs": [fp32([1, 3])]})])
@example([(B, {"inputs": [fp32([2])]}), (B, {"inputs": [fp32([])]})])
@example(
    [(B, {"inputs": [fp32([1]), fp32([1], "y")]}), (B, {"inputs": [fp32([1]), fp32([1], "z")]})]
)
@example(
    [(B, {"inputs": [fp32([1]), fp32([1], "y")]}), (B, {"inputs": [fp32([1], "y"), fp32([1])]})]
)
@example(
    [(B, {"inputs": [fp32([1])], "outputs": [{"name": "output-0"}]}), (B, {"inputs": [fp32([1])]})]
)
@example([(B, {"inputs": {"a": 1}}), (B, {"inputs": [1]})])
@example([(B, {"inputs": "abc"}), (B, {"inputs": [1]})])
@example([(B, {"inputs": None}), (B, {"inputs": [[1]]})])  # null inputs: 400 both ways
def test_nuclio_batch_mode_answers_each_event_as_it_would_alone(
    requests: list[tuple[str, Any]],
) -> None:
    """Trigger batch mode merges the batched model's requests into one ``predict``: each
    answer must still be the one the request gets alone, whatever the others hold."""
    context = nuclio_context()
    events = []
    for i, (path, body) in enumerate(requests):
        routed = {"model": "b", **body} if path == "/" else body
        head = {"X-Request-Id": f"r{i}"}
        events.append(nuclio_event(path, "POST", head, "text/json", orjson.dumps(routed)))
    replies = within(lambda: handler(context, events))
    assert len(replies) == len(events)
    for event, reply in zip(events, replies, strict=True):
        assert reply.event_id == event.id
        answer = check_nuclio(reply)
        alone = check_nuclio(within(lambda e=event: handler(context, e)))
        for value in (answer, alone):
            value.pop("timestamp", None)
        assert answer == alone


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["sync", "async"]), paths, headers, content_types, bodies, st.booleans())
def test_flow_answers_anything_with_json(
    engine: str, path: str, head: dict[str, str], ctype: str | None, body: Any, stream: bool
) -> None:
    server = mock_server("flow", engine)
    trigger = "kafka" if stream else None
    response = within(
        lambda: server.test(
            path,
            body,
            "POST",
            head,
            ctype,
            silent=True,
            get_body=False,
            event_id="fz-3",
            trigger=trigger,
        )
    )
    answer = check_response(response, "fz-3")
    if response.status_code == 200 and not stream:
        assert answer["flow"] is True


def test_the_properties_catch_what_they_claim_to() -> None:
    """The checker itself: each broken answer below must fail it."""
    bad_answers = [
        (502, b'{"error": "x", "id": "i"}'),
        (500, b'{"error": "internal error: KeyError: 1", "id": "i"}'),
        (400, b'{"error": "x"}'),
        (400, b'{"error": "x", "id": "other"}'),
        (404, b'{"error": "Traceback (most recent call last): x", "id": "i"}'),
        (404, orjson.dumps({"error": f"no {Path(__file__).parent}", "id": "i"})),
        (400, b"not json"),
    ]
    for status, raw in bad_answers:
        try:
            check(status, raw, "application/json", "i")
        except (AssertionError, orjson.JSONDecodeError):
            continue
        raise AssertionError(f"the checker let {status} {raw!r} through")
    assert check(500, b'{"error": "model \'bad\' raised in infer: ValueError: x", "id": "i"}',
                 "application/json", "i")  # fmt: skip


class HiddenAsync(SyncSummer):
    """A plain ``def`` operation that answers a coroutine: no build check can see it."""

    def op_ping(self, event: Event) -> Any:  # type: ignore[override]
        return Summer.op_ping(self, event)


def test_a_sync_flow_refusing_an_async_operation_closes_it() -> None:
    """Found by the flow fuzzer: the refused ``op_ping`` coroutine was left never awaited.
    (An ``async def`` operation is refused when the flow is built, ``tests/unit/graph``.)"""
    fn = nuserve.new_function("sync-flow")
    fn.set_topology("flow", engine="sync").to("*", name="router")
    fn.add_model("s", class_name=HiddenAsync, router_step="router")
    server = fn.to_mock_server()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = server.test("/v2/models/s/ping", {}, silent=True, get_body=False)
        gc.collect()
    server.close()
    assert response.status_code == 500
    assert response.body["error"].startswith(
        "step 'router' raised ConfigError: router step 'router' answered asynchronously"
    )
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []


def teardown_module() -> None:
    servers = [mock_server(*args) for args in STARTED]
    if nuclio_context.cache_info().currsize:
        servers.append(nuclio_context().user_data.server)
    for server in servers:
        server.close()
