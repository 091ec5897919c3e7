"""Tracking sinks, chosen by the scheme of ``stream_path``; each imports its client lazily."""

from __future__ import annotations

from collections.abc import Mapping

from nuserve.errors import ConfigError
from nuserve.streams.url import SCHEMES, parse_stream_url
from nuserve.streams.v3io import V3ioSettings
from nuserve.tracking.sinks.base import Sink, SinkError
from nuserve.tracking.sinks.memory import MemorySink

__all__ = ["MemorySink", "Sink", "SinkError", "create_sink"]


def create_sink(url: str, environ: Mapping[str, str] | None = None) -> Sink:
    """The sink for ``url``: ``kafka://``, ``v3io://``, ``file://`` or ``memory://``.

    ``environ`` (default ``os.environ``) supplies ``V3IO_API`` and ``V3IO_ACCESS_KEY`` to
    the v3io sink; it is read here, once, not inside the sink.
    """
    parsed = parse_stream_url(url, "tracking stream_path", SCHEMES)
    scheme = parsed.scheme
    if scheme == "memory":
        return MemorySink.named(parsed.name)
    if scheme == "file":
        from nuserve.tracking.sinks.file import FileSink  # noqa: PLC0415

        return FileSink(url)
    if scheme == "kafka":
        from nuserve.tracking.sinks.kafka import KafkaSink  # noqa: PLC0415 - imports librdkafka

        return KafkaSink(url)
    if scheme == "v3io":
        from nuserve.tracking.sinks.v3io import V3IOSink  # noqa: PLC0415 - imports the v3io SDK

        return V3IOSink(url, V3ioSettings.from_environ(environ))
    raise ConfigError(f"tracking stream_path {url!r}: no sink for {scheme}://")
