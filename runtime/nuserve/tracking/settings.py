"""TrackingSettings: how requests are sampled, queued, batched and sent (``spec.tracking``).

The dict form (``to_dict``/``from_dict``) is what the serving spec stores and what
``fn.set_tracking(...)`` writes; ``tracking_settings(...)`` builds and checks it, so a bad value
fails when the function is defined rather than when a worker starts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from nuserve.errors import ConfigError
from nuserve.streams.url import SCHEMES, parse_stream_url


@dataclass(frozen=True)
class TrackingSettings:
    """Typed tracking settings; every field but ``stream_path`` has a default."""

    stream_path: str
    """Where records go: ``kafka://host:port?topic=t``, ``v3io:///container/path``,
    ``file:///path/records.jsonl`` or ``memory://name``."""
    batch: int = 1
    """Records per message: 1 sends one JSON object per message, N > 1 a JSON array of N."""
    sample: int = 1
    """Keep exactly one request in ``sample`` (a counter, deterministic)."""
    sampling_percentage: float = 100.0
    """Keep this share of requests, in (0, 100] (random; see ``seed``)."""
    seed: int | None = None
    """Seed of the percentage sampler, for reproducible runs; None draws one."""
    queue_size: int = 10_000
    """Records the queue holds; when full the oldest is dropped and counted. The sender
    holds up to as many again while it sends them (and retries a failed send)."""
    flush_interval_ms: int = 100
    """How often the sender wakes; a partial batch waits at most two intervals."""
    max_messages: int = 2_000
    """Messages handed to the sink in one ``send`` call. A send waits for the sink's
    acknowledgement; larger sends spread that wait (and the GIL hand-back after it) over
    more records."""
    max_retries: int = 10
    """Retries of a failed send before its records are dropped (and counted)."""
    backoff_ms: int = 100
    """First retry delay; it doubles on each retry up to ``max_backoff_ms``."""
    max_backoff_ms: int = 5_000
    """The longest delay between two retries."""
    tracking_policy: dict[str, Any] = field(default_factory=dict)
    """Free-form policy for downstream monitoring (stored, not interpreted here)."""

    def __post_init__(self) -> None:
        _check_stream_path(self.stream_path)
        for name, low in (
            ("batch", 1),
            ("sample", 1),
            ("queue_size", 1),
            ("flush_interval_ms", 1),
            ("max_messages", 1),
            ("max_retries", 0),
            ("backoff_ms", 0),
            ("max_backoff_ms", 0),
        ):
            _check_int(name, getattr(self, name), low)
        pct = self.sampling_percentage
        if type(pct) not in (int, float) or not (0 < pct <= 100) or math.isnan(pct):
            raise ConfigError(
                f"tracking sampling_percentage must be a number in (0, 100] (got {pct!r}); "
                "use 10 to keep one request in ten"
            )
        if self.seed is not None and type(self.seed) is not int:
            raise ConfigError(f"tracking seed must be an int or None (got {self.seed!r})")
        if not isinstance(self.tracking_policy, dict):
            raise ConfigError(
                f"tracking_policy must be a dict (got {type(self.tracking_policy).__name__})"
            )

    @property
    def keep_share(self) -> float:
        """The share of requests tracked, in (0, 1]."""
        return self.sampling_percentage / 100.0 / self.sample

    @property
    def effective_sample_count(self) -> float:
        """How many requests each record stands for (``100 / percentage * sample``)."""
        return 100.0 / self.sampling_percentage * self.sample

    def to_dict(self) -> dict[str, Any]:
        """``stream_path`` and the fields that differ from their defaults (a short spec)."""
        defaults = TrackingSettings(self.stream_path)
        return {
            key: value
            for key, value in asdict(self).items()
            if key == "stream_path" or value != getattr(defaults, key)
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrackingSettings:
        """Build from ``spec.tracking``; unknown keys are an error that lists the known ones."""
        if not isinstance(data, dict):
            raise ConfigError(f"tracking settings must be a dict (got {type(data).__name__})")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"unknown tracking setting(s) {unknown}; known: {', '.join(sorted(known))}"
            )
        if "stream_path" not in data or data["stream_path"] is None:
            raise ConfigError(
                "tracking needs stream_path, e.g. 'kafka://broker:9092?topic=model-events' "
                f"(schemes: {', '.join(SCHEMES)})"
            )
        values = dict(data)
        if values.get("tracking_policy") is None:
            values.pop("tracking_policy", None)
        return cls(**values)


def tracking_settings(
    stream_path: str | None = None,
    batch: int | None = None,
    sample: int | None = None,
    sampling_percentage: float | None = None,
    tracking_policy: dict[str, Any] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The checked ``spec.tracking`` dict for ``fn.set_tracking(...)``.

    ``None`` leaves a setting at its default; ``options`` may name the other
    ``TrackingSettings`` fields (``queue_size``, ``flush_interval_ms``, ``max_retries``...).
    """
    given = {
        "stream_path": stream_path,
        "batch": batch,
        "sample": sample,
        "sampling_percentage": sampling_percentage,
        "tracking_policy": tracking_policy,
        **options,
    }
    return TrackingSettings.from_dict(
        {k: v for k, v in given.items() if v is not None or k == "stream_path"}
    ).to_dict()


def _check_int(name: str, value: Any, low: int) -> None:
    if type(value) is not int or value < low:
        raise ConfigError(f"tracking {name} must be an int >= {low} (got {value!r})")


def _check_stream_path(path: Any) -> None:
    """The whole URL is checked where it is set, not when the first record goes out."""
    parse_stream_url(path, "tracking stream_path", SCHEMES)
