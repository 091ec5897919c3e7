"""TrackingSettings and tracking_settings(): defaults, the spec dict, and clear errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nuserve.errors import ConfigError
from nuserve.tracking import TrackingSettings, create_sink, tracking_settings


def test_defaults_and_the_short_spec_dict():
    settings = TrackingSettings.from_dict({"stream_path": "memory://a"})
    assert (settings.batch, settings.sample, settings.sampling_percentage) == (1, 1, 100.0)
    assert (settings.queue_size, settings.max_retries) == (10_000, 10)
    assert settings.to_dict() == {"stream_path": "memory://a"}
    assert tracking_settings(stream_path="memory://a") == {"stream_path": "memory://a"}


def test_every_field_round_trips():
    data = {
        "stream_path": "kafka://k:9092?topic=t",
        "batch": 50,
        "sample": 10,
        "sampling_percentage": 25.0,
        "seed": 3,
        "queue_size": 500,
        "flush_interval_ms": 20,
        "max_messages": 7,
        "max_retries": 2,
        "backoff_ms": 5,
        "max_backoff_ms": 40,
        "tracking_policy": {"default_batch_intervals": "0 */1 * * *"},
    }
    settings = TrackingSettings.from_dict(data)
    assert settings.to_dict() == data
    assert TrackingSettings.from_dict(settings.to_dict()) == settings
    assert settings.effective_sample_count == 40.0
    assert settings.keep_share == 0.025


def test_set_tracking_arguments_none_means_default():
    spec = tracking_settings(
        stream_path="file:///tmp/t.jsonl",
        batch=None,
        sample=5,
        sampling_percentage=None,
        tracking_policy={"a": 1},
        queue_size=100,
    )
    assert spec == {
        "stream_path": "file:///tmp/t.jsonl",
        "sample": 5,
        "queue_size": 100,
        "tracking_policy": {"a": 1},
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "tracking needs stream_path, e.g. 'kafka://broker:9092?topic=model-events'"),
        ({"stream_path": "events"}, "tracking stream_path 'events' is not a stream URL; use kafka://"),
        (
            {"stream_path": "redis://h/s"},
            "tracking stream_path 'redis://h/s' has unknown scheme 'redis'; use kafka://",
        ),
        ({"stream_path": "memory://a", "batch": 0}, "tracking batch must be an int >= 1 (got 0)"),
        ({"stream_path": "memory://a", "sample": 2.5}, "tracking sample must be an int >= 1"),
        ({"stream_path": "memory://a", "batch": True}, "tracking batch must be an int >= 1"),
        (
            {"stream_path": "memory://a", "sampling_percentage": 0},
            "tracking sampling_percentage must be a number in (0, 100] (got 0)",
        ),
        (
            {"stream_path": "memory://a", "sampling_percentage": "10"},
            "sampling_percentage must be a number in (0, 100] (got '10')",
        ),
        ({"stream_path": "memory://a", "sampling_percentage": 101}, "in (0, 100] (got 101)"),
        (
            {"stream_path": "memory://a", "queue_size": -1},
            "tracking queue_size must be an int >= 1",
        ),
        ({"stream_path": "memory://a", "seed": "x"}, "tracking seed must be an int or None"),
        ({"stream_path": "memory://a", "tracking_policy": [1]}, "tracking_policy must be a dict"),
        (
            {"stream_path": "memory://a", "bacth": 2},
            "unknown tracking setting(s) ['bacth']; known:",
        ),
    ],
)
def test_bad_settings_name_the_value(kwargs, message):
    with pytest.raises(ConfigError) as info:
        tracking_settings(**kwargs)
    assert message in str(info.value)


def test_from_dict_wants_a_dict():
    with pytest.raises(ConfigError, match="tracking settings must be a dict"):
        TrackingSettings.from_dict(["memory://a"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "kafka://127.0.0.1:9092",
            "kafka://127.0.0.1:9092' must look like kafka://host:9092?topic=<topic>",
        ),
        ("kafka://?topic=t", "needs brokers and a topic"),
        ("kafka://h:1?topic=t&no.such.setting=1", "bad producer setting"),
        ("memory://", "'memory://' must look like memory://<name>: it has no name"),
        ("file://", "'file://' must look like file:///<dir>/records.jsonl: it has no path"),
        (
            "file:///tmp/x.jsonl?max_bytes=big",
            "max_bytes in 'file:///tmp/x.jsonl?max_bytes=big' must be an integer",
        ),
        ("file:///tmp/x.jsonl?rotate=1", "unknown options ['rotate']"),
        ("v3io:///container", "needs a container and a stream path"),
        ("nats://h/s", "unknown scheme 'nats'"),
    ],
)
def test_create_sink_errors(url, message):
    with pytest.raises(ConfigError) as info:
        create_sink(url)
    assert message in str(info.value)


def test_v3io_sink_needs_a_key_and_finds_the_web_api_as_every_v3io_url_does():
    with pytest.raises(ConfigError, match="needs an access key; set V3IO_ACCESS_KEY"):
        create_sink("v3io:///users/s", {"V3IO_API": "http://127.0.0.1:1"})
    key = {"V3IO_ACCESS_KEY": "k"}
    assert create_sink("v3io:///users/s", key).endpoint == "http://v3io-webapi:8081"
    assert create_sink("v3io:///users/s", {**key, "V3IO_API": "http://a:1"}).endpoint == "http://a:1"
    assert create_sink("v3io://b:2/users/s", key).endpoint == "http://b:2"


def test_importing_nuserve_loads_no_stream_client():
    code = (
        "import sys, nuserve, nuserve.tracking, nuserve.tracking.tracker\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('confluent_kafka', 'v3io')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
