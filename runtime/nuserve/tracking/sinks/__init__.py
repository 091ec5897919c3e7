"""Tracking sinks, chosen by the scheme of ``stream_path``; each imports its client lazily."""

from __future__ import annotations

import os
from collections.abc import Mapping

from nuserve.errors import ConfigError
from nuserve.tracking.settings import SCHEMES
from nuserve.tracking.sinks.base import Sink, SinkError
from nuserve.tracking.sinks.memory import MemorySink

__all__ = ["MemorySink", "Sink", "SinkError", "create_sink"]


def create_sink(url: str, environ: Mapping[str, str] | None = None) -> Sink:
    """The sink for ``url``: ``kafka://``, ``v3io://``, ``file://`` or ``memory://``.

    ``environ`` (default ``os.environ``) supplies ``V3IO_API`` and ``V3IO_ACCESS_KEY`` to
    the v3io sink; it is read here, once, not inside the sink.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        name = url.split("://", 1)[1]
        if not name:
            raise ConfigError(f"memory sink URL {url!r} has no name; use memory://<name>")
        return MemorySink.named(name)
    if scheme == "file":
        from nuserve.tracking.sinks.file import FileSink  # noqa: PLC0415

        return FileSink(url)
    if scheme == "kafka":
        from nuserve.tracking.sinks.kafka import KafkaSink  # noqa: PLC0415 - imports librdkafka

        return KafkaSink(url)
    if scheme == "v3io":
        from nuserve.tracking.sinks.v3io import V3IOSink  # noqa: PLC0415 - imports the v3io SDK

        env = os.environ if environ is None else environ
        return V3IOSink(url, env.get("V3IO_API"), env.get("V3IO_ACCESS_KEY"))
    raise ConfigError(
        f"tracking stream_path {url!r} has unknown scheme {scheme or '(none)'!r}; "
        f"use one of {', '.join(s + '://' for s in SCHEMES)}"
    )
