"""Nuclio stream triggers (``kafka-cluster``, ``v3ioStream``) in the form function.yaml takes.

Every trigger sets ``numWorkers`` (Nuclio's kafka default is 32 workers), and explicit ack
always comes with the static worker allocation it requires.
"""

from __future__ import annotations

from typing import Any

from nuserve.errors import ConfigError
from nuserve.nuclio.function_spec import one_of, positive_int, text
from nuserve.nuclio.kafka_compat import parse_version

DEFAULT_WEBAPI = "http://v3io-webapi:8081"
"""The v3io web API service inside an Iguazio cluster."""
ALLOCATION_MODES = ("pool", "static")
OFFSETS = ("earliest", "latest")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def _names(value: Any, what: str) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ConfigError(f"{what} must be a non-empty list of strings (got {value!r})")
    return [text(item, what).strip() for item in items]


def _merge(attributes: dict[str, Any], extra: dict[str, Any] | None, what: str) -> None:
    clash = sorted(set(extra or {}) & set(attributes))
    if clash:
        raise ConfigError(
            f"{what}: extra_attributes {clash} repeat attributes set by the named arguments; "
            "pass them as arguments instead"
        )
    attributes.update(extra or {})


def kafka_trigger(
    name: str,
    brokers: str | list[str],
    topics: str | list[str],
    consumer_group: str = "nuserve",
    initial_offset: str = "earliest",
    workers: int = 1,
    worker_allocation_mode: str = "pool",
    sasl: dict[str, Any] | None = None,
    explicit_ack: bool = False,
    extra_attributes: dict[str, Any] | None = None,
    kafka_version: str | None = None,
) -> dict[str, Any]:
    """A ``kafka-cluster`` trigger; explicit ack switches to static worker allocation.

    ``kafka_version`` (the broker's, e.g. ``"3.9.0"``) goes in the ``version`` attribute;
    ``nuserve deploy`` reads it to warn of a Nuclio/Kafka pair that never commits offsets
    (``nuserve.nuclio.kafka_compat``)."""
    what = f"kafka trigger {name!r}"
    mode = one_of(worker_allocation_mode, ALLOCATION_MODES, f"{what} worker_allocation_mode")
    attributes: dict[str, Any] = {
        "brokers": _names(brokers, f"{what} brokers"),
        "topics": _names(topics, f"{what} topics"),
        "consumerGroup": text(consumer_group, f"{what} consumer_group"),
        "initialOffset": one_of(initial_offset, OFFSETS, f"{what} initial_offset"),
        "workerAllocationMode": "static" if explicit_ack else mode,
    }
    if kafka_version is not None:
        if parse_version(kafka_version) is None:
            raise ConfigError(f"{what} kafka_version must be like '3.9.0' (got {kafka_version!r})")
        attributes["version"] = str(kafka_version)
    if sasl is not None:
        attributes["sasl"] = _sasl(sasl, what)
    _merge(attributes, extra_attributes, what)
    trigger: dict[str, Any] = {
        "kind": "kafka-cluster",
        "numWorkers": positive_int(workers, f"{what} workers"),
    }
    if explicit_ack:
        trigger["explicitAckMode"] = "enable"
    trigger["attributes"] = attributes
    return trigger


def _sasl(sasl: Any, what: str) -> dict[str, Any]:
    keys = {"user", "password", "mechanism", "handshake"}
    if not isinstance(sasl, dict) or not set(sasl) <= keys or not {"user", "password"} <= set(sasl):
        raise ConfigError(
            f"{what} sasl must be a dict with 'user' and 'password' and optionally 'mechanism' "
            f"({', '.join(SASL_MECHANISMS)}) and 'handshake' (got keys "
            f"{sorted(sasl) if isinstance(sasl, dict) else type(sasl).__name__})"
        )
    result: dict[str, Any] = {
        "enable": True,
        "user": text(sasl["user"], f"{what} sasl user"),
        "password": text(sasl["password"], f"{what} sasl password"),
        "mechanism": one_of(sasl.get("mechanism", "PLAIN"), SASL_MECHANISMS, f"{what} mechanism"),
    }
    if "handshake" in sasl:
        result["handshake"] = bool(sasl["handshake"])
    return result


def v3io_stream_trigger(
    name: str,
    stream_path: str,
    consumer_group: str = "nuserve",
    seek_to: str = "latest",
    workers: int = 1,
    container: str | None = None,
    webapi: str = DEFAULT_WEBAPI,
    access_key: str | None = None,
    explicit_ack: bool = False,
    extra_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``v3ioStream`` trigger for ``v3io:///<container>/<path>`` (or container= and a path)."""
    what = f"v3io stream trigger {name!r}"
    container, path = split_stream_path(stream_path, container, what)
    attributes: dict[str, Any] = {
        "containerName": container,
        "streamPath": path,
        "consumerGroup": text(consumer_group, f"{what} consumer_group"),
        "seekTo": one_of(seek_to, OFFSETS, f"{what} seek_to"),
    }
    if explicit_ack:
        attributes["workerAllocationMode"] = "static"
    _merge(attributes, extra_attributes, what)
    trigger: dict[str, Any] = {
        "kind": "v3ioStream",
        "numWorkers": positive_int(workers, f"{what} workers"),
        "url": text(webapi, f"{what} webapi"),
    }
    if access_key is not None:
        trigger["password"] = text(access_key, f"{what} access_key")
    if explicit_ack:
        trigger["explicitAckMode"] = "enable"
    trigger["attributes"] = attributes
    return trigger


def split_stream_path(stream_path: Any, container: str | None, what: str) -> tuple[str, str]:
    """``(container, "/path")`` from ``v3io:///container/path`` or from container + path."""
    path = text(stream_path, f"{what} stream_path")
    if path.startswith("v3io://"):
        rest = path[len("v3io://") :]
        parts = rest[1:].split("/", 1) if rest.startswith("/") else []
        if container is not None or len(parts) != 2 or not parts[0] or not parts[1].strip("/"):
            raise ConfigError(
                f"{what} stream_path {stream_path!r} must be v3io:///<container>/<path> (three "
                "slashes, no host: the web API URL goes in webapi=), without container="
            )
        return parts[0], "/" + parts[1].strip("/")
    if container is None:
        raise ConfigError(
            f"{what} stream_path {stream_path!r} has no container; pass "
            f"v3io:///<container>/{path.strip('/')} or container="
        )
    return text(container, f"{what} container"), "/" + path.strip("/")


def check_trigger(name: Any, spec: Any) -> None:
    """A trigger given in Nuclio's form must name its kind and set numWorkers."""
    if not isinstance(name, str) or not name or name == "http":
        raise ConfigError(
            f"trigger name {name!r} is not allowed: use a non-empty name other than 'http' "
            "(the HTTP trigger is configured with with_http())"
        )
    kind = spec.get("kind") if isinstance(spec, dict) else None
    if not isinstance(kind, str) or kind == "http":
        raise ConfigError(
            f"trigger {name!r} needs a 'kind' such as 'kafka-cluster', 'v3ioStream' or "
            f"'cron' (got {kind!r}); the HTTP trigger is configured with with_http()"
        )
    if not isinstance(spec.get("numWorkers"), int) or "maxWorkers" in spec:
        raise ConfigError(
            f"trigger {name!r} must set numWorkers (an integer >= 1; got "
            f"{spec.get('numWorkers')!r}): Nuclio's default differs by kind (32 for "
            "kafka-cluster), and maxWorkers is its deprecated spelling"
        )
    positive_int(spec["numWorkers"], f"trigger {name!r} numWorkers")
