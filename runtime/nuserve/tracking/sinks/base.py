"""The Sink extension point: where the background sender hands encoded tracking messages."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit

from nuserve.errors import ConfigError, NuserveError


class SinkError(NuserveError):
    """A ``send`` failed; ``failed`` lists the indices of the messages not delivered.

    ``failed=None`` means none of them was delivered. The sender retries only the failed
    messages, so a partial failure does not duplicate what already arrived.
    """

    retriable = True

    def __init__(self, message: str, failed: Sequence[int] | None = None) -> None:
        super().__init__(message)
        self.failed = None if failed is None else list(failed)


class Sink:
    """Base of the tracking sinks: ``send`` delivers messages or raises ``SinkError``.

    A sink is used by one thread (the tracker's sender), so it needs no locking. ``send``
    returns only once the messages are stored (acknowledged), which is what ``sent`` counts.
    """

    url: str = ""

    def send(self, messages: list[bytes]) -> None:
        """Deliver ``messages`` (each a JSON document) or raise ``SinkError``."""
        raise NotImplementedError

    def flush(self) -> None:
        """Push out anything the sink buffers itself (a no-op for unbuffered sinks)."""

    def close(self) -> None:
        """Release connections and files; the sink is not used afterwards."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


def split_url(url: str) -> tuple[str, str, str, dict[str, str]]:
    """``scheme://netloc/path?query`` → ``(scheme, netloc, path, query as a dict)``."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc, parts.path, dict(parse_qsl(parts.query))


def kafka_url(url: str, what: str, example: str) -> tuple[str, str, dict[str, str]]:
    """``(brokers, topic, other query options)`` of ``kafka://host:port[,host:port]?topic=t``
    (or ``kafka://host:port/t``); ``what`` and ``example`` word the error when one is missing.
    """
    _, brokers, path, options = split_url(url)
    topic = options.pop("topic", "") or path.strip("/")
    if not brokers or not topic:
        raise ConfigError(f"{what} {url!r} needs brokers and a topic: {example}")
    return brokers, topic, options


def int_option(options: dict[str, str], key: str, default: int, url: str) -> int:
    """An integer query option of a sink URL (``?max_bytes=1000``)."""
    raw = options.pop(key, None)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{key} in {url!r} must be an integer (got {raw!r})") from None
