"""The monitor as a Nuclio function: function.yaml and the handler."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import yaml

from nuserve.errors import ConfigError
from nuserve.monitoring import MonitorConfig, monitor_function, monitor_function_yaml
from nuserve.monitoring import nuclio as monitor_nuclio
from tests.unit.monitoring.records import record


def test_kafka_function_yaml() -> None:
    spec = monitor_function(
        "kafka://b1:9092,b2:9092?topic=tracking", "postgresql://m@db:5432/mon",
        references={"iris": "/opt/models/iris"}, config=MonitorConfig(windows=(60,)),
        env={"PGPASSWORD": "x"},
    )  # fmt: skip
    body = spec["spec"]
    assert body["handler"] == "nuserve.monitoring.nuclio:handler"
    assert (body["minReplicas"], body["maxReplicas"]) == (1, 1)
    trigger = body["triggers"]["tracking"]
    assert trigger["kind"] == "kafka-cluster" and trigger["numWorkers"] == 1
    assert trigger["attributes"]["brokers"] == ["b1:9092", "b2:9092"]
    assert trigger["attributes"]["topics"] == ["tracking"]
    assert trigger["attributes"]["consumerGroup"] == "nuserve-monitor"
    env = {e["name"]: e["value"] for e in body["env"]}
    settings = json.loads(env["NUSERVE_MONITOR"])
    assert settings["store"] == "postgresql://m@db:5432/mon"
    assert settings["references"] == {"iris": "/opt/models/iris"}
    assert settings["config"]["windows"] == [60.0] and env["PGPASSWORD"] == "x"
    assert "nuserve[monitor-pg]==" in body["build"]["commands"][0]
    text = monitor_function_yaml("kafka://b:9092/tracking", "sqlite:///data/m.db")
    assert yaml.safe_load(text)["spec"]["triggers"]["tracking"]["attributes"]["topics"] == [
        "tracking"
    ]


def test_v3io_and_bad_streams() -> None:
    spec = monitor_function("v3io:///users/tracking", "sqlite:///m.db")
    assert spec["spec"]["triggers"]["tracking"]["kind"] == "v3ioStream"
    with pytest.raises(ConfigError, match="consumes kafka:// or v3io:// streams"):
        monitor_function("file:///x.jsonl", "sqlite:///m.db")
    with pytest.raises(ConfigError, match="needs brokers and a topic"):
        monitor_function("kafka://b:9092", "sqlite:///m.db")


def test_nuclio_handler_feeds_records(tmp_path, monkeypatch) -> None:
    settings = {"store": f"sqlite://{tmp_path}/m.db", "config": {"windows": [10]}}
    monkeypatch.setenv("NUSERVE_MONITOR", json.dumps(settings))
    monkeypatch.setattr(monitor_nuclio, "TICK_S", 0.05)
    context = SimpleNamespace(user_data=SimpleNamespace(), logger=SimpleNamespace(error=print))
    monitor_nuclio.init_context(context)
    try:
        one = json.dumps(record(100.0, [[1, 2]], [0])).encode()
        batch = json.dumps([record(101.0, None, None), record(102.0, None, None)])
        answers = [
            monitor_nuclio.handler(context, SimpleNamespace(body=body))
            for body in (one, batch, record(103.0, None, None), b"junk")
        ]
        assert [json.loads(a) for a in answers] == [
            {"records": 1, "bad": 0}, {"records": 2, "bad": 0},
            {"records": 1, "bad": 0}, {"records": 0, "bad": 1},
        ]  # fmt: skip
        monitor = context.user_data.monitor
        assert monitor.stats()["records"] == 4
    finally:
        context.user_data.monitor_stop.set()
    monitor.flush()
    assert monitor.store.windows("fn-iris", 10.0)[0]["requests"] == 4
    monitor.store.close()


def test_nuclio_settings_errors(monkeypatch) -> None:
    monkeypatch.delenv("NUSERVE_MONITOR", raising=False)
    with pytest.raises(ConfigError, match="NUSERVE_MONITOR is not set"):
        monitor_nuclio.init_context(SimpleNamespace())
    with pytest.raises(ConfigError, match="must be a JSON object with a 'store' URL"):
        monitor_nuclio.monitor_from_settings({"config": {}})
    with pytest.raises(ConfigError, match=r"unknown monitor setting\(s\) \['nope'\]"):
        monitor_nuclio.monitor_from_settings({"store": "sqlite://:memory:", "config": {"nope": 1}})
