"""``open_stream(url)``: the producer a stream URL names, by an explicit scheme registry.

``PRODUCERS`` maps a scheme to the factory of its producer. nuserve's own (kafka, v3io,
memory) are checked by the URL grammar first; a scheme registered from outside (a test's
failing stream, a backend of your own) is handed its URL as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nuserve.errors import ConfigError
from nuserve.streams.base import Stream
from nuserve.streams.memory import memory_stream
from nuserve.streams.url import SCHEMES, StreamURL, parse_stream_url


def _kafka(url: StreamURL, **options: Any) -> Stream:
    from nuserve.streams.kafka import KafkaStream  # noqa: PLC0415 - librdkafka on use

    return KafkaStream(url.url, **options)


def _v3io(url: StreamURL, **options: Any) -> Stream:
    from nuserve.streams.v3io import V3ioStream  # noqa: PLC0415

    return V3ioStream(url.url, **options)


def _memory(url: StreamURL, **options: Any) -> Stream:
    if options:
        raise TypeError(f"a memory stream takes no options (got {sorted(options)})")
    return memory_stream(url.name)


Producer = Callable[..., Stream]
PRODUCERS: dict[str, Producer] = {"kafka": _kafka, "v3io": _v3io, "memory": _memory}
"""What a queue step, an output or an error stream can publish to (a file cannot feed a
Nuclio trigger, so ``file://`` is not here)."""


def _parse(url: Any, what: str) -> StreamURL:
    scheme = url.partition("://")[0].lower() if isinstance(url, str) else ""
    if scheme in PRODUCERS and scheme not in SCHEMES:
        return StreamURL(url, scheme)
    return parse_stream_url(url, what, [s for s in SCHEMES if s in PRODUCERS])


def check_stream_url(url: Any, what: str) -> str | None:
    """``url`` if it names a stream nuserve can publish to (or is ``None``); else a ConfigError."""
    if url is None:
        return None
    return _parse(url, what).url


def open_stream(url: str, what: str = "stream", **options: Any) -> Stream:
    """The producer for ``url``; ``options`` go to its class (a queue step's class_args)."""
    parsed = _parse(url, what)
    factory = PRODUCERS[parsed.scheme]
    if parsed.scheme not in SCHEMES:
        return factory(url, **options)
    try:
        return factory(parsed, **options)
    except TypeError as exc:
        raise ConfigError(f"{what} {url!r}: bad stream options {options}: {exc}") from None
