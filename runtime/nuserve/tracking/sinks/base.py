"""The Sink extension point: where the background sender hands encoded tracking messages."""

from __future__ import annotations

from collections.abc import Sequence

from nuserve.errors import NuserveError


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
