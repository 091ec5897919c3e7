"""The one stream URL grammar: what each form means, and what it refuses, naming the fix."""

from __future__ import annotations

import pytest

from nuserve import ConfigError
from nuserve.streams.retry import Backoff
from nuserve.streams.url import parse_stream_url


@pytest.mark.parametrize(
    ("url", "brokers", "topic", "options"),
    [
        ("kafka://h:9092?topic=t", ("h:9092",), "t", {}),
        ("kafka://h1:1,h2:2/t2", ("h1:1", "h2:2"), "t2", {}),
        ("kafka://h:1?topic=t&compression.type=lz4", ("h:1",), "t", {"compression.type": "lz4"}),
    ],
)
def test_kafka_urls(url, brokers, topic, options):
    parsed = parse_stream_url(url)
    assert (parsed.scheme, parsed.brokers, parsed.topic, parsed.options) == (
        "kafka", brokers, topic, options,
    )  # fmt: skip


@pytest.mark.parametrize("url", ["kafka://h:1", "kafka://?topic=t", "kafka://h:1/a/b"])
def test_a_kafka_url_needs_brokers_and_one_topic(url):
    with pytest.raises(ConfigError, match=r"queue path '.*' must look like kafka://host:9092\?topic="):
        parse_stream_url(url, "queue path")


def test_v3io_urls_name_container_path_and_maybe_the_web_api():
    plain = parse_stream_url("v3io:///bigdata/a/b/")
    assert (plain.host, plain.container, plain.path) == ("", "bigdata", "/a/b")
    hosted = parse_stream_url("v3io://webapi:8081/users/s?seek=latest")
    assert (hosted.host, hosted.container, hosted.path) == ("webapi:8081", "users", "/s")
    assert hosted.options == {"seek": "latest"}
    with pytest.raises(ConfigError, match="needs a container and a stream path"):
        parse_stream_url("v3io:///only")


def test_file_and_memory_urls():
    assert parse_stream_url("file:///tmp/r.jsonl?max_files=2").path == "/tmp/r.jsonl"
    assert parse_stream_url("memory://orders").name == "orders"
    with pytest.raises(ConfigError, match="it has no name"):
        parse_stream_url("memory://")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("events", "'events' is not a stream URL; use kafka://"),
        (7, "7 is not a stream URL"),
        ("redis://h/s", "unknown scheme 'redis'; use kafka://"),
    ],
)
def test_what_is_not_a_stream(url, message):
    with pytest.raises(ConfigError, match=message):
        parse_stream_url(url)


def test_a_user_may_narrow_the_schemes_and_the_message_lists_only_those():
    with pytest.raises(ConfigError) as info:
        parse_stream_url("file:///x", "output_stream", ("kafka", "memory"))
    assert str(info.value) == (
        "output_stream 'file:///x' has unknown scheme 'file'; use "
        "kafka://host:9092?topic=<topic>, memory://<name>"
    )


def test_options_are_taken_once_and_leftovers_refused():
    url = parse_stream_url("file:///x?max_bytes=10&typo=1")
    assert url.take_int("max_bytes", 5) == 10
    assert url.take_int("max_files", 3) == 3
    with pytest.raises(ConfigError, match=r"unknown options \['typo'\]; known: max_bytes"):
        url.no_more_options("file stream", ("max_bytes",))
    bad = parse_stream_url("file:///x?max_bytes=big")
    with pytest.raises(ConfigError, match="max_bytes in 'file:///x\\?max_bytes=big' must be an integer"):
        bad.take_int("max_bytes", 1)


def test_backoff_doubles_up_to_its_ceiling():
    backoff = Backoff(first=0.1, ceiling=0.5)
    assert [backoff.delay(n) for n in range(5)] == [0.0, 0.1, 0.2, 0.4, 0.5]
