"""Sender: the background thread that batches queued records, encodes them and sends them.

It wakes every ``flush_interval_ms``, or sooner when the queue holds ``max_messages`` full
batches (or half its bound), turns full batches into messages (a partial batch goes once its
oldest record is an interval old), and hands at most ``max_messages`` to ``sink.send`` at
a time. Messages a send could not deliver stay *pending* and are retried with exponential
backoff (``backoff_ms`` doubling up to ``max_backoff_ms``); meanwhile nothing more is taken
from the queue, so records wait there, up to its bound, until the sink is back. After
``max_retries`` failed retries the pending records are dropped and counted.

What a sink outage costs, with the defaults: nothing, while the records it piles up fit the
queue (``queue_size``, 10 000 per worker; the sender holds one more send, up to
``max_messages`` x ``batch`` records) and it lasts less than the retry budget: for Kafka,
11 tries of ``delivery_timeout_ms`` (5 s) each plus the backoffs between them (26 s), about
80 s. So a worker tracking 300 requests/s rides out 30 s of broker outage without loss
(``tests/integration/test_faults_kafka.py`` kills a real broker for 30 s under load). Past
either bound, records are dropped (the oldest queued first, then the pending send), counted
in ``dropped`` (``nuserve_tracking_records_total{state="dropped"}`` in ``/metrics``) and
logged; memory stays bounded whatever the outage. Records sent just before a failure may be
sent again: at-least-once, a consumer may see a duplicate.
"""

from __future__ import annotations

import threading
import time

from nuserve.streams.ratelog import RateLimitedLog
from nuserve.streams.retry import Backoff
from nuserve.tracking.buffer import RecordBuffer
from nuserve.tracking.record import Item, encode_item
from nuserve.tracking.settings import TrackingSettings
from nuserve.tracking.sinks.base import Sink, SinkError

COMPACT_BELOW = 64 * 1024
"""Messages shorter than this are copied into a bytes object of their own size (see
``compact``)."""


def compact(message: bytes) -> bytes:
    """``message`` in a block of its own size.

    orjson writes into a buffer of at least 1 KiB, shrunk in place when done: a message kept
    until the send (all of one cycle's are) leaves the rest of that block split off, and the
    next record's buffer comes from fresh memory. Encoding a record that way cost 8-10 µs
    a record on this machine against 1.1 µs when the bytes were dropped at once; copying each
    (a few hundred bytes: pymalloc's) brings it to about 2.6 µs (bench/tracking_profile.py).
    """
    if len(message) < COMPACT_BELOW:
        return memoryview(message).tobytes()
    return message


class Sender:
    """Owns the sink: only its thread calls ``send``/``flush``/``close`` on it."""

    def __init__(
        self, buffer: RecordBuffer, sink: Sink, settings: TrackingSettings, log: RateLimitedLog
    ) -> None:
        self.buffer = buffer
        self.sink = sink
        self.settings = settings
        self.log = log
        self.sent = 0
        self.retried = 0
        self.errors = 0
        self.lost = 0
        """Records dropped after the queue: retries exhausted, unencodable, or left at close."""
        self._pending: list[bytes] = []
        self._pending_counts: list[int] = []
        self._attempts = 0
        self._next_try = 0.0
        self._logged_drops = 0
        self._stop = threading.Event()
        self._deadline = 0.0
        self._interval = settings.flush_interval_ms / 1000.0
        self._thread = threading.Thread(target=self._main, name="nuserve-tracking", daemon=True)

    @property
    def pending_records(self) -> int:
        return sum(self._pending_counts)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Send what is left (trying until ``timeout``), close the sink; True when done.

        A send already under way when the deadline passes is not cut short: close can take
        up to one send longer (for Kafka, ``delivery_timeout_ms`` + 2 s while it is down).
        """
        self._deadline = time.monotonic() + timeout
        self._stop.set()
        self.buffer.ready.set()
        if self._thread.is_alive():
            self._thread.join(timeout + 30.0)  # a send in progress ends by its own timeout
            return not self._thread.is_alive()
        if self._thread.ident is None:  # never started: drain on the caller's thread
            self._finish()
        return True

    def _main(self) -> None:
        interval = self._interval
        try:
            while True:
                self.buffer.wait(interval)
                if self._stop.is_set():
                    break
                self.cycle(force=False)
        finally:
            self._finish()

    def _finish(self) -> None:
        while time.monotonic() < self._deadline and (self._pending or len(self.buffer)):
            if not self.cycle(force=True):
                time.sleep(min(max(0.0, self._next_try - time.monotonic()), 0.05))
        left = self.pending_records + len(self.buffer.take(len(self.buffer)))
        if left:
            self.lost += left
            self.log.logger.error(
                "tracking closed with %d record(s) unsent (sink %r)", left, self.sink
            )
        for step in (self.sink.flush, self.sink.close):
            try:
                step()
            except Exception:
                self.log.logger.exception("tracking sink %r failed to %s", self.sink, step.__name__)

    def cycle(self, force: bool) -> bool:
        """Send what is ready; ``force`` sends partial batches too. False while backing off."""
        self._report_drops()
        batch = self.settings.batch
        most = min(self.settings.max_messages * batch, self.settings.queue_size)
        while True:
            if self._pending and not self._deliver():
                return False
            if not force and self._stop.is_set():
                return True  # close() takes over, with its deadline
            queued = len(self.buffer)
            take = min(queued - queued % batch, most)
            if take == 0 and queued:
                oldest = self.buffer.oldest_start()
                age = time.perf_counter() - (oldest or 0.0)
                if not force and oldest is not None and age < self._interval:
                    return True
                take = min(queued, most)
            if take == 0:
                return True
            self._encode(self.buffer.take(take))

    def _encode(self, items: list[Item]) -> None:
        """Items → pending messages: one JSON object each, or JSON arrays of ``batch``."""
        batch = self.settings.batch
        clock = time.time() - time.perf_counter()
        pending, counts = self._pending, self._pending_counts
        for start in range(0, len(items), batch):
            chunk = items[start : start + batch]
            try:
                if batch == 1:
                    pending.append(compact(encode_item(chunk[0], clock)))
                else:
                    pending.append(b"[" + b",".join([encode_item(i, clock) for i in chunk]) + b"]")
                counts.append(len(chunk))
            except Exception:  # noqa: BLE001 - one bad value must not stop tracking
                self.errors += 1
                self.lost += len(chunk)
                self.log.throttled_error(
                    "encode", "tracking could not encode a record", exc_info=True
                )

    def _deliver(self) -> bool:
        """Send the pending messages; False (and a retry scheduled) when some failed."""
        now = time.monotonic()
        if now < self._next_try:
            return False
        try:
            self.sink.send(self._pending)
        except SinkError as exc:
            failed = exc.failed if exc.failed is not None else range(len(self._pending))
            valid = sorted({i for i in failed if 0 <= i < len(self._pending)})
            self._failed(valid, str(exc), now)
            return False
        except Exception as exc:  # noqa: BLE001 - an unexpected sink error is retried too
            self._failed(list(range(len(self._pending))), f"{type(exc).__name__}: {exc}", now)
            return False
        self.sent += self.pending_records
        self._pending, self._pending_counts = [], []
        self._attempts = 0
        return True

    def _failed(self, failed: list[int], reason: str, now: float) -> None:
        counts = self._pending_counts
        self.sent += sum(counts) - sum(counts[i] for i in failed)
        self._pending = [self._pending[i] for i in failed]
        self._pending_counts = [counts[i] for i in failed]
        self.errors += 1
        self._attempts += 1
        if self._attempts > self.settings.max_retries:
            dropped = self.pending_records
            self.lost += dropped
            self._pending, self._pending_counts, self._attempts = [], [], 0
            self.log.logger.error(
                "tracking sink %r failed %d times (%s); dropped %d record(s)",
                self.sink,
                self.settings.max_retries + 1,
                reason,
                dropped,
            )
            return
        s = self.settings
        delay = Backoff(s.backoff_ms / 1000.0, s.max_backoff_ms / 1000.0).delay(self._attempts)
        self._next_try = now + delay
        self.retried += 1
        self.log.throttled_warning(
            "sink",
            "tracking sink %r failed (%s); retry %d in %.2fs, %d record(s) pending",
            self.sink,
            reason,
            self._attempts,
            delay,
            self.pending_records,
        )

    def _report_drops(self) -> None:
        dropped = self.buffer.counts()[3]
        if dropped > self._logged_drops and self.log.throttled_warning(
            "drops",
            "tracking queue full (queue_size=%d): %d record(s) dropped so far, oldest first",
            self.buffer.size,
            dropped,
        ):
            self._logged_drops = dropped
