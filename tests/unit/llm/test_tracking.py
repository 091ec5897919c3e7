"""LLM traffic is tracked: each OpenAI request's record carries prompt and completion tokens,
time to first token, inter-token latency and the finish reason; the monitoring dashboard
shows their window means per endpoint."""

from __future__ import annotations

import json
import time

import pytest

from nuserve.monitoring import Monitor, MonitorConfig, open_store
from nuserve.monitoring.dashboard.server import route
from nuserve.tracking import tracking_settings
from tests.llm_client import llm_function
from tests.unit.tracking.helpers import memory_sink, sink_name

pytest.importorskip("llama_cpp")  # CI installs the llm extra (tests/run.sh): this never skips there


def test_records_of_generations_reach_the_dashboard(tiny_gguf, tmp_path) -> None:
    fn = llm_function(tiny_gguf)
    fn.spec.tracking = tracking_settings(stream_path=f"memory://{sink_name()}")
    server = fn.to_mock_server()
    try:
        chat = {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "temperature": 0}
        server.test("/v1/chat/completions", chat)
        "".join(server.test("/v1/chat/completions", {**chat, "stream": True}))
        server.test("/v1/completions", {"model": "tiny", "prompt": "the", "max_tokens": 3, "stop": ["\x00never"]})
        assert server.tracker is not None and server.tracker.wait_sent(10)
        records = memory_sink(server).records()
    finally:
        server.close()
    assert [r["op"] for r in records] == ["chat.completions", "chat.completions", "completions"]
    for record in records:
        metrics = record["metrics"]
        assert metrics["prompt_tokens"] > 0
        assert metrics["ttft_ms"] > 0 and metrics["itl_ms"] > 0
        assert metrics["finish_reason"] == "length" and metrics["finish_length"] == 1
        assert record["model"] == "tiny"
    assert [r["metrics"]["completion_tokens"] for r in records] == [5, 5, 3]
    assert [r["metrics"]["stream"] for r in records] == [False, True, False]

    store = open_store(f"sqlite://{tmp_path}/monitor.db")
    try:
        monitor = Monitor(store, MonitorConfig(windows=(60.0,), grace_s=0.0), {}, clock=lambda: time.time() + 3600)
        for record in records:
            monitor.feed(record)
        monitor.flush()
        (endpoint,) = json.loads(route(store, "/api/endpoints")[2])
        detail = json.loads(route(store, f"/api/endpoints/{endpoint['endpoint_id']}")[2])
        llm = detail["series"][-1]["llm"]
        assert llm["completion_tokens"] == pytest.approx(13 / 3)
        assert llm["finish_length"] == 1 and llm["ttft_ms"] > 0
        page = route(store, f"/endpoints/{endpoint['endpoint_id']}")[2].decode()
        assert "time to first token" in page and "tokens per request" in page
    finally:
        store.close()
