"""kafka-cluster triggers for ``nuserve serve``: one consumer thread per trigger and worker.

Each message becomes a real ``nuclio_sdk.Event`` with exactly the fields and types Nuclio's
wrapper hands the handler for it (``kafka_event``). It runs on the worker's
event loop, the same handler as HTTP requests, and its offset is stored and committed only
after the handler answered (at-least-once: a crash replays unanswered messages).

The handler writes the answer to the function's output or error stream before it returns
(``nuserve.nuclio.stream_output``). An answer marked ``x-nuclio-stream-no-ack`` is committed only
once the handler acked it through ``context.platform.explicit_ack`` (recorded in ``Acks``,
the platform's control callback, as Nuclio's processor would); one not acked (its stream
write failed) is delivered again, after a growing pause, rather than skipped.
``confluent_kafka`` is imported only when a function has a kafka-cluster trigger.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import nuclio_sdk
import orjson

from nuserve.event import new_event_id
from nuserve.nuclio.stream_output import NO_ACK
from nuserve.serve.function_yaml import KIND, KafkaTrigger, kafka_triggers
from nuserve.serve.throttle import Throttle
from nuserve.streams import kafka
from nuserve.streams.retry import Backoff

Handle = Callable[[Any], Coroutine[Any, Any, Any]]
"""Runs one ``nuclio_sdk.Event`` on the worker's loop and returns the ``nuclio_sdk.Response``."""
OnResult = Callable[[Any, Any], None]
"""Called in the consumer thread with ``(event, response)`` before the offset is committed."""
REDELIVERY = Backoff(first=0.2, ceiling=5.0)
"""The pause before an unacked message is handed out again."""
"""Pause before delivering an unacked message again; it doubles up to the maximum."""
log = logging.getLogger("nuserve.serve.kafka")
__all__ = [
    "KIND",
    "Acks",
    "Handle",
    "KafkaConsumer",
    "KafkaTrigger",
    "OnResult",
    "kafka_event",
    "kafka_triggers",
    "no_result",
    "start_consumers",
    "stop_consumers",
]


def no_result(event: Any, response: Any) -> None:
    """The default ``on_result``: nothing. It is a hook for observers; the handler itself
    writes the output and dead-letter streams, as it does under Nuclio."""


class Acks:
    """Offsets the handler acked with ``context.platform.explicit_ack``, per trigger.

    ``control`` is the ``on_control_callback`` of the trigger's ``nuclio_sdk.Platform``; the
    consumer that delivered a message takes its ack after the handler answered.
    """

    def __init__(self) -> None:
        self._acked: set[tuple[str, int, int]] = set()
        self._lock = threading.Lock()

    async def control(self, message: dict[str, Any]) -> None:
        if message.get("kind") == "streamMessageAck":
            at = message.get("attributes") or {}
            with self._lock:
                self._acked.add((str(at.get("topic")), int(at["partition"]), int(at["offset"])))

    def take(self, topic: str, partition: int, offset: int) -> bool:
        """Whether that offset was acked (forgetting it)."""
        with self._lock:
            found = (topic, partition, offset) in self._acked
            self._acked.discard((topic, partition, offset))
            return found


NO_TIMESTAMP = datetime(1, 1, 1)
"""The timestamp of a message without one (Sarama's zero ``time.Time``)."""


def kafka_event(message: Any, trigger: Any) -> nuclio_sdk.Event:
    """The ``nuclio_sdk.Event`` Nuclio 1.14's wrapper hands the handler for a Kafka message.

    Field by field as the processor encodes it (``pkg/processor/trigger/kafka/event.go`` and
    ``rpc/encoder``) and ``nuclio_sdk.Event.deserialize`` reads it: the value as bytes, never
    decoded (``None`` for a null value, a tombstone), ``size`` its length, ``path`` and
    ``topic`` the topic, headers ``{str: bytes}`` (``None`` for a null header value),
    ``content_type``, ``method``, ``url``, ``type``, ``type_version`` and ``version`` all
    ``''``, ``num_shards`` 0, a naive UTC timestamp in whole seconds, no ``fields``; the
    message key is not exposed. Only the id differs: Nuclio's is one per worker, this one is
    new per message (the adapter replaces a repeated one anyway).
    """
    topic, value = message.topic(), message.value()
    stamp_type, stamp = message.timestamp()
    timestamp = (
        datetime.fromtimestamp(stamp // 1000, UTC).replace(tzinfo=None)
        if stamp_type
        else NO_TIMESTAMP
    )
    return nuclio_sdk.Event(
        body=value,
        content_type="",
        trigger=trigger,
        fields=None,
        headers=dict(message.headers() or ()),
        _id=new_event_id(),
        method="",
        path=topic,
        size=len(value) if value is not None else 0,
        timestamp=timestamp,
        url="",
        shard_id=message.partition(),
        num_shards=0,
        _type="",
        type_version="",
        version="",
        offset=message.offset(),
        topic=topic,
    )


class KafkaConsumer:
    """One consumer of a trigger, polling in a daemon thread; ``stop`` then ``join``."""

    def __init__(
        self,
        trigger: KafkaTrigger,
        handle: Handle,
        loop: asyncio.AbstractEventLoop,
        on_result: OnResult = no_result,
        poll_timeout: float = 0.5,
        stop_timeout: float = 10.0,
        acks: Acks | None = None,
    ) -> None:
        client = kafka.client()
        self.kafka_error: type[Exception] = client.KafkaException
        self.topic_partition = client.TopicPartition
        self.trigger, self.handle, self.loop, self.on_result = trigger, handle, loop, on_result
        self.poll_timeout, self.stop_timeout = poll_timeout, stop_timeout
        self.acks = acks
        self.unacked = 0
        """Deliveries in a row that the handler did not ack (sets the pause before the next)."""
        self.info = nuclio_sdk.TriggerInfo(KIND, trigger.name)
        settings = trigger.consumer_config()
        brokers, group = settings.pop("bootstrap.servers"), settings.pop("group.id")
        self.consumer = kafka.consumer(brokers, group, f"trigger {trigger.name!r}", **settings)
        self.stopping = threading.Event()
        self.stop_requested_at = 0.0
        self.throttle = Throttle()
        self.thread = threading.Thread(target=self._run, name=f"kafka-{trigger.name}", daemon=True)

    def start(self) -> KafkaConsumer:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Ask the thread to stop after the message in hand (waited for up to stop_timeout)."""
        self.stop_requested_at = time.monotonic()
        self.stopping.set()

    def join(self, timeout: float) -> bool:
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def _run(self) -> None:
        consumer = self.consumer
        try:
            consumer.subscribe(list(self.trigger.topics))
            while not self.stopping.is_set():
                message = consumer.poll(self.poll_timeout)
                if message is None:
                    continue
                error = message.error()
                if error is not None:
                    self._warn("trigger %s: %s", self.trigger.name, kafka.describe(error))
                    continue
                self._process(message)
        except Exception:
            log.exception("trigger %s: the consumer stopped", self.trigger.name)
        finally:
            self._close()

    def _process(self, message: Any) -> None:
        event = kafka_event(message, self.info)
        response = self._wait(asyncio.run_coroutine_threadsafe(self.handle(event), self.loop))
        if response is None:
            return  # not committed: the message is delivered again
        try:
            self.on_result(event, response)
        except Exception as exc:  # noqa: BLE001 - logged (throttled); the message is still committed
            text = "trigger %s: on_result raised: %s: %s"
            name = self.trigger.name
            self._warn(text, name, type(exc).__name__, exc, level=logging.ERROR, exc_info=exc)
        if response.status_code >= 400:
            self._warn(
                "trigger %s: %s[%d]@%d answered %d: %.300r",
                *(self.trigger.name, event.topic, event.shard_id, event.offset),
                *(response.status_code, response.body),
            )
        if NO_ACK in response.headers and not (
            self.acks is not None and self.acks.take(event.topic, event.shard_id, event.offset)
        ):
            self._deliver_again(message)
            return
        self.unacked = 0
        try:
            self.consumer.store_offsets(message=message)
            self.consumer.commit(asynchronous=True)
        except self.kafka_error as exc:  # e.g. the partition was revoked meanwhile
            self._warn("trigger %s: cannot commit %s: %s", self.trigger.name, event.offset, exc)

    def _deliver_again(self, message: Any) -> None:
        """Rewind to an unacked message, so the next poll hands it out again, after a pause."""
        self.unacked += 1
        pause = REDELIVERY.delay(self.unacked)
        where = (message.topic(), message.partition(), message.offset())
        text = "trigger %s: %s[%d]@%d not acked; delivering it again in %.1fs"
        self._warn(text, self.trigger.name, *where, pause)
        try:
            self.consumer.seek(self.topic_partition(*where))
        except self.kafka_error as exc:  # revoked meanwhile: its next owner delivers it
            self._warn("trigger %s: cannot rewind to %s: %s", self.trigger.name, where, exc)
        self.stopping.wait(pause)

    def _wait(self, future: concurrent.futures.Future[Any]) -> Any:
        """The handler's response; ``None`` when abandoned at shutdown or cancelled."""
        while not future.done():
            concurrent.futures.wait([future], self.poll_timeout)
            late = time.monotonic() - self.stop_requested_at > self.stop_timeout
            if not future.done() and (self.loop.is_closed() or (self.stopping.is_set() and late)):
                future.cancel()
                return None
        if future.cancelled():
            return None
        exc = future.exception()
        if exc is None:
            return future.result()
        log.error("trigger %s: the handler raised", self.trigger.name, exc_info=exc)
        body = orjson.dumps({"error": f"internal error: {type(exc).__name__}: {exc}", "id": ""})
        return nuclio_sdk.Response(body=body, content_type="application/json", status_code=500)

    def _warn(
        self,
        text: str,
        *args: Any,
        level: int = logging.WARNING,
        exc_info: BaseException | None = None,
    ) -> None:
        """Log at most once per throttle interval (a loop must not flood the log)."""
        held = self.throttle.allow()
        if held is not None:
            log.log(level, text + self.throttle.note(held), *args, exc_info=exc_info)

    def _close(self) -> None:
        with contextlib.suppress(self.kafka_error):  # nothing stored since the last commit
            self.consumer.commit(asynchronous=False)
        try:
            self.consumer.close()
        except Exception:
            log.exception("trigger %s: closing the consumer failed", self.trigger.name)


def start_consumers(
    triggers: list[KafkaTrigger],
    handle: Handle,
    loop: asyncio.AbstractEventLoop,
    on_result: OnResult = no_result,
    acks: dict[str, Acks] | None = None,
) -> list[KafkaConsumer]:
    """Start ``num_workers`` consumers per trigger (call from the worker's loop thread);
    ``acks`` holds each trigger's explicit acks (by trigger name)."""
    acks = acks or {}
    return [
        KafkaConsumer(trigger, handle, loop, on_result, acks=acks.get(trigger.name)).start()
        for trigger in triggers
        for _ in range(trigger.num_workers)
    ]


def stop_consumers(consumers: list[KafkaConsumer], timeout: float = 15.0) -> None:
    """Stop all consumers; waits at most ``timeout`` seconds in all (blocking: use a thread)."""
    for consumer in consumers:
        consumer.stop()
    deadline = time.monotonic() + timeout
    for consumer in consumers:
        if not consumer.join(max(0.0, deadline - time.monotonic())):
            log.warning("trigger %s: consumer still busy at shutdown", consumer.trigger.name)
