"""End to end: iris served in-process with tracking to a real Kafka broker, the monitor
consuming the topic, on SQLite and on PostgreSQL.

Traffic drawn from the training data gives no drift; the same traffic with petal length
shifted by two standard deviations is detected as drift of that feature within one (2 s)
window, and its alert reaches a local webhook and the alerts topic.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import yaml
from confluent_kafka import Consumer

import nuserve
from nuserve.model.artifacts import ModelSpec
from nuserve.monitoring import DRIFT_DETECTED, MonitorConfig, build_runner, open_store
from nuserve.tracking.settings import tracking_settings
from tests.kafka.broker import KafkaBroker
from tests.kafka.fixtures import new_topic
from tests.unit.monitoring.receiver import webhook_receiver

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
IRIS = ROOT / "examples" / "iris"
WINDOW = 2.0


@pytest.fixture(scope="module")
def iris_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The iris example trained into a temp dir by its own train.py (with feature_stats)."""
    import runpy

    out = tmp_path_factory.mktemp("iris-model")
    train = runpy.run_path(str(IRIS / "train.py"), run_name="iris_train")["train"]
    spec = ModelSpec.from_dict(yaml.safe_load(train(out).read_text()))
    assert spec.feature_stats, "examples/iris/train.py must record feature_stats"
    assert list(spec.feature_stats) == [f.name for f in spec.inputs]
    return out


def send_traffic(name: str, model_dir: Path, stream: str, shift: float) -> None:
    """100 requests of 10 rows drawn from the training data (petal length + ``shift``),
    sent right after a window boundary so that they share one window."""
    from sklearn.datasets import load_iris

    data = load_iris().data
    fn = nuserve.code_to_function(name, filename=str(IRIS / "iris_model.py"))
    fn.set_topology("router")
    fn.add_model("iris", class_name="IrisClassifier", model_path=str(model_dir))
    fn.spec.tracking = tracking_settings(stream_path=stream)
    server = fn.to_mock_server()
    rng = np.random.default_rng(11)
    try:
        time.sleep(WINDOW - time.time() % WINDOW + 0.05)
        for _ in range(100):
            rows = data[rng.integers(0, len(data), 10)].copy()
            rows[:, 2] += shift
            server.test("/v2/models/iris/infer", {"inputs": rows.tolist()})
    finally:
        server.close()  # flushes the tracking queue to Kafka


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def alerts_on_topic(bootstrap: str, topic: str, count: int, timeout: float) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"a-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest"})  # fmt: skip
    consumer.subscribe([topic])
    found: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None and message.value():
                found.append(message.value())
    finally:
        consumer.close()
    return found


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_iris_drift_end_to_end(
    kafka_broker: KafkaBroker,
    iris_model: Path,
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    spec = yaml.safe_load((iris_model / "model_spec.yaml").read_text())
    petal_std = spec["feature_stats"]["petal_length"]["std"]
    tag = uuid.uuid4().hex[:8]
    bootstrap = kafka_broker.bootstrap
    topic = new_topic(kafka_broker, f"tracking-{tag}")
    alerts_topic = new_topic(kafka_broker, f"alerts-{tag}")
    stream = f"kafka://{bootstrap}?topic={topic}"
    store_url = (
        f"sqlite://{tmp_path}/monitor.db"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    with webhook_receiver() as receiver:
        config = MonitorConfig(
            windows=(WINDOW,), grace_s=0.2, idle_close_s=0.5, min_samples=100,
            webhook_url=receiver.url, alerts_stream=f"kafka://{bootstrap}?topic={alerts_topic}",
        )  # fmt: skip
        runner = build_runner(
            f"{stream}&group=monitor-{tag}", store_url, references=str(iris_model), config=config,
            poll_s=0.2,
        )  # fmt: skip
        store = runner.store  # shared with the runner's thread (the store locks)
        runner.start()
        try:
            send_traffic(f"iris-normal-{tag}", iris_model, stream, 0.0)
            send_traffic(f"iris-shifted-{tag}", iris_model, stream, 2 * petal_std)

            def judged() -> bool:
                rows = store.endpoints()
                return len(rows) == 2 and all(r["status"] != "NO_DATA" for r in rows)

            wait_until(judged, 30, "a drift verdict for both endpoints")
            (posted,) = receiver.wait_for(1, 10)
        finally:
            runner.stop()
            stats = runner.monitor.stats()
    assert stats["records"] == 200 and stats["bad"] == 0 and stats["late"] == 0
    # the runner closed its store on the way out; read through a new connection
    reader = open_store(store_url)
    try:
        by_function = {e["function_uri"]: e for e in reader.endpoints()}
        normal = by_function[f"iris-normal-{tag}"]
        shifted = by_function[f"iris-shifted-{tag}"]
        assert normal["status"] != DRIFT_DETECTED and normal["drifted"] == []
        assert shifted["status"] == DRIFT_DETECTED and shifted["drifted"] == ["petal_length"]
        (window,) = [w for w in reader.windows(shifted["endpoint_id"], WINDOW) if w["row_count"]]
        assert window["row_count"] == 1000 and window["requests"] == 100  # one window
        assert window["p50"] > 0 and window["predictions"]
        drift = {
            d["feature"]: d
            for d in reader.drift(shifted["endpoint_id"], WINDOW, window["start_time"])
        }
        assert drift["petal_length"]["status"] == DRIFT_DETECTED
        assert drift["sepal_length"]["status"] != DRIFT_DETECTED
        (alert,) = reader.alerts()
    finally:
        reader.close()
    assert alert["endpoint_id"] == shifted["endpoint_id"]
    assert posted["alert_id"] == alert["alert_id"] and posted["details"]["features"] == [
        "petal_length"
    ]
    (on_topic,) = alerts_on_topic(bootstrap, alerts_topic, 1, 15)
    assert alert["alert_id"].encode() in on_topic
