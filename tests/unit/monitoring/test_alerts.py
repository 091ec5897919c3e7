"""Alerts to a file stream and a webhook, in the background, never blocking the monitor."""

from __future__ import annotations

import json
import time

import pytest

from nuserve.errors import ConfigError
from nuserve.monitoring import Alert, Alerter
from tests.unit.monitoring.receiver import webhook_receiver


def test_alert_goes_to_file_stream_and_webhook(tmp_path) -> None:
    path = tmp_path / "alerts.jsonl"
    with webhook_receiver() as receiver:
        alerter = Alerter(f"file://{path}", receiver.url, timeout=2.0)
        alert = Alert("e1", "drift", "drift detected", 0.9, {"features": ["x"]})
        alerter.send(alert)
        (posted,) = receiver.wait_for(1, 5.0)
        alerter.close()
    assert posted == alert.to_dict()
    assert [json.loads(line) for line in path.read_text().splitlines()] == [alert.to_dict()]
    assert (alerter.streamed, alerter.posted, alerter.failed) == (1, 1, 0)


def test_failing_webhook_is_counted_and_does_not_block(tmp_path) -> None:
    with webhook_receiver() as receiver:
        receiver.status = 500
        alerter = Alerter(webhook_url=receiver.url, timeout=1.0)
        began = time.monotonic()
        for _ in range(3):
            alerter.send(Alert("e1", "error_rate", "m", 0.5))
        assert time.monotonic() - began < 0.5  # send only queues
        receiver.wait_for(3, 5.0)
        alerter.close()
    assert (alerter.posted, alerter.failed) == (0, 3)


def test_full_queue_drops_and_counts() -> None:
    alerter = Alerter(webhook_url="http://127.0.0.1:9/", timeout=0.2, queue_size=1)
    for _ in range(20):
        alerter.send(Alert("e1", "drift", "m", 1.0))
    alerter.close(timeout=10.0)
    assert alerter.dropped >= 1 and alerter.failed + alerter.dropped == 20


def test_no_destination_is_a_no_op_and_bad_url_is_refused() -> None:
    alerter = Alerter()
    alerter.send(Alert("e1", "drift", "m", 1.0))
    alerter.close()
    with pytest.raises(ConfigError, match="must start with http:// or https://"):
        Alerter(webhook_url="ftp://x")
