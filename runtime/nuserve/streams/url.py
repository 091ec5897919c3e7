"""One URL grammar for every stream nuserve reads or writes.

The same URL means the same thing wherever it is given: a tracking ``stream_path``, a queue
step's ``path``, a function's ``output_stream``/``error_stream``, ``nuserve monitor --stream``.

    kafka://host:port[,host:port]?topic=<topic>[&<librdkafka option>=<value>...]
    kafka://host:port/<topic>                        (MLRun's form)
    v3io://[<web API host:port>]/<container>/<stream path>   (else V3IO_API, else the cluster's)
    file:///<path>.jsonl[?<option>=<value>]
    memory://<name>                                  (in this process: tests, notebooks)

Query options other than those a backend reads itself (``topic``, ``group``...) go to the
client as they are; each user of a URL says which options it takes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from nuserve.errors import ConfigError

SCHEMES = ("kafka", "v3io", "file", "memory")
EXAMPLES = {
    "kafka": "kafka://host:9092?topic=<topic>",
    "v3io": "v3io:///<container>/<stream path>",
    "file": "file:///<dir>/records.jsonl",
    "memory": "memory://<name>",
}


@dataclass(frozen=True)
class StreamURL:
    """A parsed stream URL; which fields are set depends on the scheme."""

    url: str
    scheme: str
    brokers: tuple[str, ...] = ()
    """kafka: ``host:port`` of each bootstrap broker."""
    topic: str = ""
    """kafka: the topic."""
    host: str = ""
    """v3io: the web API's ``host:port`` when the URL names one."""
    container: str = ""
    """v3io: the container."""
    path: str = ""
    """v3io: ``/<stream path>``; file: the file's path."""
    name: str = ""
    """memory: the stream's name."""
    options: dict[str, str] = field(default_factory=dict)
    """The query, minus what the grammar itself read (kafka's ``topic``)."""

    def example(self) -> str:
        return EXAMPLES[self.scheme]

    def take(self, key: str, default: str) -> str:
        """A query option, removed from ``options`` so that ``no_more_options`` passes."""
        return self.options.pop(key, default)

    def take_int(self, key: str, default: int) -> int:
        raw = self.options.pop(key, None)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{key} in {self.url!r} must be an integer (got {raw!r})") from None

    def no_more_options(self, what: str, known: Collection[str] = ()) -> None:
        """Refuse options nobody reads (a typo would otherwise be ignored silently)."""
        if self.options:
            listed = f"; known: {', '.join(known)}" if known else "; it takes none"
            raise ConfigError(
                f"{what} {self.url!r} has unknown options {sorted(self.options)}{listed}"
            )


def parse_stream_url(
    url: str, what: str = "stream", schemes: Collection[str] = SCHEMES
) -> StreamURL:
    """``url`` parsed by the grammar above; ``what`` names it in errors (``"queue path"``)."""
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(f"{what} {url!r} is not a stream URL; use {_choices(schemes)}")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise ConfigError(
            f"{what} {url!r} has unknown scheme {scheme or '(none)'!r}; use {_choices(schemes)}"
        )
    options = dict(parse_qsl(parts.query))
    bad = f"{what} {url!r} must look like {EXAMPLES[scheme]}"
    if scheme == "kafka":
        brokers = tuple(b for b in parts.netloc.split(",") if b)
        topic = options.pop("topic", "") or parts.path.strip("/")
        if not brokers or not topic or "/" in topic:
            raise ConfigError(f"{bad} (or kafka://host:port/<topic>): it needs brokers and a topic")
        return StreamURL(url, scheme, brokers=brokers, topic=topic, options=options)
    if scheme == "v3io":
        container, _, stream = parts.path.strip("/").partition("/")
        if not container or not stream.strip("/"):
            raise ConfigError(f"{bad}: it needs a container and a stream path")
        return StreamURL(
            url, scheme, host=parts.netloc, container=container,
            path="/" + stream.strip("/"), options=options,
        )  # fmt: skip
    if scheme == "file":
        path = parts.netloc + parts.path
        if not path or path == ".":
            raise ConfigError(f"{bad}: it has no path")
        return StreamURL(url, scheme, path=path, options=options)
    name = url.split("://", 1)[1]
    if not name:
        raise ConfigError(f"{bad}: it has no name")
    return StreamURL(url, scheme, name=name)


def _choices(schemes: Collection[str]) -> str:
    return ", ".join(EXAMPLES[s] for s in SCHEMES if s in schemes)
