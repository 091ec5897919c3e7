"""Streams: one URL grammar and one client per backend (Kafka, v3io, file, memory).

Tracking sinks, queue steps, output and dead-letter streams, the local Kafka trigger and the
monitoring consumer all parse their URLs with ``parse_stream_url`` and make their clients
here, so ``kafka://host:port?topic=t`` and ``v3io:///container/path`` mean the same thing
everywhere, with one set of client settings, one retry policy and one reading of errors.

    url.py       StreamURL, parse_stream_url (the grammar)
    base.py      Stream (publish, confirmed send, close)
    kafka.py     confluent-kafka producers/consumers, settings, librdkafka logs and errors
    v3io.py      v3io clients, V3ioSettings (the environment, read once)
    file.py      RotatingFile (append, rotate), FileTail (read across rotations)
    memory.py    memory_stream(name): one in-process stream per name
    open.py      open_stream(url): the producer a URL names
    retry.py     Backoff        ratelog.py  RateLimitedLog

Client libraries are imported when a client is made, never when this package is.
"""

from nuserve.streams.base import Stream
from nuserve.streams.memory import MemoryStream, memory_stream
from nuserve.streams.open import check_stream_url, open_stream
from nuserve.streams.retry import Backoff
from nuserve.streams.url import StreamURL, parse_stream_url

__all__ = [
    "Backoff",
    "MemoryStream",
    "Stream",
    "StreamURL",
    "check_stream_url",
    "memory_stream",
    "open_stream",
    "parse_stream_url",
]
