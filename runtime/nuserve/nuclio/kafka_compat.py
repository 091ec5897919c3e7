"""Which Nuclio and Kafka versions commit a kafka-cluster trigger's offsets together.

Nuclio's kafka-cluster trigger is Sarama. Every Nuclio release up to 1.14.1 (the newest this
was checked against: ``go.mod`` of tags 1.11.x to 1.14.1) pins ``github.com/Shopify/sarama``
1.37.2, whose offset manager sends ``OffsetCommit`` v1 whatever the trigger's ``version``
attribute says. Kafka 4.0 removed ``OffsetCommit`` v0 and v1 (KIP-896), so on Kafka 4.x such
a processor consumes and answers but never commits: after any restart it replays the topic
from the last offset an older client committed, or from ``initialOffset`` (measured with
Nuclio 1.14.1's processor on Kafka 4.1.1: 501 of 2,000 answers duplicated after a kill).
Kafka 3.9 (the broker MLRun CE ships) still accepts v1, so the same processor commits there.

``replay_warnings`` reads a function config and says, per kafka trigger, when it points at
a combination known to replay (the trigger's ``version`` attribute names the broker's Kafka
version; without it nuserve cannot tell and says so).
"""

from __future__ import annotations

import logging
import re
from typing import Any

NEWEST_CHECKED_NUCLIO = (1, 14, 1)
"""The newest Nuclio release whose Sarama pin was read; later ones are not judged."""
FIRST_KAFKA_WITHOUT_V1_COMMIT = (4, 0)
"""Kafka 4.0 refuses OffsetCommit v0-v1 (KIP-896)."""
log = logging.getLogger("nuserve.nuclio")
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: Any) -> tuple[int, ...] | None:
    """``(major, minor, patch)`` of the first ``x.y[.z]`` in ``text``; ``None`` if none."""
    match = _VERSION.search(str(text)) if text is not None else None
    if match is None:
        return None
    return tuple(int(part or 0) for part in match.groups())


def replays(nuclio_version: str | None, kafka_version: str | None) -> bool | None:
    """Whether that Nuclio on that Kafka never commits offsets: ``True``, ``False``, or
    ``None`` when it cannot be told (a Kafka version not named, a Nuclio newer than checked).

    An unknown Nuclio version is taken to be the newest checked (1.14.1).
    """
    nuclio = parse_version(nuclio_version) or NEWEST_CHECKED_NUCLIO
    if nuclio > NEWEST_CHECKED_NUCLIO:
        return None
    kafka = parse_version(kafka_version)
    if kafka is None:
        return None
    return kafka[:2] >= FIRST_KAFKA_WITHOUT_V1_COMMIT


def replay_warnings(config: dict[str, Any], nuclio_version: str | None = None) -> list[str]:
    """One line per kafka-cluster trigger of ``config`` that will (or may) replay."""
    triggers = (config.get("spec") or {}).get("triggers") or {}
    nuclio = nuclio_version or ".".join(map(str, NEWEST_CHECKED_NUCLIO))
    checked = (parse_version(nuclio) or NEWEST_CHECKED_NUCLIO) <= NEWEST_CHECKED_NUCLIO
    lines: list[str] = []
    for name, trigger in triggers.items():
        if not isinstance(trigger, dict) or trigger.get("kind") != "kafka-cluster":
            continue
        kafka = (trigger.get("attributes") or {}).get("version")
        verdict = replays(nuclio_version, kafka)
        if verdict is True:
            lines.append(
                f"kafka trigger {name!r}: Nuclio {nuclio} (Sarama 1.37.2, OffsetCommit v1) "
                f"never commits offsets on Kafka {kafka} (Kafka 4.x refuses OffsetCommit v1): "
                "every restart replays the topic. Use a Kafka 3.x broker (3.9 commits), or a "
                "Nuclio release whose Sarama speaks OffsetCommit v2+"
            )
        elif verdict is None and kafka is None and checked:
            lines.append(
                f"kafka trigger {name!r}: Nuclio {nuclio} commits offsets only on Kafka "
                "below 4.0 (on 4.x it never commits, and a restart replays the topic); "
                "name the broker's version (add_kafka_trigger(kafka_version=...), the "
                "trigger's 'version' attribute) to have it checked"
            )
    return lines


def warn_replays(config: dict[str, Any], nuclio_version: str | None = None) -> list[str]:
    """``replay_warnings``, each also logged as a warning."""
    lines = replay_warnings(config, nuclio_version)
    for line in lines:
        log.warning("%s", line)
    return lines
