"""What ``nuserve serve`` reads from a function.yaml besides the serving spec.

Stream triggers (``spec.triggers``) and the environment (``spec.env``), as Nuclio spells them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nuserve.errors import ConfigError

KIND = "kafka-cluster"
OFFSETS = ("earliest", "latest")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_MS_PER_UNIT = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}


@dataclass(frozen=True)
class KafkaTrigger:
    """A function.yaml ``kafka-cluster`` trigger (``spec.triggers.<name>.attributes``)."""

    name: str
    brokers: tuple[str, ...]
    topics: tuple[str, ...]
    consumer_group: str
    initial_offset: str = "earliest"
    num_workers: int = 1
    """Consumers (threads, same group) each worker process runs for this trigger."""
    session_timeout_ms: int | None = None
    """``sessionTimeout``: how long the group waits for a silent consumer (a killed one)
    before handing its partitions to another; the client's default is 45 s."""
    heartbeat_interval_ms: int | None = None
    """``heartbeatInterval``: how often the consumer tells the group it is alive."""

    @classmethod
    def from_attributes(cls, name: str, attributes: Mapping[str, Any]) -> KafkaTrigger:
        where = f"trigger {name!r} (spec.triggers.{name}.attributes)"
        brokers, topics = attributes.get("brokers"), attributes.get("topics")
        if isinstance(brokers, str):
            brokers = [b.strip() for b in brokers.split(",") if b.strip()]
        for field, value in (("brokers", brokers), ("topics", topics)):
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) for v in value)
            ):
                raise ConfigError(f"{where}: '{field}' must be a list of strings (got {value!r})")
        group = attributes.get("consumerGroup")
        if not isinstance(group, str) or not group:
            raise ConfigError(f"{where}: 'consumerGroup' must be a name (got {group!r})")
        offset = attributes.get("initialOffset", "earliest")
        if offset not in OFFSETS:
            raise ConfigError(
                f"{where}: 'initialOffset' must be earliest or latest (got {offset!r})"
            )
        workers = attributes.get("numWorkers", 1)
        if type(workers) is not int or workers < 1:
            raise ConfigError(f"{where}: 'numWorkers' must be an integer >= 1 (got {workers!r})")
        session = _millis(attributes.get("sessionTimeout"), where, "sessionTimeout")
        heartbeat = _millis(attributes.get("heartbeatInterval"), where, "heartbeatInterval")
        return cls(
            name, tuple(brokers), tuple(topics), group, offset, workers, session, heartbeat,  # type: ignore[arg-type]
        )  # fmt: skip

    def consumer_config(self) -> dict[str, Any]:
        """The librdkafka settings of this trigger's consumers (``nuserve.streams.kafka``
        adds the shared ones)."""
        config: dict[str, Any] = {
            "bootstrap.servers": ",".join(self.brokers),
            "group.id": self.consumer_group,
            "auto.offset.reset": self.initial_offset,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
        }
        if self.session_timeout_ms:
            config["session.timeout.ms"] = self.session_timeout_ms
        if self.heartbeat_interval_ms:
            config["heartbeat.interval.ms"] = self.heartbeat_interval_ms
        return config


def _millis(value: Any, where: str, field: str) -> int | None:
    """A Go duration (``"10s"``, ``"1m30s"``, ``"500ms"``) in milliseconds; ``None`` stays."""
    if value is None:
        return None
    text = value if isinstance(value, str) else ""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ConfigError(f'{where}: {field!r} must be a Go duration such as "10s" (got {value!r})')
    return round(sum(float(n) * _MS_PER_UNIT[u] for n, u in parts))


def read_doc(path: str | Path) -> dict[str, Any]:
    """The function.yaml as a dict; a JSON serving spec (not YAML) gives ``{}``."""
    path = Path(path)
    if path.suffix not in (".yaml", ".yml"):
        return {}
    import yaml  # noqa: PLC0415 - only for function.yaml files

    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path} must hold a YAML mapping (got {type(doc).__name__})")
    return doc


def kafka_triggers(path: str | Path) -> list[KafkaTrigger]:
    """The kafka-cluster triggers of a function.yaml; a JSON serving spec has none."""
    triggers = (read_doc(path).get("spec") or {}).get("triggers") or {}
    return [
        KafkaTrigger.from_attributes(name, _attributes(trigger))
        for name, trigger in triggers.items()
        if isinstance(trigger, dict) and trigger.get("kind") == KIND
    ]


def _attributes(trigger: dict[str, Any]) -> dict[str, Any]:
    """The trigger's attributes, with ``numWorkers`` from where Nuclio reads it (the trigger
    itself, as ``add_kafka_trigger`` writes it) when the attributes do not set it."""
    attributes = dict(trigger.get("attributes") or {})
    if "numWorkers" in trigger:
        attributes.setdefault("numWorkers", trigger["numWorkers"])
    return attributes


def function_env(path: str | Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """``spec.env`` entries with a plain value, as Nuclio sets them in the function's process.

    Entries that take their value from elsewhere (``valueFrom``: a Kubernetes secret or
    config map) cannot be resolved locally; set those in the shell instead.
    """
    env = (read_doc(path).get("spec") or {}).get("env") or []
    return {
        str(item["name"]): str(item["value"])
        for item in env
        if isinstance(item, dict) and item.get("name") and "value" in item
        if item["name"] not in skip
    }
